"""Grade a folder of submitted exercise notebooks into a gradebook CSV and feedback files."""

from __future__ import annotations

import ast
import asyncio
import csv
import hashlib
import inspect
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

import simdata
from multilevel import checks

from ._kernel import (
    CAPTURE_MODULE,
    ExecutionReport,
    ForkServer,
    KernelStartError,
    kernel_environment,
)
from ._kernel import run_notebook as _run_notebook

#: Default seconds all cells of one notebook may run together.
DEFAULT_NOTEBOOK_TIMEOUT = 120.0
#: Default seconds one cell may run before it is interrupted.
DEFAULT_CELL_TIMEOUT = 60.0
#: Largest submission file read, in bytes.
MAX_NOTEBOOK_BYTES = 50_000_000
#: Bumped when the stored per-student result format or the grading rules change.
RESULT_FORMAT = 1
#: Fewest notebooks worth a fork server (its one-off imports cost about two kernels' worth).
_FORK_SERVER_MIN = 4
#: Number of made-up student ids used to find questions whose answer does not depend on the id.
_N_PROBE_IDS = 5

GRADEBOOK_NAME = "gradebook.csv"
FEEDBACK_DIR = "feedback"
RESULTS_DIR = ".results"

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
    "duplicate_student_id",
    "unanswered",
    "ok",
)


