"""Answer keys of the graded exercises, one module per exercise (``lesson1`` ... ``lesson6``).

Each module defines ``SPEC``, a :class:`multilevel.checks.ExerciseSpec`: the questions, how a
student's data is made from their seed, and the reference solution that computes the expected
answers from that data with the package's own functions. Use them through
:data:`multilevel.checks.EXERCISES`.
"""
