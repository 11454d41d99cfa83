"""The feedback model: questions, expected answers, feedback, and the grading rules.

An answer key (``multilevel.exercises.keys.lessonN``) is an :class:`ExerciseSpec` built from
these; :mod:`multilevel.checks` is the public face of the whole.
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .answers import Answer, describe_answer

PLACEHOLDER_STUDENT_ID = "your-student-id"

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
    ``kind`` names a common mistake that several keys share (``"icc_from_sds"``, ...; see
    ``keys/_common.py``), so that a test can find every key's version of it; ``""`` for a
    mistake of one question only.
    """

    value: float | str
    message: str
    kind: str = ""


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


class PointTotals:
    """``score`` and ``max_score`` of a result made of per-question records.

    A subclass names the attribute that holds the records (each with ``points`` and
    ``max_points``) in ``per_question``: :class:`Report` here, and the gradebook's rows.
    """

    per_question: str

    @property
    def score(self) -> float:
        """Points earned."""
        return float(sum(q.points for q in getattr(self, self.per_question)))

    @property
    def max_score(self) -> float:
        """Points available."""
        return float(sum(q.max_points for q in getattr(self, self.per_question)))


@dataclass(frozen=True, repr=False)
class Report(PointTotals):
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
    per_question = "feedback"

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


#: Answers that are not there yet, or None: the status and what to tell the student about ``q``.
_NO_ANSWER: dict[str, tuple[Status, str]] = {
    "missing": ("unanswered", "There is no variable {q} yet: run the cell that sets {q}."),
    "placeholder": (
        "unanswered",
        "Replace the ... in `{q} = ...` with your answer, then run the cell.",
    ),
    "none": (
        "invalid",
        "{q} is None. Did the last line of your cell print something instead of storing it? "
        "Write `{q} = <your answer>`.",
    ),
}


def _type_problem(question: Question, answer: Answer) -> tuple[Status, str] | None:
    """Placeholder, missing, None and wrong-type answers, before any comparison."""
    q = question.id
    if answer.kind in _NO_ANSWER:
        status, message = _NO_ANSWER[answer.kind]
        return status, message.format(q=q)
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
    hints = _mistake_hints(question, value, expected.mistakes.get(q, ()))
    if hints:
        return "incorrect", hints
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


def _mistake_hints(question: Question, value: float, mistakes: Sequence[Mistake]) -> str:
    """The hint of every known mistake that ``value`` matches ('' if none).

    Two mistakes can give the same number for some data (an ML estimate and the residual SD,
    say); the student then reads both hints instead of the one that happens to come first.
    """
    hints: list[str] = []
    for mistake in mistakes:
        if (
            isinstance(mistake.value, numbers.Real)
            and _close(question, value, float(mistake.value))
            and mistake.message not in hints
        ):
            hints.append(mistake.message)
    if len(hints) > 1:
        return "Your answer fits more than one common mistake. " + " Or: ".join(hints)
    return hints[0] if hints else ""


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
