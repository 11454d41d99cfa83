"""The grader's files: authenticated stored results, ``gradebook.csv`` and feedback files.

A stored result (``OUT/.results/*.json``) lets an interrupted run resume. It is trusted only
if its HMAC-SHA256 verifies with a key kept outside the output folder (by default
``$XDG_STATE_HOME/multilevel-grade/results.key``, i.e. ``~/.local/state/...``; the
``MULTILEVEL_GRADE_KEY`` environment variable or ``key_file=`` names another file), so a
result file written by anyone else is ignored and that submission is graded again.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._results import SubmissionResult, sentence

#: Bumped when the stored per-student result format or the grading rules change.
RESULT_FORMAT = 2

GRADEBOOK_NAME = "gradebook.csv"
FEEDBACK_DIR = "feedback"
RESULTS_DIR = ".results"
KEY_ENV = "MULTILEVEL_GRADE_KEY"


def atomic_write(path: Path, text: str) -> None:
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


def result_path(output: Path, file: str) -> Path:
    digest = hashlib.sha256(file.encode("utf-8")).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", file)[:80]
    return output / RESULTS_DIR / f"{stem}.{digest}.json"


def default_key_file() -> Path:
    """Where the results key lives unless ``MULTILEVEL_GRADE_KEY`` names another file."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "multilevel-grade" / "results.key"


def load_key(path: Path) -> bytes | None:
    """The results key, made on first use (readable by its owner only); None if impossible."""
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        return path.read_bytes()
    except OSError:
        return None


def _mac(key: bytes, payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def load_result(
    path: Path, sha256: str, exercise: str, fingerprint: str, key: bytes | None
) -> SubmissionResult | None:
    """A stored result, if it is authentic and still applies; else None (grade again)."""
    if key is None:
        return None
    try:
        if path.stat().st_size > 1_000_000:
            return None
        stored = json.loads(path.read_text(encoding="utf-8"))
        payload = stored["payload"]
        if not hmac.compare_digest(str(stored["mac"]), _mac(key, payload)):
            return None
        if (
            payload.get("format") != RESULT_FORMAT
            or payload.get("key") != fingerprint
            or payload.get("exercise") != exercise
        ):
            return None
        result = SubmissionResult.from_json(payload["result"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return result if result.sha256 == sha256 else None


def save_result(
    path: Path, result: SubmissionResult, exercise: str, fingerprint: str, key: bytes | None
) -> bool:
    """Store a result for resume; False (and nothing stored) if it cannot be written."""
    if key is None:
        return False
    payload = {"format": RESULT_FORMAT, "exercise": exercise, "key": fingerprint}
    payload["result"] = result.to_json()
    try:
        atomic_write(path, json.dumps({"payload": payload, "mac": _mac(key, payload)}, indent=1))
    except OSError:
        return False
    return True


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (student ids and reasons are untrusted)."""
    value = value.replace("\r", " ").replace("\n", " ")
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fmt(points: float) -> str:
    return f"{points:g}"


def gradebook_frame(
    results: Sequence[SubmissionResult], spec: Any, sandbox: str = "bubblewrap"
) -> pd.DataFrame:
    rows = []
    for r in results:
        row: dict[str, Any] = {"student_id": r.student_id, "exercise": r.exercise, "file": r.file}
        by_id = {q.question: q.points for q in r.questions}
        for qid in spec.question_ids:
            row[qid] = by_id.get(qid, 0.0)
        row.update(total=r.score, max=r.max_score, status=r.status, reason=r.reason)
        row["sandbox"] = sandbox
        rows.append(row)
    columns = ["student_id", "exercise", "file", *spec.question_ids, "total", "max"]
    return pd.DataFrame(rows, columns=[*columns, "status", "reason", "sandbox"])


def gradebook_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(frame.columns))
    text_columns = {"student_id", "exercise", "file", "status", "reason", "sandbox"}
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


def feedback_text(result: SubmissionResult, spec: Any) -> str:
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
        "not_computed": "NOT COMPUTED",
    }
    for q in result.questions:
        label = labels.get(q.status, q.status.upper())
        lines.append(
            f"- **{q.question}** {label} ({_fmt(q.points)}/{_fmt(q.max_points)}): "
            f"{_md(sentence(q.message))}"
        )
    if result.problems:
        lines += ["", "## Problems found when your notebook was run", ""]
        lines += [f"- {_md(sentence(text))}" for _, text in result.problems]
    return "\n".join(lines) + "\n"


def feedback_names(results: Sequence[SubmissionResult]) -> list[str]:
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
