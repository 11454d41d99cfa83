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
    Read-only mapping ``name -> ExerciseSpec`` (``"lesson1"`` ... ``"lesson6"``).
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

import hashlib
import html
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "EXERCISES",
    "PLACEHOLDER_STUDENT_ID",
    "Answer",
    "Exercise",
    "ExerciseSpec",
    "Expected",
    "Feedback",
    "Mistake",
    "Progress",
    "Question",
    "Report",
    "describe_answer",
    "exercise_names",
    "grade_answers",
    "normalize_student_id",
    "start",
    "student_seed",
]

PLACEHOLDER_STUDENT_ID = "your-student-id"
#: Set by the grader in the kernel of its second run: ``start()`` then makes the data of this
#: secret id instead of the notebook's own (an answer computed in code follows the data).
VARIANT_ENV = "MULTILEVEL_GRADE_VARIANT"

QuestionKind = Literal["numeric", "choice", "category"]
Status = Literal["correct", "incorrect", "unanswered", "invalid"]


# --------------------------------------------------------------------------------------------
# Student ids and seeds
# --------------------------------------------------------------------------------------------
def normalize_student_id(student_id: object) -> str:
    """Return the canonical form of a student id: surrounding spaces removed, case folded.

    Parameters
    ----------
    student_id : str or int
        What the student typed into ``STUDENT_ID``.

    Raises
    ------
    ValueError
        If ``student_id`` is not a string or an integer, or is empty.

    Examples
    --------
    >>> normalize_student_id("  Ada-Lovelace ")
    'ada-lovelace'
    """
    if isinstance(student_id, numbers.Integral) and not isinstance(student_id, bool):
        student_id = str(int(student_id))
    if not isinstance(student_id, str):
        raise ValueError(
            f"student_id must be a string such as 'ada-lovelace', got {student_id!r} "
            f"(a {type(student_id).__name__})"
        )
    text = student_id.strip().casefold()
    if not text:
        raise ValueError("student_id must not be empty; put your student id between the quotes")
    return text


def student_seed(exercise: str, student_id: object) -> int:
    """The seed of one student's data for one exercise: stable everywhere, different per student.

    Parameters
    ----------
    exercise : str
        Exercise name, e.g. ``"lesson2"``.
    student_id : str or int
        The student's id; spaces around it and letter case do not matter.

    Returns
    -------
    int
        A non-negative integer below 2**63, from SHA-256 (never Python's salted ``hash()``).

    Examples
    --------
    >>> student_seed("lesson2", "ada") == student_seed("lesson2", " ADA ")
    True
    >>> student_seed("lesson2", "ada") != student_seed("lesson2", "alan")
    True
    """
    key = f"multilevel-course/{exercise}/{normalize_student_id(student_id)}"
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 2**63


# --------------------------------------------------------------------------------------------
# Answers as plain data
# --------------------------------------------------------------------------------------------
AnswerKind = Literal[
    "missing", "placeholder", "none", "number", "bool", "text", "sequence", "other"
]


