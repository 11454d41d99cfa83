"""Grade a folder of submitted exercise notebooks into a gradebook CSV and feedback files."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from multilevel import checks

from . import _store as store
from ._kernel import Timeouts
from ._results import GradingRun, SubmissionResult
from ._runner import Runner, Settings, prepare_lib
from ._sandbox import (
    Limits,
    find_bwrap,
    keys_folder,
    new_run_dir,
    remove_tree,
    root_only_entries,
)
from ._scoring import POLICIES, Grader, key_fingerprint
from ._submissions import Submission, list_submissions, read_submission
from ._worker import WorkerSettings

#: Default seconds all cells of one notebook may run together.
DEFAULT_NOTEBOOK_TIMEOUT = 120.0
#: Default seconds one cell may run before it is interrupted.
DEFAULT_CELL_TIMEOUT = 60.0

GRADEBOOK_NAME = store.GRADEBOOK_NAME
FEEDBACK_DIR = store.FEEDBACK_DIR
RESULTS_DIR = store.RESULTS_DIR

NO_BWRAP = (
    "bubblewrap (bwrap) is not installed, so notebooks cannot run in a sandbox. Install it "
    "(Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap) or, "
    "on a machine without it (macOS, Windows), pass --no-sandbox to run notebooks unconfined "
    "(the gradebook then says so)."
)


class GradingError(ValueError):
    """The grader cannot start: a missing or empty folder, a bad option, an unknown exercise."""


# --------------------------------------------------------------------------------------------
# Checks of the command line
# --------------------------------------------------------------------------------------------
def _check_folders(submissions: Path, output: Path) -> None:
    if not submissions.exists():
        raise GradingError(f"submissions folder {str(submissions)!r} does not exist")
    if not submissions.is_dir():
        raise GradingError(
            f"submissions folder {str(submissions)!r} is a file; give the folder that holds "
            "the submitted notebooks"
        )
    sub, out = submissions.resolve(), output.resolve()
    if out == sub or sub in out.parents:
        raise GradingError(
            f"output folder {str(output)!r} is inside the submissions folder "
            f"{str(submissions)!r}; choose a folder outside it so grading never writes among "
            "the submissions"
        )
    if out / FEEDBACK_DIR == sub or out / RESULTS_DIR == sub:
        raise GradingError(
            f"submissions folder {str(submissions)!r} is where the grader writes its own files; "
            "move the submissions elsewhere"
        )
    if output.exists() and not output.is_dir():
        raise GradingError(f"output folder {str(output)!r} exists and is a file")


def _positive(name: str, value: float, unit: str = "seconds") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise GradingError(f"{name} must be a positive number of {unit}, got {value!r}")
    return float(value)


def _choose_exercise(
    subs: Sequence[Submission], exercise: str | None, exercises: Mapping[str, Any]
) -> str:
    names = ", ".join(sorted(exercises))
    if exercise is not None:
        if exercise not in exercises:
            raise GradingError(f"exercise must be one of {names}, got {exercise!r}")
        return exercise
    counts = Counter(s.exercise for s in subs if s.exercise in exercises)
    if not counts:
        raise GradingError(
            "could not tell which exercise these submissions are for (no notebook names a known "
            f"exercise in its metadata); pass --exercise, one of {names}"
        )
    (top, n), *rest = counts.most_common()
    tied = sorted([top, *(name for name, m in rest if m == n)])
    if len(tied) > 1:
        raise GradingError(
            f"the submissions are split evenly between exercises {', '.join(tied)}; "
            "pass --exercise to say which one to grade"
        )
    return top


def _check_limits(limits: Limits | None, policy: str, jobs: int | None) -> tuple[Limits, int]:
    limits = Limits() if limits is None else limits
    for name in ("memory_mb", "cpu_seconds", "output_mb", "reply_mb"):
        value = getattr(limits, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GradingError(f"{name} must be a positive whole number, got {value!r}")
    if policy not in POLICIES:
        raise GradingError(f"typed_in must be one of {', '.join(POLICIES)}, got {policy!r}")
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradingError(f"jobs must be a positive whole number, got {jobs!r}")
    return limits, jobs


# --------------------------------------------------------------------------------------------
# Progress and signals
# --------------------------------------------------------------------------------------------
class _Progress:
    """A one-line progress bar on stderr (a line per submission when stderr is not a terminal)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.started = time.perf_counter()
        self.tty = enabled and sys.stderr.isatty()

    def update(self, result: SubmissionResult, resumed: bool = False) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        note = "resumed" if resumed else result.status
        line = (
            f"Grading [{bar}] {self.done}/{self.total}  {elapsed:.0f} s  {result.file[:40]}: {note}"
        )
        if self.tty:
            end = "\n" if self.done == self.total else ""
            sys.stderr.write("\r\033[K" + line + end)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


