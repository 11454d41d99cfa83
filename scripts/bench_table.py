"""What the model benchmarks share: CPU time per call, and their table (plain or Markdown).

``bench_models.py`` and ``bench_formula.py`` import it (run as scripts, this folder is on
``sys.path``).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence

import numpy as np


def cpu_time(fn: Callable[[], object], reps: int) -> float:
    """Median CPU seconds per call over ``reps`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(reps):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return float(np.median(times))


def load_average() -> tuple[float, ...]:
    """The 1, 5 and 15 minute load averages (NaN where the system does not say)."""
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return (float("nan"),) * 3


class Table:
    """Prints a benchmark's table row by row: a line naming the machine and its load, a header.

    ``markdown`` prints a Markdown table; otherwise columns are aligned, the first
    ``first_width`` characters wide and the others 10.
    """

    def __init__(self, columns: Sequence[str], *, markdown: bool, first_width: int) -> None:
        self.markdown = markdown
        self.first_width = first_width
        print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()} ({platform.machine()}), "
              f"load average {' '.join(f'{v:.1f}' for v in load_average())}")  # fmt: skip
        self.row(columns)
        if markdown:
            print("|" + "---|" * len(columns))

    def row(self, cells: Sequence[str]) -> None:
        """One row, printed at once (a long run shows its progress)."""
        if self.markdown:
            print("| " + " | ".join(cells) + " |", flush=True)
        else:
            first, *rest = cells
            print(f"{first:{self.first_width}s} " + " ".join(f"{c:>10s}" for c in rest), flush=True)
