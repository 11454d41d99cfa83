"""Running one submission: its two kernels (own id, secret variant) in a job's worker, its row."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multilevel import checks
from multilevel.exercises import answers

from ._kernel import CAPTURE_MODULE, ExecutionReport, ForkServer, KernelStartError
from ._pool import WarmPool
from ._results import SubmissionResult
from ._scoring import Grader, zero
from ._submissions import Submission
from ._worker import KernelWorker, WorkerDied, WorkerSettings


def prepare_lib(run_dir: Path) -> Path:
    """The grader's kernel helpers, in a folder of their own (read-only in every sandbox)."""
    lib = run_dir / "lib"
    lib.mkdir()
    here = Path(__file__).parent
    shutil.copyfile(here / "_capture_kernel.py", lib / f"{CAPTURE_MODULE}.py")
    shutil.copyfile(here / "_zygote.py", lib / f"{ForkServer.MODULE}.py")
    shutil.copyfile(Path(answers.__file__), lib / "_multilevel_grade_answers.py")
    for path in [*lib.iterdir(), lib]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return lib


@dataclass(frozen=True)
class Settings:
    """How every submission of a run is graded.

    Attributes
    ----------
    exercise : str
        The exercise graded against.
    variant : bool
        Run notebooks with correct numeric answers a second time, with a secret id's data.
    worker : WorkerSettings
        How the notebooks run (sandbox, limits, timeouts, captured names).
    """

    exercise: str
    variant: bool
    worker: WorkerSettings


class Runner:
    """Grades one submission at a time (several run concurrently under asyncio)."""

    def __init__(self, spec: Any, settings: Settings, grader: Grader) -> None:
        self.spec, self.settings, self.grader = spec, settings, grader
        self.workers: WarmPool[KernelWorker] = WarmPool(self._start_worker)

    def without_kernel(self, sub: Submission, code: str, text: str) -> SubmissionResult:
        """The row of a submission that was not run (unreadable, wrong exercise, ...)."""
        try:  # the id as written, so the instructor can tell whose file it is
            student_id = checks.normalize_student_id(sub.student_id_literal)
        except ValueError:
            student_id = ""
        if student_id == checks.PLACEHOLDER_STUDENT_ID:
            student_id = ""
        return SubmissionResult(
            file=sub.file,
            sha256=sub.sha256,
            student_id=student_id,
            exercise=self.settings.exercise,
            questions=zero(self.spec, f"not graded: {text}"),
            problems=((code, text),),
        )

    async def grade(self, sub: Submission) -> tuple[SubmissionResult, bool]:
        """Grade one submission; returns its row and whether it may be stored for resume.

        Never raises (but for cancellation): whatever goes wrong becomes this row's problem.
        """
        try:
            return await self._grade(sub)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # one submission's failure is that submission's row
            text = f"the grader failed on this submission ({type(error).__name__}: {error})"
            return self.without_kernel(sub, "grader_error", text[:300]), False

    async def _grade(self, sub: Submission) -> tuple[SubmissionResult, bool]:
        started = time.perf_counter()
        exercise = self.settings.exercise
        if sub.problem is not None:
            return self.without_kernel(sub, "unreadable", sub.problem), True
        if sub.exercise is not None and sub.exercise != exercise:
            text = (
                f"this notebook is for exercise {sub.exercise!r}, not {exercise!r}; "
                f"move it into a folder of its own and grade that folder with --exercise "
                f"{sub.exercise}"
            )
            return self.without_kernel(sub, "wrong_exercise", text), True
        problems: list[tuple[str, str]] = []
        if sub.exercise is None:
            problems.append(
                ("ok", f"the notebook does not say which exercise it is; graded as {exercise}")
            )
        try:
            outcome = await self._execute(sub)
        except KernelStartError as error:
            result = self.without_kernel(sub, "grader_error", f"{error}; run the grader again")
            return result, False
        except WorkerDied as error:  # a flood, or the machine's memory: not stored, retried
            return self.without_kernel(sub, "grader_error", str(error)), False
        report, variant = outcome
        problems += _run_problems(report, self.settings.worker.timeouts.cell)
        student_id, id_problem = student_id_of(sub, report)
        if id_problem:
            problems.append(id_problem)
        questions, key_problem = await asyncio.to_thread(
            self.grader.score, report.answers, student_id
        )
        if key_problem:
            problems.append(("grader_error", key_problem))
        elif variant is not None:
            questions, flag = await asyncio.to_thread(
                self.grader.check_variant, questions, variant[1].answers, variant[0], student_id
            )
            if flag:
                problems.append(flag)
        if questions and all(q.status == "unanswered" for q in questions):
            problems.append(("unanswered", "no question was answered (every qN is still ...)"))
        unreadable = report.capture_failures > 0 and not report.answers
        result = SubmissionResult(
            file=sub.file,
            sha256=sub.sha256,
            student_id=student_id
            if student_id not in (None, checks.PLACEHOLDER_STUDENT_ID)
            else "",
            exercise=exercise,
            questions=questions,
            problems=tuple(problems),
            seconds=time.perf_counter() - started,
        )
        return result, key_problem is None and not unreadable

    def _wants_variant(self, sub: Submission, report: ExecutionReport) -> bool:
        """Run again with other data only when a correct numeric answer needs checking."""
        if not self.settings.variant:
            return False
        student_id, _ = student_id_of(sub, report)
        if student_id in (None, checks.PLACEHOLDER_STUDENT_ID):
            return False
        questions, problem = self.grader.score(report.answers, student_id)
        independent = set(self.grader.id_independent_questions())
        return problem is None and any(
            q.status == "correct"
            and q.question not in independent
            and self.spec.question(q.question).kind == "numeric"
            for q in questions
        )

    async def _run(self, sub: Submission, variant: str | None = None) -> ExecutionReport:
        """Run the notebook once, in a job's worker (and its warm sandbox)."""
        worker = await self.workers.acquire()
        keep = False
        try:
            report = await worker.run(sub.sources, variant)
            keep = True
            return report
        except KernelStartError:
            keep = True  # the worker replaced its sandbox already; it may fare better next time
            raise
        finally:
            await self.workers.release(worker, keep=keep)

    async def _start_worker(self) -> KernelWorker:
        worker = KernelWorker(self.settings.worker)
        await worker.start()
        return worker

    async def _execute(
        self, sub: Submission
    ) -> tuple[ExecutionReport, tuple[str, ExecutionReport] | None]:
        report = await self._run(sub)
        variant = None
        if await asyncio.to_thread(self._wants_variant, sub, report):
            own_id, _ = student_id_of(sub, report)
            variant_id = await asyncio.to_thread(self.grader.choose_variant, own_id)
            try:
                again = await self._run(sub, variant_id)
            except KernelStartError:  # no answers to compare with: flagged
                again = ExecutionReport(answers={}, n_cells=len(sub.sources), n_run=0)
            variant = (variant_id, again)
        return report, variant

    async def close(self) -> None:
        """Stop the workers (and their sandboxes) kept for the next submissions."""
        await self.workers.close()