@contextmanager
def _sigterm_interrupts():
    """SIGTERM ends the run like Ctrl-C: sandboxes stopped, scratch removed, results kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------
def _resume(subs, output, target, fingerprint, key, bar) -> dict[str, SubmissionResult]:
    results = {}
    for sub in subs:
        path = store.result_path(output, sub.file)
        stored = store.load_result(path, sub.sha256, target, fingerprint, key)
        if stored is not None:
            results[sub.file] = stored
            bar.update(stored, resumed=True)
    return results


async def _grade_all(todo, runner, jobs, save, results, bar) -> None:
    slots = asyncio.Semaphore(jobs)

    async def one(sub: Submission) -> None:
        async with slots:
            result, storable = await runner.grade(sub)
        if storable:
            await asyncio.to_thread(save, sub, result)
        results[sub.file] = result
        bar.update(result)

    try:
        await asyncio.gather(*(one(s) for s in todo))
    finally:
        await runner.close()


def _write_outputs(output: Path, ordered, spec, sandbox: str):
    frame = store.gradebook_frame(ordered, spec, sandbox)
    feedback_dir = output / FEEDBACK_DIR
    names = store.feedback_names(ordered)
    try:
        for name, result in zip(names, ordered, strict=True):
            store.atomic_write(feedback_dir / name, store.feedback_text(result, spec))
        # A submission that was removed, or whose id changed, leaves a feedback file no row
        # matches: remove it, so the folder holds one file per gradebook row.
        for stale in set(feedback_dir.glob("*.md")) - {feedback_dir / name for name in names}:
            stale.unlink()
    except OSError as error:  # feedback is a courtesy; the gradebook is the product
        sys.stderr.write(f"multilevel-grade: warning: feedback not written ({error})\n")
    csv_path = output / GRADEBOOK_NAME
    try:
        store.atomic_write(csv_path, store.gradebook_csv(frame))
    except OSError as error:
        raise GradingError(f"cannot write {str(csv_path)!r}: {error}") from error
    return frame, csv_path, feedback_dir


def grade_submissions(
    submissions: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    exercise: str | None = None,
    jobs: int | None = None,
    notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    resume: bool = True,
    progress: bool = True,
    sandbox: bool = True,
    limits: Limits | None = None,
    variant: bool = True,
    typed_in: str = "flag",
    key_file: str | os.PathLike[str] | None = None,
    exercises: Mapping[str, Any] | None = None,
) -> GradingRun:
    """Grade every file in ``submissions`` and write ``gradebook.csv`` and feedback to ``output``.

    Each notebook runs in a sandbox (bubblewrap: read-only system, no network, no
    capabilities, its own processes, resource limits), in fresh kernels; a job's sandbox serves
    the next notebook only once reset to as new. The kernels report only the answer variables,
    and the scores are computed here, with answer keys the sandbox cannot read.

    Parameters
    ----------
    submissions : path
        Folder of submitted files (searched recursively; hidden files are skipped). Every
        file gets a gradebook row, including files that are not notebooks.
    output : path
        Folder for ``gradebook.csv``, ``feedback/<student>.md`` and ``.results/`` (one
        authenticated result per submission, used to resume). Must not be inside
        ``submissions``.
    exercise : str, optional
        Exercise to grade against (``"lesson2"``); by default the one most submissions name.
    jobs : int, optional
        Notebooks run at the same time; default ``os.cpu_count()``.
    notebook_timeout, cell_timeout : float
        Seconds all cells of one notebook, and one cell, may run (defaults 120 s and 60 s).
    resume : bool
        Reuse stored results of unchanged submissions (default); ``False`` regrades everyone.
    progress : bool
        Show a progress bar on stderr.
    sandbox : bool
        Run each notebook in a bubblewrap sandbox (default). ``False`` runs notebooks
        unconfined (for machines without bubblewrap); the gradebook's ``sandbox`` column says
        ``none``.
    limits : Limits, optional
        Memory, CPU, output and reply-size limits of each sandbox (:class:`Limits`).
    variant : bool
        Run each notebook with correct numeric answers a second time with the data of a
        secret id, and flag answers that do not follow the data (default).
    typed_in : {"flag", "zero"}
        What a flagged answer gets: its points and a ``typed_in`` status (default), or 0.
    key_file : path, optional
        The key that authenticates stored results (default: see :mod:`._store`).
    exercises : mapping, optional
        Answer keys by name; default :data:`multilevel.checks.EXERCISES`.

    Returns
    -------
    GradingRun

    Raises
    ------
    GradingError
        If a folder is missing, empty or misplaced, an option is invalid, the exercise cannot
        be determined, bubblewrap is missing (without ``sandbox=False``) or the gradebook
        cannot be written.

    Examples
    --------
    >>> run = grade_submissions("submissions/", "grades/", exercise="lesson2")  # doctest: +SKIP
    >>> run.gradebook[["student_id", "total", "max", "status"]]  # doctest: +SKIP
    """
    started = time.perf_counter()
    submissions, output = Path(submissions), Path(output)
    exercises = checks.EXERCISES if exercises is None else exercises
    limits, jobs = _check_limits(limits, typed_in, jobs)
    notebook_timeout = _positive("notebook_timeout", notebook_timeout)
    cell_timeout = _positive("cell_timeout", cell_timeout)
    bwrap = find_bwrap() if sandbox else None
    if sandbox and bwrap is None:
        raise GradingError(NO_BWRAP)
    _check_folders(submissions, output)
    paths = list_submissions(submissions, output.resolve())
    if not paths:
        raise GradingError(
            f"submissions folder {str(submissions)!r} is empty (no files other than hidden ones)"
        )
    subs = [read_submission(p, submissions) for p in paths]
    target = _choose_exercise(subs, exercise, exercises)
    spec = exercises[target]
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GradingError(f"cannot create output folder {str(output)!r}: {error}") from error
    key = store.load_key(Path(key_file) if key_file else store.default_key_file())
    fingerprint = key_fingerprint(spec)
    bar = _Progress(len(subs), progress)
    results = _resume(subs, output, target, fingerprint, key, bar) if resume else {}
    n_resumed = len(results)
    todo = [s for s in subs if s.file not in results]

    def save(sub: Submission, result: SubmissionResult) -> None:
        path = store.result_path(output, sub.file)
        store.save_result(path, result, target, fingerprint, key)

    if todo:
        run_dir = new_run_dir()
        try:
            worker = WorkerSettings(
                run_dir=run_dir,
                lib=prepare_lib(run_dir),
                timeouts=Timeouts(cell=cell_timeout, notebook=notebook_timeout),
                limits=limits,
                bwrap=bwrap,
                hide=(keys_folder(), *root_only_entries()),
                names=(*spec.question_ids, "STUDENT_ID"),
            )
            settings = Settings(exercise=target, variant=variant, worker=worker)
            runner = Runner(spec, settings, Grader(spec, typed_in))
            with _sigterm_interrupts():
                asyncio.run(_grade_all(todo, runner, jobs, save, results, bar))
        finally:
            remove_tree(run_dir)

    ordered = [_with_duplicates(results[s.file], results.values()) for s in subs]
    sandbox_name = "bubblewrap" if bwrap else "none"
    frame, csv_path, feedback_dir = _write_outputs(output, ordered, spec, sandbox_name)
    return GradingRun(
        gradebook=frame,
        results=tuple(ordered),
        csv_path=csv_path,
        feedback_dir=feedback_dir,
        n_graded=len(todo),
        n_resumed=n_resumed,
        seconds=time.perf_counter() - started,
        sandbox=sandbox_name,
    )


def _with_duplicates(result: SubmissionResult, everyone: Any) -> SubmissionResult:
    if not result.student_id:
        return result
    others = sorted(
        r.file for r in everyone if r.student_id == result.student_id and r.file != result.file
    )
    if not others:
        return result
    problem = (
        "duplicate_student_id",
        f"another submission has the same student id ({', '.join(others[:3])})",
    )
    return replace(result, problems=(*result.problems, problem))


__all__ = ["DEFAULT_CELL_TIMEOUT", "DEFAULT_NOTEBOOK_TIMEOUT", "GradingError", "grade_submissions"]
