"""What the gradebook records: per question, per submission, per run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from multilevel.exercises.feedback import PointTotals

# Most severe first: a row's ``status`` is the first of its problems in this order.
STATUS_ORDER = (
    "unreadable",
    "wrong_exercise",
    "grader_error",
    "incomplete",
    "missing_student_id",
    "placeholder_student_id",
    "cell_timeout",
    "cell_errors",
    "typed_in",
    "duplicate_student_id",
    "unanswered",
    "ok",
)


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


@dataclass(frozen=True)
class QuestionResult:
    """The grade of one question of one submission.

    Attributes
    ----------
    question : str
        ``"q1"``, ``"q2"``, ...
    status : str
        ``"correct"``, ``"incorrect"``, ``"unanswered"``, ``"invalid"`` (as in
        :class:`multilevel.checks.Feedback`) or ``"not_graded"``.
    points, max_points : float
    message : str
        The hint shown in the student's feedback file.
    """

    question: str
    status: str
    points: float
    max_points: float
    message: str


@dataclass(frozen=True)
class SubmissionResult(PointTotals):
    """Everything the gradebook knows about one submitted file.

    Attributes
    ----------
    file : str
        Path of the submission relative to the submissions folder (``/`` separated).
    sha256 : str
        Hash of the submitted bytes (a changed file is regraded on resume).
    student_id : str
        Normalised student id, or ``""`` when missing or left as the placeholder.
    exercise : str
        The exercise graded against.
    questions : tuple of QuestionResult
    problems : tuple of (status, reason)
        Every problem found, each a status code from :data:`STATUS_ORDER` and a sentence.
    seconds : float
        Time spent grading this submission, in seconds.
    """

    file: str
    sha256: str
    student_id: str
    exercise: str
    questions: tuple[QuestionResult, ...]
    problems: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    per_question = "questions"

    @property
    def status(self) -> str:
        """The most severe problem's code, or ``"ok"``."""
        codes = {code for code, _ in self.problems}
        return next((s for s in STATUS_ORDER if s in codes), "ok")

    @property
    def reason(self) -> str:
        """All problems as plain-English sentences (empty when there were none)."""
        return " ".join(sentence(text) for _, text in self.problems)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (the per-student result file)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubmissionResult:
        """Rebuild from :meth:`to_json`; raises KeyError/TypeError/ValueError when malformed."""
        return cls(
            file=str(data["file"]),
            sha256=str(data["sha256"]),
            student_id=str(data["student_id"]),
            exercise=str(data["exercise"]),
            questions=tuple(
                QuestionResult(
                    str(q["question"]),
                    str(q["status"]),
                    float(q["points"]),
                    float(q["max_points"]),
                    str(q["message"]),
                )
                for q in data["questions"]
            ),
            problems=tuple((str(c), str(t)) for c, t in data["problems"]),
            seconds=float(data["seconds"]),
        )


@dataclass(frozen=True)
class GradingRun:
    """The outcome of :func:`grade_submissions`.

    Attributes
    ----------
    gradebook : pandas.DataFrame
        The table written to ``gradebook.csv``: one row per submission, columns
        ``student_id, exercise, file, <question ids>..., total, max, status, reason, sandbox``.
    results : tuple of SubmissionResult
        In the gradebook's row order.
    csv_path, feedback_dir : Path
    n_graded, n_resumed : int
        Submissions graded in this run; submissions whose stored result was reused.
    seconds : float
        Wall-clock time of the run, in seconds.
    sandbox : str
        ``"bubblewrap"``, or ``"none"`` for a run with ``sandbox=False`` (also in every row).
    """

    gradebook: pd.DataFrame
    results: tuple[SubmissionResult, ...]
    csv_path: Path
    feedback_dir: Path
    n_graded: int
    n_resumed: int
    seconds: float
    sandbox: str = "bubblewrap"
