"""A student's session: :func:`start`, :class:`Exercise`, and the registry of answer keys."""

from __future__ import annotations

import html
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from . import DATA
from .feedback import (
    PLACEHOLDER_STUDENT_ID,
    ExerciseSpec,
    Feedback,
    Report,
    _fmt_points,
    normalize_student_id,
    student_seed,
)

#: Set by the grader in the kernel of its second run: ``start()`` then makes the data of this
#: secret id instead of the notebook's own (an answer computed in code follows the data).
VARIANT_ENV = "MULTILEVEL_GRADE_VARIANT"


# --------------------------------------------------------------------------------------------
# The registry of answer keys
# --------------------------------------------------------------------------------------------
class _Keys(Mapping[str, ExerciseSpec]):
    """Read-only ``name -> ExerciseSpec``: :data:`multilevel.exercises.keys.SPECS`.

    Imported on first use (the key modules build on this one). Where the keys are hidden (a
    notebook the grader runs) the mapping is empty.
    """

    def _specs(self) -> Mapping[str, ExerciseSpec]:
        try:
            from .keys import SPECS  # lazily: the keys import the whole modelling package
        except ImportError:
            return {}
        return SPECS

    def __getitem__(self, name: str) -> ExerciseSpec:
        return self._specs()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs()))

    def __len__(self) -> int:
        return len(self._specs())


EXERCISES: Mapping[str, ExerciseSpec] = _Keys()


def exercise_names() -> tuple[str, ...]:
    """Names of all exercises, e.g. ``("lesson1", ..., "lesson9")``."""
    return tuple(sorted(DATA))


def _spec(exercise: str) -> ExerciseSpec:
    if not isinstance(exercise, str) or exercise not in exercise_names():
        raise ValueError(f"exercise must be one of {', '.join(exercise_names())}, got {exercise!r}")
    return EXERCISES[exercise]


def grade_answers(exercise: str, student_id: object, answers: Mapping[str, Any]) -> Report:
    """Grade a whole submission: ``answers`` maps question ids to answers (raw, Answer or JSON).

    Examples
    --------
    >>> report = grade_answers("lesson1", "ada", {"q1": ...})   # doctest: +SKIP
    >>> report.score, report.max_score                           # doctest: +SKIP
    (0.0, 10.0)
    """
    return _spec(exercise).grade_answers(student_id, answers)


# --------------------------------------------------------------------------------------------
# The notebook side
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Progress:
    """Where a student stands: the latest check of every question."""

    exercise: str
    rows: tuple[tuple[str, str, float, float], ...]

    @property
    def score(self) -> float:
        """Points earned in the latest checks."""
        return float(sum(r[2] for r in self.rows))

    @property
    def max_score(self) -> float:
        """Points available."""
        return float(sum(r[3] for r in self.rows))

    def to_frame(self) -> pd.DataFrame:
        """Columns ``question, status, points, max_points``."""
        return pd.DataFrame(self.rows, columns=["question", "status", "points", "max_points"])

    def __str__(self) -> str:
        lines = [
            f"{self.exercise}: {_fmt_points(self.score)}/{_fmt_points(self.max_score)} points "
            "in your latest checks"
        ]
        lines += [f"  {q}: {s} ({_fmt_points(p)}/{_fmt_points(m)})" for q, s, p, m in self.rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(q)}</td><td>{html.escape(s)}</td>"
            f"<td>{_fmt_points(p)}/{_fmt_points(m)}</td></tr>"
            for q, s, p, m in self.rows
        )
        return (
            f"<p><b>{html.escape(self.exercise)}: {_fmt_points(self.score)}/"
            f"{_fmt_points(self.max_score)} points in your latest checks</b></p>"
            f"<table><tr><th>question</th><th>status</th><th>points</th></tr>{body}</table>"
        )