@dataclass(frozen=True)
class Answer:
    """What a student stored in an answer variable, as plain data (safe to send as JSON).

    Attributes
    ----------
    kind : str
        ``"missing"`` (no such variable), ``"placeholder"`` (``...``), ``"none"``, ``"number"``,
        ``"bool"``, ``"text"``, ``"sequence"`` (list, array, Series; ``values`` holds numbers or
        texts), or ``"other"`` (anything else, e.g. a DataFrame or a model result).
    value : float, bool, str, tuple or None
        The number, flag, text or tuple of values; None for the other kinds.
    type_name : str
        The Python type the student used, for messages (``"DataFrame"``, ``"list"``).
    length : int or None
        Number of values of a sequence or rows of a table.
    """

    kind: AnswerKind
    value: float | bool | str | tuple | None = None
    type_name: str = ""
    length: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (NaN and infinities are written as strings)."""
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = {"float": repr(value)}
        elif isinstance(value, tuple):
            value = [
                {"float": repr(v)} if isinstance(v, float) and not math.isfinite(v) else v
                for v in value
            ]
        return {
            "kind": self.kind,
            "value": value,
            "type_name": self.type_name,
            "length": self.length,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answer:
        """Rebuild an :class:`Answer` from :meth:`to_json` output; anything malformed is "other"."""

        def number(v: Any) -> Any:
            if isinstance(v, Mapping) and set(v) == {"float"}:
                return float(v["float"])
            return v

        try:
            kind = data["kind"]
            if kind not in AnswerKind.__args__:  # type: ignore[attr-defined]
                raise ValueError(kind)
            value = data.get("value")
            if isinstance(value, list):
                value = tuple(number(v) for v in value)
            else:
                value = number(value)
            length = data.get("length")
            return cls(
                kind=kind,
                value=value,
                type_name=str(data.get("type_name", "")),
                length=int(length) if isinstance(length, int) else None,
            )
        except (KeyError, TypeError, ValueError):
            return cls(kind="other", type_name="unreadable answer")


def _plain_scalar(value: Any) -> float | str | bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    return None


def describe_answer(value: Any) -> Answer:
    """Turn whatever is stored in an answer variable into an :class:`Answer` (never raises).

    Parameters
    ----------
    value : object
        A student's answer: a number, text, ``...``, ``None``, a list, an array, a Series, ...

    Examples
    --------
    >>> describe_answer(3).kind, describe_answer(3).value
    ('number', 3.0)
    >>> describe_answer(...).kind
    'placeholder'
    """
    try:
        return _describe(value)
    except Exception:  # a student's object may misbehave in any way; describe it and move on
        return Answer(kind="other", type_name=_type_name(value))


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except Exception:
        return "object"


def _describe(value: Any) -> Answer:
    name = _type_name(value)
    if value is Ellipsis:
        return Answer(kind="placeholder", type_name=name)
    if value is None:
        return Answer(kind="none", type_name=name)
    if isinstance(value, (bool, np.bool_)):
        return Answer(kind="bool", value=bool(value), type_name=name)
    if isinstance(value, numbers.Real):
        return Answer(kind="number", value=float(value), type_name=name)
    if isinstance(value, str):
        return Answer(kind="text", value=str(value)[:500], type_name=name)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _describe(value.item())
    if isinstance(value, pd.DataFrame):
        return Answer(kind="other", type_name=name, length=len(value))
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        items = list(np.asarray(value, dtype=object).ravel()) if len(value) <= 1000 else None
        if items is None:
            return Answer(kind="other", type_name=name, length=len(value))
        plain = [_plain_scalar(v) for v in items]
        if any(p is None for p in plain):
            return Answer(kind="other", type_name=name, length=len(items))
        return Answer(kind="sequence", value=tuple(plain), type_name=name, length=len(items))
    return Answer(kind="other", type_name=name)


@dataclass(frozen=True)
class Question:
    """One graded question.

    Attributes
    ----------
    id : str
        ``"q1"``, ``"q2"``, ...: also the notebook variable holding the answer.
    points : float
        Points for a correct answer (all or nothing).
    prompt : str
        The question as the notebook states it (plain text, one or two sentences).
    kind : {"numeric", "choice", "category"}
        A number compared with a tolerance; a letter among ``choices``; or a name (e.g. a
        department or a model) among the options listed in the expected answers.
    unit : str
        Unit of a numeric answer, for messages: ``"$"``, ``"$ per year"``, ``""``.
    rel_tol, abs_tol : float
        A numeric answer is correct when ``|answer - expected| <= max(abs_tol,
        rel_tol * |expected|)``. Chosen per statistic: an exact count has 0 / 0.5; a fitted
        SD in dollars ~0.5% (other optimisers agree to about that); a proportion an absolute 0.01.
    choices : mapping
        Letter -> text of each option (choice questions).
    choice_hints : mapping
        Letter -> why that option is wrong (shown when chosen).
    answer : str or None
        The expected answer when it does not depend on the data (most choice questions);
        otherwise the reference solution supplies it.
    """

    id: str
    points: float
    prompt: str
    kind: QuestionKind = "numeric"
    unit: str = ""
    rel_tol: float = 0.0
    abs_tol: float = 0.0
    choices: Mapping[str, str] = field(default_factory=dict)
    choice_hints: Mapping[str, str] = field(default_factory=dict)
    answer: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("numeric", "choice", "category"):
            raise ValueError(
                f"kind must be 'numeric', 'choice' or 'category', got {self.kind!r} ({self.id})"
            )
        if self.points <= 0:
            raise ValueError(f"points must be positive, got {self.points!r} ({self.id})")
        if self.kind == "choice" and len(self.choices) < 2:
            raise ValueError(f"a choice question needs at least two choices ({self.id})")
        if self.kind == "choice" and self.answer is not None and self.answer not in self.choices:
            raise ValueError(f"answer must be one of the choices, got {self.answer!r} ({self.id})")
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))
        object.__setattr__(self, "choice_hints", MappingProxyType(dict(self.choice_hints)))

    def tolerance(self, expected: float) -> float:
        """The largest difference from ``expected`` still counted as correct."""
        return max(self.abs_tol, self.rel_tol * abs(expected))


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and what to tell a student who gives it.

    ``value`` is compared with the question's own tolerance (numeric) or by name (category).
    """

    value: float | str
    message: str


