"""Write the student exercise notebooks in exercises/ from the solution notebooks in solutions/.

solutions/ is the single source. For each ``solutions/NAME.ipynb`` this writes
``exercises/NAME.ipynb`` in which

* every code cell tagged ``solution`` keeps its leading comment lines (the instructions) and has
  its code replaced by one placeholder line per variable it assigns, ``q3 = ...  # YOUR ANSWER
  HERE`` (``STUDENT_ID`` gets ``"your-student-id"``); the ``solution`` tag is dropped;
* outputs and execution counts are cleared, and only the notebook metadata ``kernelspec``,
  ``language_info`` and ``multilevel`` are kept.

The output is deterministic: the same solutions give byte-identical exercises.

Usage::

    python scripts/make_exercises.py            # (re)write exercises/   (`make exercises`)
    python scripts/make_exercises.py --check    # exit 1 if exercises/ is stale
    python scripts/make_exercises.py --force    # overwrite even what looks like student work

Students: copy an exercise notebook before you work in it (or work in place and never run this
script in your copy of the course). The script refuses to overwrite an exercise notebook that
has outputs, an edited STUDENT_ID or filled-in answers, unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
SOLUTION_TAG = "solution"
PLACEHOLDER_STUDENT_ID = "your-student-id"
ANSWER_MARK = "# YOUR ANSWER HERE"
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info", "multilevel")
# An answer variable that a student has filled in: `q3 = <anything but ...>`.
_ANSWER_LINE = re.compile(r"^(q\d+)\s*=\s*(?P<value>.*?)\s*(#.*)?$")
_STUDENT_ID_LINE = re.compile(r"^STUDENT_ID\s*=\s*(?P<value>.*?)\s*(#.*)?$")


@dataclass(frozen=True)
class Problem:
    """Why an existing exercise notebook is not overwritten or is stale."""

    path: Path
    reason: str


def assigned_names(source: str) -> list[str]:
    """Names assigned at the top level of ``source``, in order of first assignment.

    Examples
    --------
    >>> assigned_names("res = fit()\\nq2 = res.sd\\nq2 = round(q2)")
    ['res', 'q2']
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id not in names:
                names.append(target.id)
    return names


def placeholder_source(source: str) -> str:
    """The exercise version of a solution cell: its leading comments plus placeholders.

    Only answer variables (``q1``, ``q2``, ...) and ``STUDENT_ID`` get a placeholder line; other
    variables a solution computes on the way are the student's to write.

    Examples
    --------
    >>> print(placeholder_source("# Fit the model.\\nres = fit()\\nq2 = res.sd"))
    # Fit the model.
    q2 = ...  # YOUR ANSWER HERE
    """
    lines = source.splitlines()
    leading = []
    for line in lines:
        if line.strip().startswith("#"):
            leading.append(line.rstrip())
        else:
            break
    out = list(leading)
    names = assigned_names(source)
    for name in names:
        if name == "STUDENT_ID":
            out.append(f'STUDENT_ID = "{PLACEHOLDER_STUDENT_ID}"  # put your student id here')
        elif re.fullmatch(r"q\d+", name):
            out.append(f"{name} = ...  {ANSWER_MARK}")
    if len(out) == len(leading):
        out.append("# YOUR CODE HERE")
    return "\n".join(out)


def _clean_metadata(metadata: dict) -> dict:
    return {k: copy.deepcopy(metadata[k]) for k in KEPT_NOTEBOOK_METADATA if k in metadata}


def make_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise notebook made from one solution notebook (the input is not changed)."""
    nb = copy.deepcopy(solution)
    nb.metadata = nbformat.NotebookNode(_clean_metadata(nb.metadata))
    for cell in nb.cells:
        tags = list(cell.metadata.get("tags", []))
        cell.metadata = nbformat.NotebookNode(
            {k: v for k, v in cell.metadata.items() if k in ("tags", "editable", "deletable")}
        )
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        if SOLUTION_TAG in tags:
            cell.source = placeholder_source(cell.source)
            tags = [t for t in tags if t != SOLUTION_TAG]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """Notebook JSON text exactly as written to disk."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def generate(solutions_dir: Path) -> dict[str, str]:
    """File name -> exercise notebook text, for every ``*.ipynb`` in ``solutions_dir``."""
    out = {}
    for path in sorted(solutions_dir.glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        out[path.name] = render(make_exercise(solution))
    return out


def student_work(path: Path) -> str:
    """Why the notebook at ``path`` looks like a student's work ('' if it does not)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # unreadable: not ours to overwrite blindly
        return f"it cannot be read as a notebook ({type(error).__name__})"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            return "it has outputs (it was run)"
        for line in cell.source.splitlines():
            match = _STUDENT_ID_LINE.match(line.strip())
            if match and match["value"] != f'"{PLACEHOLDER_STUDENT_ID}"':
                return f"its STUDENT_ID was changed to {match['value']}"
            match = _ANSWER_LINE.match(line.strip())
            if match and match["value"] != "...":
                # A generated notebook assigns answer variables only as `qN = ...` placeholders.
                return f"an answer was filled in ({line.strip()[:40]})"
    return ""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=Path, default=REPO / "solutions")
    parser.add_argument("--output", type=Path, default=REPO / "exercises")
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    parser.add_argument("--force", action="store_true", help="overwrite even student work")
    args = parser.parse_args(argv)

    wanted = generate(args.solutions)
    if not wanted:
        print(f"no solution notebooks found in {args.solutions}", file=sys.stderr)
        return 1
    stale = []
    for name, text in wanted.items():
        target = args.output / name
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            stale.append(target)
    extra = (
        sorted(p for p in args.output.glob("*.ipynb") if p.name not in wanted)
        if args.output.exists()
        else []
    )

    if args.check:
        for path in stale:
            print(f"stale or missing: {path}", file=sys.stderr)
        for path in extra:
            print(f"no solution notebook for: {path}", file=sys.stderr)
        if stale or extra:
            print("run `make exercises` to regenerate exercises/", file=sys.stderr)
            return 1
        print(f"exercises/ is up to date ({len(wanted)} notebooks)")
        return 0

    refused = []
    for path in stale:
        reason = student_work(path) if path.exists() and not args.force else ""
        if reason:
            refused.append(Problem(path, reason))
    if refused:
        for problem in refused:
            print(f"refusing to overwrite {problem.path}: {problem.reason}", file=sys.stderr)
        print("copy your work elsewhere, or rerun with --force to overwrite", file=sys.stderr)
        return 2
    args.output.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(wanted[path.name], encoding="utf-8")
        print(f"wrote {path}")
    for path in extra:
        print(f"note: {path} has no solution notebook; left as it is")
    print(f"{len(wanted)} exercise notebooks, {len(stale)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
