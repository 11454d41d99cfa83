"""Scoring, in the grader's own process: the answer keys never enter a sandbox."""

from __future__ import annotations

import hashlib
import inspect
import secrets
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from multilevel import checks
from multilevel.exercises import answers, feedback

from ._results import QuestionResult
from ._store import RESULT_FORMAT

#: Number of made-up student ids used to find questions whose answer does not depend on the id.
_N_PROBE_IDS = 5
#: Random ids tried for the variant run (the one whose answers differ most is kept).
_VARIANT_TRIES = 5
#: What happens to a numeric answer that did not follow the data of the secret variant.
POLICIES = ("flag", "zero")


def zero(spec: Any, message: str, status: str = "not_graded") -> tuple[QuestionResult, ...]:
    """Every question at 0 points with one message."""
    return tuple(
        QuestionResult(q.id, status, 0.0, float(q.points), message) for q in spec.questions
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return type(a) is type(b) and a == b


def new_variant_id() -> str:
    """A secret, unpredictable student id for the second run (other data, other answers)."""
    return "variant-" + secrets.token_hex(12)


def key_fingerprint(spec: Any) -> str:
    """Hash of the answer key's source, so a changed key regrades everyone on resume."""
    parts = [str(RESULT_FORMAT)]
    rules = (answers, feedback, getattr(spec, "solve", None), getattr(spec, "make_data", None))
    for obj in rules:
        try:
            parts.append(Path(inspect.getsourcefile(obj)).read_text(encoding="utf-8"))
        except (TypeError, OSError):
            parts.append(repr(obj))
    parts.append(repr(getattr(spec, "questions", "")))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


class Grader:
    """Answer keys, evaluated in the grader's process only."""

    def __init__(self, spec: Any, policy: str = "flag") -> None:
        self.spec, self.policy = spec, policy
        self._independent: tuple[str, ...] | None = None

    def id_independent_questions(self) -> tuple[str, ...]:
        """Questions whose expected answer is the same for every student id."""
        if self._independent is None:
            ids = [checks.PLACEHOLDER_STUDENT_ID] + [
                f"grader-probe-{i}" for i in range(_N_PROBE_IDS)
            ]
            answers = [self.spec.expected(i).answers for i in ids]
            self._independent = tuple(
                q
                for q in self.spec.question_ids
                if all(_same(a[q], answers[0][q]) for a in answers)
            )
        return self._independent

    def score(
        self, answers: Mapping[str, Any], student_id: str | None
    ) -> tuple[tuple[QuestionResult, ...], str | None]:
        """Grade captured answers; returns the question results and an extra problem or None."""
        spec = self.spec
        missing = {"kind": "missing"}
        if student_id is None or student_id == checks.PLACEHOLDER_STUDENT_ID:
            gradable = set(self.id_independent_questions())
            expected = spec.expected(checks.PLACEHOLDER_STUDENT_ID)
            why = (
                "not graded: the answer depends on your own data, and STUDENT_ID was not set "
                "to your student id"
            )
        else:
            gradable = set(spec.question_ids)
            try:
                expected = spec.expected(student_id)
            except Exception as error:  # a key that fails for one id must not stop the run
                return zero(spec, "not graded: the answer key failed for this student id"), (
                    f"the expected answers could not be computed for this student id "
                    f"({type(error).__name__}: {str(error)[:200]})"
                )
        results = []
        for q in spec.questions:
            if q.id not in gradable:
                results.append(QuestionResult(q.id, "not_graded", 0.0, float(q.points), why))
                continue
            feedback = spec.grade(q.id, answers.get(q.id, missing), expected)
            results.append(
                QuestionResult(
                    q.id,
                    str(feedback.status),
                    float(feedback.points),
                    float(q.points),
                    str(feedback.message),
                )
            )
        return tuple(results), None

    def _numeric_dependent(self) -> list[str]:
        independent = set(self.id_independent_questions())
        return [
            q.id for q in self.spec.questions if q.kind == "numeric" and q.id not in independent
        ]

    def _differs(self, question_id: str, real: Any, variant: Any) -> bool:
        """True when the two expected answers are told apart by the question's tolerance."""
        a, b = float(real.answers[question_id]), float(variant.answers[question_id])
        return abs(a - b) > self.spec.question(question_id).tolerance(a)

    def choose_variant(self, student_id: str, tries: int = _VARIANT_TRIES) -> str:
        """A secret id whose expected numeric answers differ from the student's own.

        A small count (the number of departments) can coincide by chance; of a few random ids
        the one that differs on the most questions is kept, and a question on which it still
        agrees is not checked for this student.
        """
        real = self.spec.expected(student_id)
        questions = self._numeric_dependent()
        best, best_n = new_variant_id(), -1
        for _ in range(tries):
            variant_id = new_variant_id()
            variant = self.spec.expected(variant_id)
            n = sum(self._differs(q, real, variant) for q in questions)
            if n > best_n:
                best, best_n = variant_id, n
            if n == len(questions):
                break
        return best

    def check_variant(
        self,
        questions: tuple[QuestionResult, ...],
        variant_answers: Mapping[str, Any] | None,
        variant_id: str,
        student_id: str,
    ) -> tuple[tuple[QuestionResult, ...], tuple[str, str] | None]:
        """Flag correct numeric answers that did not follow the variant's data.

        The second run gave the notebook other data (a secret id); an answer computed in code
        changes with the data, a typed-in number does not. Multiple-choice and category
        answers, questions whose answer is the same for every id, and questions whose answer
        happens to be the same for the variant are exempt.
        """
        real, expected = self.spec.expected(student_id), self.spec.expected(variant_id)
        checkable = {q for q in self._numeric_dependent() if self._differs(q, real, expected)}
        candidates = [r for r in questions if r.status == "correct" and r.question in checkable]
        if not candidates:
            return questions, None
        answers = variant_answers or {}
        flagged = [
            r.question
            for r in candidates
            if self.spec.grade(
                r.question, answers.get(r.question, {"kind": "missing"}), expected
            ).status
            != "correct"
        ]
        if not flagged:
            return questions, None
        names = ", ".join(flagged)
        reason = (
            f"{names}: the answer did not follow the data when the notebook was run again with "
            "other data (typed in rather than computed in code?)"
        )
        if self.policy == "zero":
            message = "not counted: the answer did not change with the data, so it was not computed"
            questions = tuple(
                replace(r, status="not_computed", points=0.0, message=message)
                if r.question in flagged
                else r
                for r in questions
            )
            reason += "; those answers score 0"
        return questions, ("typed_in", reason)
