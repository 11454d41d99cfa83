"""The graded exercises: each student's data (public) and the answer keys (private).

``DATA[name](seed)`` makes a student's data, from the exercise's recipe in :mod:`.data`;
notebooks reach it through :func:`multilevel.checks.start`. The answer keys (questions, reference solutions, typical
mistakes) live in :mod:`multilevel.exercises.keys`; the grader hides that folder from the
notebooks it runs, so a graded notebook cannot read its key, while instant feedback in a
student's own JupyterLab uses it.

Both registries are explicit: a new exercise is added to ``DATA`` here and to ``SPECS`` in
``keys/__init__.py``.
"""

from __future__ import annotations

from .data import DATA

__all__ = ["DATA"]
