"""Mark the lessons in course/ as slides that JupyterLab (RISE) or nbconvert can present.

Every cell gets cell metadata ``slideshow: {slide_type: ...}``; nothing else changes, so the
lesson reads exactly as before in the notebook view. The rules:

* the first cell (the lesson title and what you will learn) starts a **slide**;
* every Markdown cell that opens with a ``## `` heading starts a **slide**;
* every Markdown cell that opens with a ``### `` heading starts a **subslide** (below the slide);
* an explorer cell (``ml.widgets...``) starts a **subslide** of its own, since it fills a screen;
* a section that grows taller than about one projector screen (:data:`SCREEN_LINES` lines of
  text and code, a figure counted as :data:`FIGURE_LINES` lines) continues on a **subslide**
  that starts at the next Markdown cell, or at the next code cell if none comes in time;
* every other cell is ``-`` (it stays on the current slide).

The output is deterministic, so running the script twice changes nothing.

Usage::

    python scripts/mark_slides.py                   # mark every course/*.ipynb in place
    python scripts/mark_slides.py course/02_*.ipynb # only these notebooks
    python scripts/mark_slides.py --check           # exit 1 if a lesson's marks are out of date

Present them live in JupyterLab with the RISE extension (``jupyterlab-rise``: the "Render as
slides" button, or ``/rise/<path>`` in the browser), or build static reveal.js pages with
``make slides`` (``jupyter nbconvert --to slides``). See docs/instructors.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
#: Lines of text and code that fit on one projector screen at presentation sizes.
SCREEN_LINES = 30
#: Screen lines a figure or a quiz takes (a figure is ~half a screen at projector sizes).
FIGURE_LINES = 14
#: Code that draws a figure, shows a quiz, a table or an explorer (a cell's visible output).
_FIGURE_CALL = re.compile(r"\bml\.plots\.|\bplt\.|\.plot\(|\bpooling_grid\(")
_QUIZ_CALL = re.compile(r"\bml\.quiz\.")
_EXPLORER_CALL = re.compile(r"\bml\.widgets\.\w+\(")
SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")


def _first_line(cell: nbformat.NotebookNode) -> str:
    for line in cell.source.splitlines():
        if line.strip():
            return line.lstrip()
    return ""


def _height(cell: nbformat.NotebookNode) -> int:
    """Rough screen lines a cell takes when presented, counting its visible output."""
    lines = len(cell.source.splitlines())
    if cell.cell_type != "code":
        return lines
    if _FIGURE_CALL.search(cell.source) or _QUIZ_CALL.search(cell.source):
        return lines + FIGURE_LINES
    # A table, a printed summary or a Markdown sentence: a few lines of output.
    return lines + 6


def slide_types(cells: Sequence[nbformat.NotebookNode]) -> list[str]:
    """The slide type of each cell, by the rules in the module docstring.

    Parameters
    ----------
    cells : sequence of notebook cells

    Returns
    -------
    list of str
        One of ``"slide"``, ``"subslide"`` or ``"-"`` per cell.

    Examples
    --------
    >>> md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    >>> slide_types([md("# Title"), code("x = 1"), md("## Part"), md("### Detail")])
    ['slide', '-', 'slide', 'subslide']
    """
    types: list[str] = []
    used = 0  # screen lines on the current (sub)slide so far
    for index, cell in enumerate(cells):
        first = _first_line(cell) if cell.cell_type == "markdown" else ""
        height = _height(cell)
        if index == 0 or first.startswith("## "):
            kind = "slide"
        elif first.startswith("### "):
            kind = "subslide"
        elif cell.cell_type == "code" and _EXPLORER_CALL.search(cell.source):
            kind = "subslide"
        elif (
            used > 0
            and used + height > SCREEN_LINES
            and (cell.cell_type == "markdown" or used >= SCREEN_LINES)
        ):
            kind = "subslide"
        else:
            kind = "-"
        used = height if kind != "-" else used + height
        types.append(kind)
    return types


def mark(nb: nbformat.NotebookNode) -> bool:
    """Set each cell's ``slideshow`` metadata in place; return whether anything changed.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lesson")])
    >>> mark(nb), nb.cells[0].metadata["slideshow"]
    (True, {'slide_type': 'slide'})
    """
    changed = False
    for cell, kind in zip(nb.cells, slide_types(nb.cells), strict=True):
        wanted = {"slide_type": kind}
        if cell.metadata.get("slideshow") != wanted:
            cell.metadata["slideshow"] = wanted
            changed = True
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Mark (or with ``--check``, verify) the given lessons, by default every course/*.ipynb."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: course/*.ipynb")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook is unmarked"
    )
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(COURSE.glob("*.ipynb"))
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not mark(nb):
            continue
        stale.append(path)
        if not args.check:
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            print(f"marked {path}")
    if args.check and stale:
        names = ", ".join(str(p) for p in stale)
        print(f"slide marks out of date in {names}; run python scripts/mark_slides.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