class Exercise:
    """One student's session on one exercise; made by :func:`start`.

    Attributes
    ----------
    name : str
    student_id : str
        The normalised id.
    spec : ExerciseSpec or None
        The answer key; None where it is hidden (a notebook being graded): ``check`` then says
        that the grader checks the answers.
    data : SimulatedData
        The student's own data.
    seed : int
        The seed of ``data``; ``simdata`` functions accept it as ``seed=ex.seed``.
    """

    def __init__(
        self, spec: ExerciseSpec | None, student_id: str, *, name: str = "", data_id: str = ""
    ) -> None:
        self.spec = spec
        self.name = spec.name if spec is not None else name
        self.student_id = student_id
        self.seed = student_seed(self.name, data_id or student_id)
        self.data = DATA[self.name](self.seed)
        self._latest: dict[str, Feedback] = {}

    def __repr__(self) -> str:
        if self.spec is None:
            return f"Exercise {self.name!r} for student {self.student_id!r}"
        return (
            f"Exercise {self.name!r} for student {self.student_id!r}: "
            f"{len(self.spec.questions)} questions, {_fmt_points(self.spec.max_points)} points"
        )

    def check(self, question_id: str, answer: Any) -> Feedback:
        """Check one answer now; returns :class:`Feedback` (shown when it ends a cell).

        Never raises: a wrong type, ``...``, ``None`` or NaN gives a friendly message.

        Examples
        --------
        >>> ex = start("lesson1", "ada")   # doctest: +SKIP
        >>> ex.check("q1", 8)              # doctest: +SKIP
        ✔ q1: correct (1/1 points). Correct: 8.
        """
        if self.spec is None:
            return Feedback(
                str(question_id),
                "unanswered",
                0.0,
                0.0,
                "No instant feedback here: the grader checks this answer with its own key.",
            )
        try:
            expected = self.spec.expected(self.student_id)
            feedback = self.spec.grade(str(question_id), answer, expected)
        except Exception as error:
            feedback = Feedback(
                str(question_id),
                "invalid",
                0.0,
                0.0,
                f"The checker could not run ({type(error).__name__}: {error}).",
            )
        if feedback.max_points:
            self._latest[feedback.question] = feedback
        return feedback

    def progress(self) -> Progress:
        """A table of every question: its latest status and points."""
        rows = []
        for q in self.spec.questions if self.spec is not None else ():
            f = self._latest.get(q.id)
            rows.append((q.id, f.status if f else "not checked", f.points if f else 0.0, q.points))
        return Progress(self.name, tuple(rows))


class _Notice:
    """A short message that shows as text or HTML (not a warning: nothing on stderr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return (
            '<div style="background:#fff4e0;border-left:6px solid #E69F00;padding:6px 10px;'
            f'color:#222;font-family:sans-serif">{html.escape(self.text)}</div>'
        )


def start(exercise: str, student_id: object) -> Exercise:
    """Start an exercise: make this student's data and return the :class:`Exercise`.

    Parameters
    ----------
    exercise : str
        ``"lesson1"`` ... ``"lesson9"`` (:func:`exercise_names`).
    student_id : str
        Your student id. Left as ``"your-student-id"``, you get practice data and a reminder;
        your answers would then be graded against the wrong data.

    Raises
    ------
    ValueError
        If ``exercise`` is unknown or ``student_id`` is empty or not text.

    Examples
    --------
    >>> ex = start("lesson2", "ada-lovelace")   # doctest: +SKIP
    >>> ex.data.data.head()                     # doctest: +SKIP
    """
    if not isinstance(exercise, str) or exercise not in exercise_names():
        raise ValueError(f"exercise must be one of {', '.join(exercise_names())}, got {exercise!r}")
    sid = normalize_student_id(student_id)
    spec = EXERCISES.get(exercise)
    # The grader's second run: the data of a secret id, so that only computed answers follow.
    variant = os.environ.get(VARIANT_ENV, "")
    ex = Exercise(spec, sid, name=exercise, data_id=variant)
    if sid == PLACEHOLDER_STUDENT_ID:
        _show(
            _Notice(
                f"STUDENT_ID is still {PLACEHOLDER_STUDENT_ID!r}. Put your own student id in the "
                "first code cell and run the notebook again from the top: your data, and so your "
                "answers, depend on it. (For now you get practice data.)"
            )
        )
    return ex


def _show(obj: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(obj)
            return
    except ImportError:
        pass
    print(repr(obj))
