"""Why the grader does not run notebooks through nbclient: CPU per notebook and grader memory.

The issue that asked for the sandboxed grader prefers a well-kept executor (nbclient) to a
hand-written kernel loop unless a measurement shows why not. This is that measurement:

1. CPU seconds per notebook when nbclient runs lesson 2's solution (one run, no sandbox, a
   kernel process started per notebook as nbclient does), to compare with the grader's
   ``make bench`` (two runs and the sandbox included);
2. the grader-side peak memory when a notebook prints 300 MB: nbclient reads every output
   message into the notebook; the grader's loop never subscribes to the output channel.

Run:  .venv/bin/python scripts/compare_nbclient.py [--n 6]
"""

from __future__ import annotations

import argparse
import copy
import resource
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kernels = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kernels.ru_utime + kernels.ru_stime


def _execute(nb: nbformat.NotebookNode) -> None:
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()


def main() -> None:
    """Print nbclient's CPU seconds per notebook and its memory on a print bomb."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="notebooks to run (default 6)")
    n = parser.parse_args().n
    solution = nbformat.read(REPO / "solutions" / "lesson2_exercises.ipynb", as_version=4)
    started, cpu = time.perf_counter(), _cpu_seconds()
    for i in range(n):
        nb = copy.deepcopy(solution)
        next(c for c in nb.cells if c.cell_type == "code").source = f"STUDENT_ID = 'bench{i}'"
        _execute(nb)
    wall, cpu = (time.perf_counter() - started) / n, (_cpu_seconds() - cpu) / n
    print(f"nbclient: {cpu:.2f} CPU s, {wall:.2f} s wall per notebook (one run, no sandbox)")
    bomb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("for _ in range(300): print('x' * 1_000_000)")]
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _execute(bomb)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"nbclient, a cell printing 300 MB: peak memory {before:.0f} MB -> {after:.0f} MB")


if __name__ == "__main__":
    main()
