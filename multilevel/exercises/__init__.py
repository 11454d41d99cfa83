"""The graded exercises: each student's data (public) and the answer keys (private).

``lessonN.make_data(seed)`` makes a student's data; notebooks reach it through
:func:`multilevel.checks.start`. The answer keys (questions, reference solutions, typical
mistakes) live in :mod:`multilevel.exercises.keys`; the grader hides that folder from the
notebooks it runs, so a graded notebook cannot read its key, while instant feedback in a
student's own JupyterLab uses it.

Both registries are explicit: a new exercise is added to ``DATA`` here and to ``SPECS`` in
``keys/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8, lesson9

#: Exercise name -> ``make_data(seed)`` (public: a graded notebook needs its data).
DATA: dict[str, Callable[[int], Any]] = {
    "lesson1": lesson1.make_data,
    "lesson2": lesson2.make_data,
    "lesson3": lesson3.make_data,
    "lesson4": lesson4.make_data,
    "lesson5": lesson5.make_data,
    "lesson6": lesson6.make_data,
    "lesson7": lesson7.make_data,
    "lesson8": lesson8.make_data,
    "lesson9": lesson9.make_data,
}
