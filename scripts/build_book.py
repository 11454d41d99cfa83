"""Build the course's web site (``make book``): every lesson executed, with its figures.

The Sphinx source folder ``build/book/src`` is assembled from ``book/`` (the site's own pages),
``course/`` (the lessons) and ``exercises/`` (the exercise notebooks, shown unexecuted);
``solutions/`` is never copied, so no page, download or search entry can come from it. Files are
written only when they changed, so Sphinx rereads only what changed, and
MyST-NB's cache (``build/book/jupyter_cache``) re-executes only notebooks whose code changed.
The cache knows only the notebooks' code, so it is emptied when the course's packages
(``simdata``, ``multilevel``) change: a lesson's outputs come from them too.
Notebooks are prepared on the way (:func:`prepare_notebook`): quiz cells hide their code, and
figure cells of lessons listed in ``book/alt_text_pending.json`` get their alt text from there.
The HTML goes to ``build/book/html``; any Sphinx warning fails the build (``-W``).

Usage::

    python scripts/build_book.py            # build/book/html/index.html
    python scripts/build_book.py --fresh    # forget the cache and the previous build first
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
#: The folders of the repository whose notebooks the site shows, and how.
NOTEBOOK_FOLDERS = ("course", "exercises")
#: The packages whose code the lessons run: a change in them makes every cached result stale.
PACKAGES = ("simdata", "multilevel")


#: Alt text for figures of lessons that could not be edited when the site was added, by
#: notebook and cell id; once a notebook has its own ``mystnb.image.alt``, its entry can go.
PENDING_ALT_TEXT = BOOK / "alt_text_pending.json"
#: A code cell that starts like this is a quiz: on the site it shows the question and, behind
#: "Show the answer", the answer; its code (which names the right choice) is hidden.
QUIZ_CALL = "ml.quiz."


def pending_alt_text() -> dict[str, dict[str, str]]:
    """``{notebook path: {cell id: alt text}}`` from :data:`PENDING_ALT_TEXT` (empty without it)."""
    if not PENDING_ALT_TEXT.is_file():
        return {}
    return json.loads(PENDING_ALT_TEXT.read_text(encoding="utf-8"))


def prepare_notebook(notebook: dict, relative: Path) -> dict:
    """The notebook as the site shows it (a new dict; code cells' sources are unchanged, so
    MyST-NB's cache, which keys on them, still matches).

    * A figure cell listed for this notebook in :data:`PENDING_ALT_TEXT` gets that alt text in
      its ``mystnb.image.alt`` metadata, where the other lessons keep theirs; a cell with its
      own alt text keeps it.
    * A quiz cell gets the tag ``remove-input``.
    """
    notebook = json.loads(json.dumps(notebook))
    pending = pending_alt_text().get(relative.as_posix(), {})
    for cell in notebook["cells"]:
        metadata = cell.setdefault("metadata", {})
        alt = pending.get(cell.get("id", ""))
        if alt is not None:
            metadata.setdefault("mystnb", {}).setdefault("image", {}).setdefault("alt", alt)
        text = "".join(cell.get("source", ""))
        if cell["cell_type"] == "code" and text.lstrip().startswith(QUIZ_CALL):
            tags = metadata.setdefault("tags", [])
            if "remove-input" not in tags:
                tags.append("remove-input")
    return notebook


def _sync_file(source: Path, target: Path, relative: Path) -> None:
    """Copy ``source`` to ``target`` (a notebook prepared for the site) if the result differs."""
    if source.suffix == ".ipynb":
        notebook = json.loads(source.read_text(encoding="utf-8"))
        content = json.dumps(prepare_notebook(notebook, relative), indent=1, ensure_ascii=False)
        if target.is_file() and target.read_text(encoding="utf-8") == content:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        return
    if target.is_file() and filecmp.cmp(source, target, shallow=False):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def assemble(src: Path) -> list[Path]:
    """Copy the site's pages and notebooks into ``src``; remove what no longer exists.

    Returns the files of ``src``, relative to it.
    """
    wanted: dict[Path, Path] = {}
    for page in BOOK.glob("*.md"):
        wanted[Path(page.name)] = page
    for folder in NOTEBOOK_FOLDERS:
        for notebook in sorted((REPO / folder).glob("*.ipynb")):
            wanted[Path(folder) / notebook.name] = notebook
    for relative, source in wanted.items():
        _sync_file(source, src / relative, relative)
    for path in sorted(src.rglob("*"), reverse=True):
        relative = path.relative_to(src)
        if path.is_file() and relative not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(wanted)


def packages_fingerprint() -> str:
    """A hash of every file of the course's packages (code and data)."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def forget_stale_cache(cache: Path) -> None:
    """Empty MyST-NB's execution cache when the packages changed since it was filled."""
    stamp = cache / "packages.sha256"
    fingerprint = packages_fingerprint()
    if cache.exists() and (not stamp.is_file() or stamp.read_text() != fingerprint):
        print("The course's packages changed since the last build: every lesson runs again.")
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)


def build(out: Path, *, fresh: bool = False) -> int:
    """Assemble the sources and run Sphinx; return its exit code."""
    if fresh and out.exists():
        shutil.rmtree(out)
    src, html, doctrees = out / "src", out / "html", out / "doctrees"
    assemble(src)
    forget_stale_cache(out / "jupyter_cache")
    env = dict(os.environ, BOOK_BUILD_DIR=str(out))
    # One BLAS thread per kernel: the build runs lessons one after another on a shared machine.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    # A lecturer's presentation mode must not leak into the site's figures.
    env.pop("MULTILEVEL_PRESENTATION", None)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-c",
        str(BOOK),
        "-d",
        str(doctrees),
        "-W",
        "--keep-going",
        "-q",
        str(src),
        str(html),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode == 0:
        print(f"Site built in {elapsed:.0f} s: {html / 'index.html'}")
    else:
        print(f"The site did not build (exit code {result.returncode}, {elapsed:.0f} s).")
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=REPO / "build" / "book", help="build folder (build/book)"
    )
    parser.add_argument("--fresh", action="store_true", help="drop the cache and rebuild all")
    args = parser.parse_args(argv)
    return build(args.out.resolve(), fresh=args.fresh)


if __name__ == "__main__":
    sys.exit(main())
