"""A tiny answer key for the grader's tests: q1 and q3 depend on the student's seed, q2 does not.

The expected answers (:func:`tiny_answers`) are derived here from the seed, independently of
the grader, so a test can tell a right grade from a wrong one.
"""

from __future__ import annotations

from multilevel.checks import ExerciseSpec, Question, Solution, student_seed


def _solve(seed: int) -> Solution:
    return Solution(answers={"q1": float(seed % 1000), "q2": "B", "q3": float(seed % 7 * 10 + 3)})


def _make_data(seed: int) -> int:
    return seed


def tiny_exercise(name: str) -> ExerciseSpec:
    """The tiny key under ``name`` (the name also decides each student's seed)."""
    return ExerciseSpec(
        name=name,
        title="Test-only exercise",
        questions=(
            Question("q1", 2, "seed mod 1000", abs_tol=0.5),
            Question("q2", 1, "pick B", kind="choice", choices={"A": "no", "B": "yes"}),
            Question("q3", 3, "seed mod 7 times 10 plus 3", abs_tol=0.5),
        ),
        make_data=_make_data,
        solve=_solve,
    )


def tiny_answers(name: str, student_id: str) -> dict[str, float | str]:
    """The right answers of ``student_id`` to the tiny key named ``name``."""
    seed = student_seed(name, student_id)
    return {"q1": seed % 1000, "q2": "B", "q3": seed % 7 * 10 + 3}