class GradingError(ValueError):
    """The grader cannot start: a missing or empty folder, a bad option, an unknown exercise."""


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
class SubmissionResult:
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

    @property
    def score(self) -> float:
        """Points earned."""
        return float(sum(q.points for q in self.questions))

    @property
    def max_score(self) -> float:
        """Points available."""
        return float(sum(q.max_points for q in self.questions))

    @property
    def status(self) -> str:
        """The most severe problem's code, or ``"ok"``."""
        codes = {code for code, _ in self.problems}
        return next((s for s in STATUS_ORDER if s in codes), "ok")

    @property
    def reason(self) -> str:
        """All problems as plain-English sentences (empty when there were none)."""
        return " ".join(_sentence(text) for _, text in self.problems)

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
        ``student_id, exercise, file, <question ids>..., total, max, status, reason``.
    results : tuple of SubmissionResult
        In the gradebook's row order.
    csv_path, feedback_dir : Path
    n_graded, n_resumed : int
        Submissions graded in this run; submissions whose stored result was reused.
    seconds : float
        Wall-clock time of the run, in seconds.
    """

    gradebook: pd.DataFrame
    results: tuple[SubmissionResult, ...]
    csv_path: Path
    feedback_dir: Path
    n_graded: int
    n_resumed: int
    seconds: float


# --------------------------------------------------------------------------------------------
# Reading submissions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Submission:
    path: Path
    file: str
    sha256: str
    data: bytes
    problem: str | None = None
    sources: tuple[str, ...] = ()
    exercise: str | None = None
    student_id_literal: str | None = None


_ID_PATTERN = re.compile(r"^\s*STUDENT_ID\s*=\s*(['\"])(.*?)\1", re.MULTILINE)


def _find_student_id(sources: Sequence[str]) -> str | None:
    """The first ``STUDENT_ID = "<literal>"`` in the code cells, read without running anything."""
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            match = _ID_PATTERN.search(source)
            if match:
                return match.group(2)
            continue
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, (str, int))
                and not isinstance(node.value.value, bool)
            ):
                return str(node.value.value)
    return None


def _read_submission(path: Path, root: Path) -> _Submission:
    file = path.relative_to(root).as_posix()
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return _Submission(
            path,
            file,
            "",
            b"",
            problem=f"the file is {size / 1e6:.0f} MB, more than the "
            f"{MAX_NOTEBOOK_BYTES / 1e6:.0f} MB a notebook may have",
        )
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() != ".ipynb":
        return _Submission(path, file, sha, data, problem="not a Jupyter notebook (.ipynb) file")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        return _Submission(
            path, file, sha, data, problem=f"the notebook file is not valid JSON ({error})"
        )
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return _Submission(
            path, file, sha, data, problem="the file is JSON but not a Jupyter notebook"
        )
    sources = []
    for cell in nb["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            if isinstance(source, list):
                source = "".join(s for s in source if isinstance(s, str))
            if isinstance(source, str):
                sources.append(source)
    metadata = nb.get("metadata")
    section = metadata.get("multilevel") if isinstance(metadata, dict) else None
    exercise = section.get("exercise") if isinstance(section, dict) else None
    return _Submission(
        path,
        file,
        sha,
        data,
        sources=tuple(sources),
        exercise=exercise if isinstance(exercise, str) else None,
        student_id_literal=_find_student_id(sources),
    )


def _list_submissions(root: Path, output: Path) -> list[Path]:
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d != "__pycache__" and (here / d).resolve() != output
        )
        paths += [here / f for f in sorted(filenames) if not f.startswith(".")]
    return [p for p in paths if p.is_file()]


# --------------------------------------------------------------------------------------------
# Scoring (in the grader's own process)
# --------------------------------------------------------------------------------------------
def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _zero(spec: Any, message: str, status: str = "not_graded") -> tuple[QuestionResult, ...]:
    return tuple(
        QuestionResult(q.id, status, 0.0, float(q.points), message) for q in spec.questions
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    return type(a) is type(b) and a == b


class _Grader:
    """Answer keys, evaluated in the grader's process only."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
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
                return _zero(spec, "not graded: the answer key failed for this student id"), (
                    f"the expected answers could not be computed for this student id "
                    f"({type(error).__name__}: {error})"
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


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------
def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _result_path(output: Path, file: str) -> Path:
    digest = hashlib.sha256(file.encode("utf-8")).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", file)[:80]
    return output / RESULTS_DIR / f"{stem}.{digest}.json"


def _key_fingerprint(spec: Any) -> str:
    """Hash of the answer key's source, so a changed key regrades everyone on resume."""
    parts = [str(RESULT_FORMAT)]
    for obj in (checks, getattr(spec, "solve", None), getattr(spec, "make_data", None)):
        try:
            parts.append(Path(inspect.getsourcefile(obj)).read_text(encoding="utf-8"))
        except (TypeError, OSError):
            parts.append(repr(obj))
    parts.append(repr(getattr(spec, "questions", "")))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _load_result(path: Path, sha256: str, exercise: str, key: str) -> SubmissionResult | None:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if (
            stored.get("format") != RESULT_FORMAT
            or stored.get("key") != key
            or stored.get("exercise") != exercise
        ):
            return None
        result = SubmissionResult.from_json(stored["result"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return result if result.sha256 == sha256 else None


def _save_result(path: Path, result: SubmissionResult, exercise: str, key: str) -> None:
    payload = {"format": RESULT_FORMAT, "exercise": exercise, "key": key}
    payload["result"] = result.to_json()
    _atomic_write(path, json.dumps(payload, indent=1))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (student ids and reasons are untrusted)."""
    value = value.replace("\r", " ").replace("\n", " ")
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fmt(points: float) -> str:
    return f"{points:g}"


def _gradebook_frame(results: Sequence[SubmissionResult], spec: Any) -> pd.DataFrame:
    rows = []
    for r in results:
        row: dict[str, Any] = {"student_id": r.student_id, "exercise": r.exercise, "file": r.file}
        by_id = {q.question: q.points for q in r.questions}
        for qid in spec.question_ids:
            row[qid] = by_id.get(qid, 0.0)
        row.update(total=r.score, max=r.max_score, status=r.status, reason=r.reason)
        rows.append(row)
    columns = ["student_id", "exercise", "file", *spec.question_ids, "total", "max"]
    return pd.DataFrame(rows, columns=[*columns, "status", "reason"])


def _gradebook_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    text_columns = {"student_id", "exercise", "file", "status", "reason"}
    for row in frame.itertuples(index=False):
        writer.writerow(
            [
                _csv_text(str(v)) if c in text_columns else _fmt(float(v))
                for c, v in zip(frame.columns, row, strict=True)
            ]
        )
    return buffer.getvalue()


def _md(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ").strip()


def _feedback_text(result: SubmissionResult, spec: Any) -> str:
    who = result.student_id or "(student id missing)"
    lines = [
        f"# Feedback: {spec.name} ({_md(getattr(spec, 'title', ''))})",
        "",
        f"- Student: {_md(who)}",
        f"- Submission: {_md(result.file)}",
        f"- Score: {_fmt(result.score)} / {_fmt(result.max_score)}",
        "",
        "## Questions",
        "",
    ]
    labels = {
        "correct": "PASS",
        "incorrect": "FAIL",
        "unanswered": "NOT ANSWERED",
        "invalid": "CANNOT CHECK",
        "not_graded": "NOT GRADED",
    }
    for q in result.questions:
        label = labels.get(q.status, q.status.upper())
        lines.append(
            f"- **{q.question}** {label} ({_fmt(q.points)}/{_fmt(q.max_points)}): "
            f"{_md(_sentence(q.message))}"
        )
    if result.problems:
        lines += ["", "## Problems found when your notebook was run", ""]
        lines += [f"- {_md(_sentence(text))}" for _, text in result.problems]
    return "\n".join(lines) + "\n"


def _feedback_names(results: Sequence[SubmissionResult]) -> list[str]:
    names = []
    for r in results:
        base = r.student_id or "no-id-" + Path(r.file).stem
        names.append(re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:80] or "submission")
    counts = Counter(names)
    out = []
    for name, r in zip(names, results, strict=True):
        if counts[name] > 1:
            digest = hashlib.sha256(r.file.encode("utf-8")).hexdigest()[:8]
            name = f"{name}-{digest}"
        out.append(name + ".md")
    return out


# --------------------------------------------------------------------------------------------
# Running one submission
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


def _prepare_packages(run_dir: Path) -> Path:
    """A pristine copy of the course packages plus the grader's kernel helpers, made once per run.

    No kernel ever runs with this folder on its path: the fork server and every submission get
    their own copies of it, so a student cell that rewrites a package file it can see changes
    only its own copy, never the next student's.
    """
    pristine = run_dir / "pristine"
    for module in (checks.__name__.split(".")[0], simdata.__name__):
        source = Path(sys.modules[module].__file__).parent
        shutil.copytree(
            source,
            pristine / module,
            ignore=shutil.ignore_patterns("grade", "*.ipynb", ".*"),
        )
    here = Path(__file__).parent
    shutil.copyfile(here / "_capture_kernel.py", pristine / f"{CAPTURE_MODULE}.py")
    shutil.copyfile(here / "_zygote.py", pristine / f"{ForkServer.MODULE}.py")
    for path in pristine.rglob("*"):  # a speed bump, not a wall: kernels run as the same user
        path.chmod(path.stat().st_mode & ~0o222)
    return pristine


def _remove_tree(path: Path) -> None:
    """Delete a submission's temporary folder, read-only package copy included."""
    for folder in [path, *path.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            try:
                folder.chmod(folder.stat().st_mode | 0o700)
            except OSError:
                pass
    shutil.rmtree(path, ignore_errors=True)


def _needs_kernel(sub: _Submission, exercise: str) -> bool:
    """False for submissions graded without running them (unreadable, wrong exercise)."""
    return sub.problem is None and sub.exercise in (None, exercise)


class _Runner:
    def __init__(
        self,
        *,
        spec: Any,
        exercise: str,
        run_dir: Path,
        packages: Path,
        cell_timeout: float,
        notebook_timeout: float,
        run_notebook: Callable[..., Any],
        fork_server: ForkServer | None = None,
    ) -> None:
        self.fork_server = fork_server
        self.spec, self.exercise = spec, exercise
        self.run_dir, self.packages = run_dir, packages
        self.cell_timeout, self.notebook_timeout = cell_timeout, notebook_timeout
        self.grader = _Grader(spec)
        self.run_notebook = run_notebook
        self.names = (*spec.question_ids, "STUDENT_ID")

    def _without_kernel(self, sub: _Submission, code: str, text: str) -> SubmissionResult:
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
            exercise=self.exercise,
            questions=_zero(self.spec, f"not graded: {text}"),
            problems=((code, text),),
        )

    async def grade(self, sub: _Submission) -> tuple[SubmissionResult, bool]:
        """Grade one submission; returns the result and whether it may be stored for resume."""
        started = time.perf_counter()
        if sub.problem is not None:
            return self._without_kernel(sub, "unreadable", sub.problem), True
        if sub.exercise is not None and sub.exercise != self.exercise:
            text = (
                f"this notebook is for exercise {sub.exercise!r}, not {self.exercise!r}; "
                f"move it into a folder of its own and grade that folder with --exercise "
                f"{sub.exercise}"
            )
            return self._without_kernel(sub, "wrong_exercise", text), True

        problems: list[tuple[str, str]] = []
        if sub.exercise is None:
            problems.append(
                (
                    "ok",
                    f"the notebook does not say which exercise it is; graded as {self.exercise}",
                )
            )
        workdir = Path(tempfile.mkdtemp(prefix="s-", dir=self.run_dir))
        try:
            report = await self._execute(sub, workdir)
        except KernelStartError as error:
            result = self._without_kernel(sub, "grader_error", f"{error}; run the grader again")
            return result, False
        finally:
            await asyncio.to_thread(_remove_tree, workdir)

        if report.stopped:
            problems.append(("incomplete", report.stopped))
        unreadable_answers = report.capture_failures > 0 and not report.answers
        if unreadable_answers:
            problems.append(
                (
                    "grader_error",
                    "the grader could not read any answer from the kernel "
                    f"({report.capture_failures} attempts failed)",
                )
            )
        timeouts = [p for p in report.problems if p.kind == "timeout"]
        errors = [p for p in report.problems if p.kind == "error"]
        if timeouts:
            cells = ", ".join(str(p.cell) for p in timeouts)
            problems.append(
                (
                    "cell_timeout",
                    f"code cell {cells} ran longer than {self.cell_timeout:g} s and was "
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
        student_id, id_problem = self._student_id(sub, report)
        if id_problem:
            problems.append(id_problem)
        questions, key_problem = await asyncio.to_thread(
            self.grader.score, report.answers, student_id
        )
        if key_problem:
            problems.append(("grader_error", key_problem))
        if questions and all(q.status == "unanswered" for q in questions):
            problems.append(("unanswered", "no question was answered (every qN is still ...)"))
        result = SubmissionResult(
            file=sub.file,
            sha256=sub.sha256,
            student_id=student_id
            if student_id not in (None, checks.PLACEHOLDER_STUDENT_ID)
            else "",
            exercise=self.exercise,
            questions=questions,
            problems=tuple(problems),
            seconds=time.perf_counter() - started,
        )
        return result, key_problem is None and not unreadable_answers

    async def _execute(self, sub: _Submission, workdir: Path) -> ExecutionReport:
        packages = workdir / "packages"
        await asyncio.to_thread(shutil.copytree, self.packages, packages)
        (workdir / "work").mkdir()
        notebook_copy = workdir / "work" / Path(sub.file).name
        notebook_copy.write_bytes(sub.data)
        env = kernel_environment(os.environ, pythonpath=packages, ipython_dir=workdir / "ipython")
        for attempt in range(2):
            try:
                return await self.run_notebook(
                    list(sub.sources),
                    names=self.names,
                    workdir=workdir / "work",
                    env=env,
                    cell_timeout=self.cell_timeout,
                    notebook_timeout=self.notebook_timeout,
                    fork_server=self.fork_server if attempt == 0 else None,
                    packages=packages,
                )
            except KernelStartError:
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _student_id(
        sub: _Submission, report: ExecutionReport
    ) -> tuple[str | None, tuple[str, str] | None]:
        ran = report.answers.get("STUDENT_ID")
        ran_value = (
            ran.get("value") if isinstance(ran, dict) and ran.get("kind") == "text" else None
        )
        raw = sub.student_id_literal if sub.student_id_literal is not None else ran_value
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
        if isinstance(ran_value, str) and sub.student_id_literal is not None:
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


# --------------------------------------------------------------------------------------------
# The public entry point
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


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise GradingError(f"{name} must be a positive number of seconds, got {value!r}")
    return float(value)


def _choose_exercise(
    subs: Sequence[_Submission], exercise: str | None, exercises: Mapping[str, Any]
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
    fork_server: bool = True,
    exercises: Mapping[str, Any] | None = None,
) -> GradingRun:
    """Grade every file in ``submissions`` and write ``gradebook.csv`` and feedback to ``output``.

    Each notebook runs in a fresh Jupyter kernel, in a temporary copy (the submitted files are
    only read), with a copy of the course packages first on its path. The kernel reports only
    the answer variables; the score comes from :mod:`multilevel.checks` in this process.

    Parameters
    ----------
    submissions : path
        Folder of submitted files (searched recursively; hidden files are skipped). Every
        file gets a gradebook row, including files that are not notebooks.
    output : path
        Folder for ``gradebook.csv``, ``feedback/<student>.md`` and ``.results/`` (one stored
        result per submission, used to resume). Must not be inside ``submissions``.
    exercise : str, optional
        Exercise to grade against (``"lesson2"``); by default the one most submissions name in
        their notebook metadata. Notebooks for another exercise score 0.
    jobs : int, optional
        Notebooks run at the same time; default ``os.cpu_count()``.
    notebook_timeout, cell_timeout : float
        Seconds all cells of one notebook, and one cell, may run (defaults 120 s and 60 s).
        A cell past its timeout is interrupted and the next cell runs.
    resume : bool
        Reuse stored results of unchanged submissions (default). ``False`` regrades everyone.
    progress : bool
        Show a progress bar on stderr.
    fork_server : bool
        Fork each fresh kernel from one process that has already imported ipykernel, numpy,
        pandas, scipy, statsmodels and the course packages (default; about 1 CPU second saved
        per notebook; used from 4 notebooks on). ``False`` starts every kernel as a new Python
        process.
    exercises : mapping, optional
        Answer keys by name; default :data:`multilevel.checks.EXERCISES`.

    Returns
    -------
    GradingRun

    Raises
    ------
    GradingError
        If a folder is missing, empty or misplaced, an option is invalid, or the exercise
        cannot be determined.

    Examples
    --------
    >>> run = grade_submissions("submissions/", "grades/", exercise="lesson2")  # doctest: +SKIP
    >>> run.gradebook[["student_id", "total", "max", "status"]]  # doctest: +SKIP
    """
    started = time.perf_counter()
    submissions, output = Path(submissions), Path(output)
    exercises = checks.EXERCISES if exercises is None else exercises
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradingError(f"jobs must be a positive whole number, got {jobs!r}")
    notebook_timeout = _positive("notebook_timeout", notebook_timeout)
    cell_timeout = _positive("cell_timeout", cell_timeout)
    _check_folders(submissions, output)
    paths = _list_submissions(submissions, output.resolve())
    if not paths:
        raise GradingError(
            f"submissions folder {str(submissions)!r} is empty (no files other than hidden ones)"
        )
    subs = [_read_submission(p, submissions) for p in paths]
    target = _choose_exercise(subs, exercise, exercises)
    spec = exercises[target]
    key = _key_fingerprint(spec)
    try:
        output.mkdir(parents=True, exist_ok=True)
        (output / RESULTS_DIR).mkdir(exist_ok=True)
    except OSError as error:
        raise GradingError(f"cannot create output folder {str(output)!r}: {error}") from error

    bar = _Progress(len(subs), progress)
    results: dict[str, SubmissionResult] = {}
    todo = []
    for sub in subs:
        stored = (
            _load_result(_result_path(output, sub.file), sub.sha256, target, key)
            if resume
            else None
        )
        if stored is not None:
            results[sub.file] = stored
            bar.update(stored, resumed=True)
        else:
            todo.append(sub)
    n_resumed = len(results)

    async def grade_all(run_dir: Path) -> None:
        packages = await asyncio.to_thread(_prepare_packages, run_dir)
        server = None
        n_kernels = sum(_needs_kernel(s, target) for s in todo)
        if fork_server and hasattr(os, "fork") and n_kernels >= _FORK_SERVER_MIN:
            preloaded = run_dir / "preloaded"
            await asyncio.to_thread(shutil.copytree, packages, preloaded)
            env = kernel_environment(
                os.environ, pythonpath=preloaded, ipython_dir=run_dir / "ipython"
            )
            server = ForkServer(preloaded, env)
            try:
                await server.start()
            except (KernelStartError, OSError, asyncio.TimeoutError, ValueError):
                await server.close()
                server = None  # fall back to starting each kernel as a new process
        try:
            await _grade_with(run_dir, packages, server)
        finally:
            if server is not None:
                await server.close()

    async def _grade_with(run_dir: Path, packages: Path, server: ForkServer | None) -> None:
        runner = _Runner(
            spec=spec,
            exercise=target,
            run_dir=run_dir,
            packages=packages,
            cell_timeout=cell_timeout,
            notebook_timeout=notebook_timeout,
            run_notebook=_run_notebook,
            fork_server=server,
        )
        slots = asyncio.Semaphore(jobs)

        async def one(sub: _Submission) -> None:
            if _needs_kernel(sub, target):
                async with slots:
                    result, storable = await runner.grade(sub)
            else:
                result, storable = await runner.grade(sub)
            if storable:
                _save_result(_result_path(output, sub.file), result, target, key)
            results[sub.file] = result
            bar.update(result)

        await asyncio.gather(*(one(s) for s in todo))

    if todo:
        with tempfile.TemporaryDirectory(prefix="mlgrade-") as tmp:
            asyncio.run(grade_all(Path(tmp)))

    ordered = [_with_duplicates(results[s.file], results.values()) for s in subs]
    frame = _gradebook_frame(ordered, spec)
    csv_path = output / GRADEBOOK_NAME
    feedback_dir = output / FEEDBACK_DIR
    names = _feedback_names(ordered)
    for name, result in zip(names, ordered, strict=True):
        _atomic_write(feedback_dir / name, _feedback_text(result, spec))
    # A submission that was removed, or whose id changed (a fixed placeholder id), leaves a
    # feedback file no row matches: remove it, so the folder holds one file per gradebook row.
    for stale in set(feedback_dir.glob("*.md")) - {feedback_dir / name for name in names}:
        stale.unlink()
    _atomic_write(csv_path, _gradebook_csv(frame))
    return GradingRun(
        gradebook=frame,
        results=tuple(ordered),
        csv_path=csv_path,
        feedback_dir=feedback_dir,
        n_graded=len(todo),
        n_resumed=n_resumed,
        seconds=time.perf_counter() - started,
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


__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_NOTEBOOK_TIMEOUT",
    "GradingError",
    "GradingRun",
    "QuestionResult",
    "SubmissionResult",
    "grade_submissions",
]