def _run_problems(report: ExecutionReport, cell_timeout: float) -> list[tuple[str, str]]:
    problems = []
    if report.stopped:
        problems.append(("incomplete", report.stopped))
    failures = report.capture_failures
    if failures > 0 and not report.answers:
        problems.append(
            (
                "grader_error",
                f"the grader could not read any answer from the kernel ({failures} attempts failed)",
            )
        )
    elif failures > 0:  # not an error of the grader's: it read answers before (or after)
        problems.append(
            (
                "ok",
                f"the answers could not be read after {failures} code cell"
                f"{'s' if failures > 1 else ''} (did a cell change the grader's capture "
                "helper?); the answers read last were graded",
            )
        )
    timeouts = [p for p in report.problems if p.kind == "timeout"]
    errors = [p for p in report.problems if p.kind == "error"]
    if timeouts:
        cells = ", ".join(str(p.cell) for p in timeouts)
        problems.append(
            (
                "cell_timeout",
                f"code cell {cells} ran longer than {cell_timeout:g} s and was "
                "interrupted; the later cells still ran",
            )
        )
    if errors:
        first = errors[0]
        problems.append(
            (
                "cell_errors",
                f"{len(errors)} code cell{'s' if len(errors) > 1 else ''} raised an error "
                f"(first: cell {first.cell}, {first.message})",
            )
        )
    return problems


def student_id_of(
    sub: Submission, report: ExecutionReport
) -> tuple[str | None, tuple[str, str] | None]:
    """The id graded against (the first code cell's literal), and a problem with it if any."""
    raw = sub.student_id_literal
    try:
        student_id = checks.normalize_student_id(raw) if raw is not None else None
    except ValueError:
        student_id = None
    if student_id is None:
        return None, (
            "missing_student_id",
            'no student id found: the first code cell should be STUDENT_ID = "..."; '
            "only questions whose answer is the same for everyone were graded",
        )
    if student_id == checks.PLACEHOLDER_STUDENT_ID:
        return student_id, (
            "placeholder_student_id",
            f"STUDENT_ID was left as {checks.PLACEHOLDER_STUDENT_ID!r}; only questions "
            "whose answer is the same for everyone were graded",
        )
    ran = report.answers.get("STUDENT_ID")
    ran_value = ran.get("value") if isinstance(ran, dict) and ran.get("kind") == "text" else None
    if isinstance(ran_value, str):
        try:
            ran_id = checks.normalize_student_id(ran_value)
        except ValueError:
            ran_id = None
        if ran_id != student_id:
            return student_id, (
                "ok",
                f"STUDENT_ID was changed to {ran_value[:40]!r} while the notebook ran; "
                f"graded as {student_id!r}",
            )
    return student_id, None


__all__ = ["Runner", "Settings", "prepare_lib", "student_id_of"]