@dataclass(frozen=True)
class Expected:
    """The expected answers of one student, computed by the reference solution.

    Attributes
    ----------
    exercise, student_id : str
    seed : int
        The seed of the student's data (:func:`student_seed`).
    answers : mapping
        Question id -> expected answer (float, choice letter or name).
    mistakes : mapping
        Question id -> tuple of :class:`Mistake` (typical wrong answers with their hints).
    options : mapping
        Question id -> allowed names for category questions (e.g. the departments).
    """

    exercise: str
    student_id: str
    seed: int
    answers: Mapping[str, Any]
    mistakes: Mapping[str, tuple[Mistake, ...]] = field(default_factory=dict)
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, repr=False)
class Feedback:
    """The verdict on one answer.

    Shows as a coloured box in JupyterLab (``_repr_html_``) and as one line of text elsewhere.

    Attributes
    ----------
    question : str
    status : {"correct", "incorrect", "unanswered", "invalid"}
        ``"invalid"``: the answer has the wrong type or is NaN, or the question id is unknown.
    correct : bool
    points, max_points : float
    message : str
        Plain English: what is right or the most specific hint we have.
    """

    question: str
    status: Status
    points: float
    max_points: float
    message: str

    @property
    def correct(self) -> bool:
        """True when the answer earned the points."""
        return self.status == "correct"

    def _headline(self) -> str:
        symbol = {"correct": "✔", "incorrect": "✘", "unanswered": "…", "invalid": "!"}[self.status]
        label = {
            "correct": "correct",
            "incorrect": "not yet",
            "unanswered": "not answered",
            "invalid": "cannot check",
        }[self.status]
        return f"{symbol} {self.question}: {label} ({_fmt_points(self.points)}/{_fmt_points(self.max_points)} points)"

    def __str__(self) -> str:
        return f"{self._headline()}. {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = {
            "correct": ("#e6f4ea", "#009E73"),
            "incorrect": ("#fdecea", "#D55E00"),
            "unanswered": ("#f3f3f3", "#777777"),
            "invalid": ("#fff4e0", "#E69F00"),
        }[self.status]
        return (
            f'<div style="background:{colour[0]};border-left:6px solid {colour[1]};'
            'padding:6px 10px;margin:4px 0;color:#222;font-family:sans-serif">'
            f"<b>{html.escape(self._headline())}</b><br>{html.escape(self.message)}</div>"
        )


def _fmt_points(points: float) -> str:
    return f"{points:g}"


@dataclass(frozen=True, repr=False)
class Report:
    """All feedback for one student on one exercise (what the gradebook records).

    Attributes
    ----------
    exercise, student_id : str
    feedback : tuple of Feedback
        One per question, in question order.
    """

    exercise: str
    student_id: str
    feedback: tuple[Feedback, ...]

    @property
    def score(self) -> float:
        """Points earned."""
        return float(sum(f.points for f in self.feedback))

    @property
    def max_score(self) -> float:
        """Points available."""
        return float(sum(f.max_points for f in self.feedback))

    def to_frame(self) -> pd.DataFrame:
        """One row per question: ``question, status, points, max_points, message``."""
        return pd.DataFrame(
            [
                {
                    "question": f.question,
                    "status": f.status,
                    "points": f.points,
                    "max_points": f.max_points,
                    "message": f.message,
                }
                for f in self.feedback
            ]
        )

    def __str__(self) -> str:
        lines = [
            f"{self.exercise} for {self.student_id}: "
            f"{_fmt_points(self.score)}/{_fmt_points(self.max_score)} points"
        ]
        lines += [f"  {f}" for f in self.feedback]
        return "\n".join(lines)

    __repr__ = __str__


