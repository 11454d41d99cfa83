"""Reading submitted files with bounded work: the grader never runs or parses student code."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: Largest submission file read, in bytes.
MAX_NOTEBOOK_BYTES = 50_000_000
#: Most code (all code cells together) a graded notebook may hold, in characters.
MAX_CODE_CHARS = 1_000_000
#: Most code cells a graded notebook may have.
MAX_CODE_CELLS = 2_000
#: Characters of the first code cell searched for the student id.
_ID_SEARCH_CHARS = 10_000

# ``STUDENT_ID = "..."`` (or '...', or a number) alone on a line, an optional comment after it.
_ID_LINE = re.compile(
    r"""^[ \t]*STUDENT_ID[ \t]*=[ \t]*"""
    r"""(?:(['"])((?:(?!\1)[^\r\n\\]){0,200})\1|([0-9]{1,40}))[ \t]*(?:#[^\r\n]*)?$""",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Submission:
    """One submitted file, as read (nothing of it has run).

    Attributes
    ----------
    path : Path
    file : str
        Path relative to the submissions folder, ``/`` separated.
    sha256 : str
        Hash of the bytes (empty when the file was too large to read).
    problem : str or None
        Why the file cannot be graded (not a notebook, invalid JSON, too large), else None.
    sources : tuple of str
        The code cells' sources, in order.
    exercise : str or None
        ``metadata["multilevel"]["exercise"]``.
    student_id_literal : str or None
        The ``STUDENT_ID = "..."`` literal of the first code cell.
    """

    path: Path
    file: str
    sha256: str
    problem: str | None = None
    sources: tuple[str, ...] = ()
    exercise: str | None = None
    student_id_literal: str | None = None


def find_student_id(sources: Sequence[str]) -> str | None:
    """The ``STUDENT_ID = "<literal>"`` line of the first code cell, read without running it.

    Only the first code cell counts (the exercise notebooks put the id there), and only its
    first 10,000 characters are searched with a line-anchored pattern: bounded work whatever
    the cell holds.

    Examples
    --------
    >>> find_student_id(['STUDENT_ID = "ada"  # me', 'STUDENT_ID = "eve"'])
    'ada'
    >>> find_student_id(["import x", 'STUDENT_ID = "eve"']) is None
    True
    """
    if not sources:
        return None
    match = _ID_LINE.search(sources[0][:_ID_SEARCH_CHARS])
    if match is None:
        return None
    return match.group(2) if match.group(1) else match.group(3)


def _code_sources(cells: list) -> tuple[str, ...] | str:
    """The code cells' sources, or a sentence saying why there is too much code."""
    sources: list[str] = []
    total = 0
    for cell in cells:
        if not (isinstance(cell, dict) and cell.get("cell_type") == "code"):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        total += len(source)
        sources.append(source)
        if total > MAX_CODE_CHARS:
            return (
                f"the code cells hold more than {MAX_CODE_CHARS:,} characters, more than an "
                "exercise notebook needs; it was not run"
            )
        if len(sources) > MAX_CODE_CELLS:
            return (
                f"the notebook has more than {MAX_CODE_CELLS:,} code cells, more than an "
                "exercise notebook needs; it was not run"
            )
    return tuple(sources)


def _parse(path: Path, file: str, data: bytes, sha: str) -> Submission:
    if path.suffix.lower() != ".ipynb":
        return Submission(path, file, sha, problem="not a Jupyter notebook (.ipynb) file")
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        return Submission(
            path, file, sha, problem=f"the notebook file is not valid JSON ({str(error)[:200]})"
        )
    del data
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return Submission(path, file, sha, problem="the file is JSON but not a Jupyter notebook")
    sources = _code_sources(nb["cells"])
    if isinstance(sources, str):
        return Submission(path, file, sha, problem=sources)
    metadata = nb.get("metadata")
    section = metadata.get("multilevel") if isinstance(metadata, dict) else None
    exercise = section.get("exercise") if isinstance(section, dict) else None
    return Submission(
        path,
        file,
        sha,
        sources=sources,
        exercise=exercise if isinstance(exercise, str) else None,
        student_id_literal=find_student_id(sources),
    )


def read_submission(path: Path, root: Path) -> Submission:
    """Read one submitted file; never raises (a problem becomes ``Submission.problem``)."""
    file = path.relative_to(root).as_posix()
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return Submission(
                path,
                file,
                "",
                problem=f"the file is {size / 1e6:.1f} MB, more than the "
                f"{MAX_NOTEBOOK_BYTES / 1e6:.0f} MB a notebook may have",
            )
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        return _parse(path, file, data, sha)
    except MemoryError:
        return Submission(path, file, "", problem="the file is too large to read")
    except Exception as error:  # an unreadable file is that submission's problem only
        return Submission(
            path, file, "", problem=f"the file could not be read ({type(error).__name__})"
        )


def list_submissions(root: Path, output: Path) -> list[Path]:
    """Every file under ``root`` but hidden non-notebooks (outside ``output``), in a stable order."""
    paths = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and d != "__pycache__" and (here / d).resolve() != output
        )
        # Hidden files are system litter (.DS_Store), but a notebook is a submission whatever
        # its name (a file named "..\\..\\evil.ipynb" starts with a dot on Linux).
        paths += [
            here / f
            for f in sorted(filenames)
            if not f.startswith(".") or f.lower().endswith(".ipynb")
        ]
    return [p for p in paths if p.is_file()]
