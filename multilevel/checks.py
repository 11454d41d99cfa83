"""Instant feedback for the graded exercises, and the answer keys the gradebook uses.

Students call this from an exercise notebook; the instructor's gradebook (``multilevel.grade``)
calls the same answer keys, so a notebook check and the gradebook always agree.

In a notebook
-------------
>>> import multilevel as ml
>>> STUDENT_ID = "ada-lovelace"
>>> ex = ml.checks.start("lesson2", STUDENT_ID)   # doctest: +SKIP
>>> ex.data                      # this student's own SimulatedData   # doctest: +SKIP
>>> q1 = 8123.4
>>> ex.check("q1", q1)           # shows pass / fail with a hint      # doctest: +SKIP
>>> ex.progress()                # a table of every question so far   # doctest: +SKIP

The answer to question ``"qN"`` lives in a notebook variable named ``qN``; an unanswered question
holds the placeholder ``...`` (Ellipsis). ``check`` never raises: a wrong type, ``None``, ``...``,
NaN or an unknown question id gives a friendly message instead of a traceback.

For the gradebook (API contract)
--------------------------------
``EXERCISES``
    Read-only mapping ``name -> ExerciseSpec`` (``"lesson1"`` ... ``"lesson9"``).
    ``exercise_names()`` lists them. An exercise notebook names its exercise in its notebook
    metadata: ``nb.metadata["multilevel"]["exercise"]``, and its first code cell is
    ``STUDENT_ID = "..."``. ``PLACEHOLDER_STUDENT_ID`` is the unedited value.
``ExerciseSpec``
    ``.name``, ``.title``, ``.questions`` (tuple of ``Question``: ``id``, ``points``, ``prompt``,
    ``kind`` in ``{"numeric", "choice", "category"}``, ``unit``, tolerances, ``choices``),
    ``.question_ids``, ``.max_points``,
    ``.data(student_id) -> SimulatedData``, ``.seed(student_id) -> int``,
    ``.expected(student_id) -> Expected`` (cached; computed by the reference solution on the
    student's data with the package's own functions),
    ``.grade(question_id, answer, expected) -> Feedback``,
    ``.grade_answers(student_id, answers) -> Report``.
``grade_answers(exercise, student_id, answers) -> Report``
    ``answers`` maps question ids to answers: raw Python values, ``Answer`` objects, or the JSON
    dicts of ``Answer.to_json()``; a missing id counts as unanswered. ``Report`` has
    ``feedback`` (tuple of ``Feedback``), ``score``, ``max_score`` and ``to_frame()``.
``describe_answer(value) -> Answer``
    Turns whatever a student stored in ``qN`` into plain data: ``Answer.to_json()`` is a small
    JSON-able dict, ``Answer.from_json(d)`` rebuilds it. Run it inside the student's kernel and
    send the JSON out, then grade it in the grader's own process: grading never touches a
    student's objects (a student's ``__eq__`` cannot make a wrong answer right).
``Feedback``
    ``question``, ``status`` (``"correct"``, ``"incorrect"``, ``"unanswered"``, ``"invalid"``),
    ``correct`` (bool), ``points``, ``max_points``, ``message`` (plain English, one or two
    sentences). Shows as coloured HTML in JupyterLab and as one line of text elsewhere.
``student_seed(exercise, student_id) -> int``
    Stable across runs, machines and Python versions (SHA-256 of exercise name and the
    normalised id: surrounding spaces removed, case folded); never Python's ``hash()``.
"""

from __future__ import annotations

from .exercises.answers import Answer, describe_answer
from .exercises.feedback import (
    PLACEHOLDER_STUDENT_ID,
    ExerciseSpec,
    Expected,
    Feedback,
    Mistake,
    Question,
    Report,
    Solution,
    normalize_student_id,
    student_seed,
)
from .exercises.session import (
    EXERCISES,
    VARIANT_ENV,
    Exercise,
    Progress,
    exercise_names,
    grade_answers,
    start,
)

__all__ = [
    "EXERCISES",
    "PLACEHOLDER_STUDENT_ID",
    "VARIANT_ENV",
    "Answer",
    "Exercise",
    "ExerciseSpec",
    "Expected",
    "Feedback",
    "Mistake",
    "Progress",
    "Question",
    "Report",
    "Solution",
    "describe_answer",
    "exercise_names",
    "grade_answers",
    "normalize_student_id",
    "start",
    "student_seed",
]