SolveFunction = Callable[[Any], "Solution"]


@dataclass(frozen=True)
class Solution:
    """What an answer key's reference solution returns for one data set.

    ``answers``: question id -> expected answer; ``mistakes``: question id -> known wrong answers;
    ``options``: question id -> allowed names (category questions).
    """

    answers: Mapping[str, Any]
    mistakes: Mapping[str, Sequence[Mistake]] = field(default_factory=dict)
    options: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)  # identity equality: specs are singletons and cache keys
class ExerciseSpec:
    """The answer key of one exercise: its questions, data and reference solution.

    Attributes
    ----------
    name : str
        ``"lesson1"`` ... ; also the notebook's ``metadata["multilevel"]["exercise"]``.
    title : str
    questions : tuple of Question
    make_data : callable
        ``make_data(seed) -> SimulatedData``: the student's data from their seed.
    solve : callable
        ``solve(sim) -> Solution``: the reference solution, using the package's own functions.
    """

    name: str
    title: str
    questions: tuple[Question, ...]
    make_data: Callable[[int], Any]
    solve: SolveFunction

    def __post_init__(self) -> None:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question ids must be unique in {self.name}, got {ids}")

    @property
    def question_ids(self) -> tuple[str, ...]:
        """``("q1", "q2", ...)`` in order."""
        return tuple(q.id for q in self.questions)

    @property
    def max_points(self) -> float:
        """Total points of the exercise."""
        return float(sum(q.points for q in self.questions))

    def question(self, question_id: str) -> Question:
        """The question with this id; ValueError naming the allowed ids otherwise."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise ValueError(
            f"question_id must be one of {', '.join(self.question_ids)} for {self.name}, "
            f"got {question_id!r}"
        )

    def seed(self, student_id: object) -> int:
        """The seed of this student's data (:func:`student_seed`)."""
        return student_seed(self.name, student_id)

    def data(self, student_id: object) -> Any:
        """This student's own ``SimulatedData`` (the same on every call and machine)."""
        return self.make_data(self.seed(student_id))

    def expected(self, student_id: object) -> Expected:
        """The expected answers for this student, from the reference solution (cached)."""
        return _expected(self, normalize_student_id(student_id))

    def grade(self, question_id: str, answer: Any, expected: Expected) -> Feedback:
        """Grade one answer against ``expected``; never raises for any ``answer``.

        ``answer`` may be a raw value, an :class:`Answer` or the dict of ``Answer.to_json()``.
        """
        try:
            question = self.question(question_id)
        except ValueError as error:
            return Feedback(str(question_id), "invalid", 0.0, 0.0, str(error))
        return _grade(self, question, _as_answer(answer), expected)

    def grade_answers(self, student_id: object, answers: Mapping[str, Any]) -> Report:
        """Grade every question; ids missing from ``answers`` count as unanswered."""
        expected = self.expected(student_id)
        missing = Answer(kind="missing")
        return Report(
            exercise=self.name,
            student_id=expected.student_id,
            feedback=tuple(
                self.grade(q.id, answers.get(q.id, missing), expected) for q in self.questions
            ),
        )


@lru_cache(maxsize=256)
def _expected(spec: ExerciseSpec, student_id: str) -> Expected:
    seed = student_seed(spec.name, student_id)
    with warnings.catch_warnings():
        # The reference solution must never print a warning into a student's notebook.
        warnings.simplefilter("ignore")
        solution = spec.solve(spec.make_data(seed))
    answers = {q.id: q.answer for q in spec.questions if q.answer is not None}
    answers.update(solution.answers)
    missing = set(spec.question_ids) - set(answers)
    if missing:
        raise RuntimeError(f"answer key {spec.name} has no expected answer for {sorted(missing)}")
    return Expected(
        exercise=spec.name,
        student_id=student_id,
        seed=seed,
        answers=MappingProxyType({k: _plain_expected(v) for k, v in answers.items()}),
        mistakes=MappingProxyType({k: tuple(v) for k, v in solution.mistakes.items()}),
        options=MappingProxyType(
            {k: tuple(str(o) for o in v) for k, v in solution.options.items()}
        ),
    )


def _plain_expected(value: Any) -> Any:
    """Expected answers as plain Python numbers and texts (readable, JSON-able)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def _as_answer(answer: Any) -> Answer:
    if isinstance(answer, Answer):
        return answer
    if (
        isinstance(answer, Mapping)
        and "kind" in answer
        and set(answer)
        <= {
            "kind",
            "value",
            "type_name",
            "length",
        }
    ):
        return Answer.from_json(answer)
    return describe_answer(answer)


# --------------------------------------------------------------------------------------------
# Grading rules
# --------------------------------------------------------------------------------------------
def _fmt_number(value: float, unit: str = "") -> str:
    if not math.isfinite(value):
        return repr(value)
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
    if unit.startswith("$"):
        return f"${text}{unit[1:]}"
    return f"{text} {unit}".strip()


def _type_problem(question: Question, answer: Answer) -> tuple[Status, str] | None:
    """Placeholder, missing, None and wrong-type answers, before any comparison."""
    q = question.id
    if answer.kind == "missing":
        return "unanswered", f"There is no variable {q} yet: run the cell that sets {q}."
    if answer.kind == "placeholder":
        return "unanswered", f"Replace the ... in `{q} = ...` with your answer, then run the cell."
    if answer.kind == "none":
        return (
            "invalid",
            f"{q} is None. Did the last line of your cell print something instead of "
            f"storing it? Write `{q} = <your answer>`.",
        )
    wanted = {
        "numeric": "a single number",
        "choice": 'one letter in quotes, e.g. "B"',
        "category": 'a name in quotes, e.g. "' + "Physics" + '"',
    }[question.kind]
    if answer.kind == "other":
        if answer.type_name == "DataFrame":
            return (
                "invalid",
                f"{q} is a whole DataFrame ({answer.length} rows); the answer is {wanted}. "
                "Pick out one value, e.g. with .loc[row, column].",
            )
        return "invalid", f"{q} is a {answer.type_name}; the answer is {wanted}."
    return None


def _grade(spec: ExerciseSpec, question: Question, answer: Answer, expected: Expected) -> Feedback:
    problem = _type_problem(question, answer)
    if problem is not None:
        return Feedback(question.id, problem[0], 0.0, question.points, problem[1])
    try:
        if question.kind == "numeric":
            status, message = _grade_numeric(spec, question, answer, expected)
        elif question.kind == "choice":
            status, message = _grade_choice(question, answer, expected)
        else:
            status, message = _grade_category(spec, question, answer, expected)
    except Exception as error:  # a bug in an answer key must not become a student's traceback
        status, message = "invalid", f"The checker could not grade this answer ({error!r})."
    points = question.points if status == "correct" else 0.0
    return Feedback(question.id, status, points, question.points, message)


def _close(question: Question, value: float, target: float) -> bool:
    return math.isfinite(target) and abs(value - target) <= question.tolerance(target)


def _grade_numeric(
    spec: ExerciseSpec, question: Question, answer: Answer, expected: Expected
) -> tuple[Status, str]:
    q = question.id
    value = answer.value
    if answer.kind == "sequence":
        if answer.length == 1 and isinstance(answer.value[0], float):  # type: ignore[index]
            value = answer.value[0]  # type: ignore[index]
        else:
            return (
                "invalid",
                f"{q} is a {answer.type_name} with {answer.length} values; the answer is a "
                "single number. Pick out one value, e.g. with .loc[...] or .iloc[0].",
            )
    if answer.kind == "bool":
        return "invalid", f"{q} is {answer.value}, a yes/no value; the answer is a number."
    if answer.kind == "text":
        return (
            "invalid",
            f"{q} is the text {str(answer.value)[:40]!r}; write the number without quotes, "
            "e.g. 12345.6 (no $ sign or commas).",
        )
    assert isinstance(value, float)
    if not math.isfinite(value):
        return (
            "invalid",
            f"{q} is {value!r}, not a number you can compare. Check the cell that computes it "
            "(a missing value, a division by zero, or a column that does not exist?).",
        )
    target = float(expected.answers[q])
    if _close(question, value, target):
        return "correct", f"Correct: {_fmt_number(value, question.unit)}."
    for mistake in expected.mistakes.get(q, ()):
        if isinstance(mistake.value, numbers.Real) and _close(
            question, value, float(mistake.value)
        ):
            return "incorrect", mistake.message
    if target != 0 and _close(question, -value, target):
        return (
            "incorrect",
            "The size is right but the sign is wrong: check which is subtracted from which.",
        )
    if question.unit.startswith("$") and abs(target) >= 100:
        if _close(question, value * 1000, target):
            return (
                "incorrect",
                "That looks like thousands of dollars; give the answer in dollars "
                "(e.g. 12345.6, not 12.3).",
            )
        if _close(question, value / 1000, target):
            return "incorrect", "That is 1,000 times too large: the answer is in dollars."
    hint = _placeholder_data_hint(spec, question, value, expected)
    if hint:
        return "incorrect", hint
    # No expected value and no range around it: either would hand out the answer.
    return (
        "incorrect",
        "Not correct. Re-read the question and check which model, data and column you used.",
    )


def _placeholder_data_hint(
    spec: ExerciseSpec, question: Question, value: float, expected: Expected
) -> str:
    """Recognise an answer computed from the placeholder id's data instead of the student's."""
    if expected.student_id == PLACEHOLDER_STUDENT_ID:
        return ""
    try:
        other = spec.expected(PLACEHOLDER_STUDENT_ID).answers[question.id]
    except Exception:
        return ""
    if isinstance(other, numbers.Real) and _close(question, value, float(other)):
        return (
            f"That is the answer for the data of {PLACEHOLDER_STUDENT_ID!r}, not yours: set "
            "STUDENT_ID in the first code cell, then run the notebook again from the top."
        )
    return ""


def _clean_letter(text: str) -> str:
    return text.strip().strip("()[].:'\" ").upper()


def _grade_choice(question: Question, answer: Answer, expected: Expected) -> tuple[Status, str]:
    q = question.id
    letters = ", ".join(f'"{k}"' for k in question.choices)
    if answer.kind != "text":
        return "invalid", f"{q} should be one of the letters {letters} in quotes."
    text = str(answer.value)
    letter = _clean_letter(text)
    if letter not in question.choices:
        matches = [
            k
            for k, v in question.choices.items()
            if v.strip().casefold() == text.strip().casefold()
        ]
        if not matches:
            return "invalid", f"{text[:40]!r} is not an option; answer with one of {letters}."
        letter = matches[0]
    right = str(expected.answers[q]).upper()
    if letter == right:
        return "correct", f"Correct: {question.choices[letter]}"
    hint = question.choice_hints.get(letter, "")
    return "incorrect", hint or f"({letter}) is not the best reading; think it through once more."


def _grade_category(
    spec: ExerciseSpec, question: Question, answer: Answer, expected: Expected
) -> tuple[Status, str]:
    q = question.id
    options = expected.options.get(q, ())
    if answer.kind == "sequence" and answer.length == 1:
        value = answer.value[0]  # type: ignore[index]
    elif answer.kind in ("text", "number"):
        value = answer.value
    else:
        return "invalid", f"{q} should be one name in quotes, e.g. {options[:1] or 'a name'}."
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    target = str(expected.answers[q])
    if text.casefold() == target.casefold():
        return "correct", f"Correct: {target}."
    for mistake in expected.mistakes.get(q, ()):
        if str(mistake.value).casefold() == text.casefold():
            return "incorrect", mistake.message
    if options and text.casefold() not in {o.casefold() for o in options}:
        shown = ", ".join(repr(o) for o in options[:12])
        return "invalid", f"{text[:40]!r} is not one of the allowed names: {shown}."
    return "incorrect", f"{text!r} is not the right one; check how you ranked or compared them."


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
            from .exercises.keys import SPECS
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
    """Names of all exercises, e.g. ``("lesson1", ..., "lesson6")``."""
    from .exercises import DATA

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
        from .exercises import DATA

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
        ``"lesson1"`` ... ``"lesson6"`` (:func:`exercise_names`).
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
