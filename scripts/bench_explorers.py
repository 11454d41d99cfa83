"""Time the explorers the way a learner uses them: move a slider, wait for refit and redraw.

Each explorer is driven through its own callbacks (a slider's ``.value`` is set, exactly what the
front end does on a drag step), at the default size and a large one, and one line is printed per
explorer and size::

    explorer <name> size <groups>x<per group> median <ms> ms p90 <ms> ms [goal ...: ok | MISSED]

At the default size each figure has a goal (a slider step must feel instant: a median of 50 ms;
200 samples of the many-samples explorer in 2 s); the line says whether it was met. Goals live
here and not in the tests: a busy machine misses them without anything being wrong with the code,
and a test that failed on them would block a landing at random. The time is wall clock for the whole callback: simulate, refit every model shown, move the
artists, render the PNG. For the many-samples explorer it is one run of 200 samples. A line
starting with ``#`` (to stderr) gives the machine's load, since other processes slow every figure.

Run with ``make bench`` or ``.venv/bin/python scripts/bench_explorers.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from multilevel import widgets as mw  # noqa: E402

# A drag: small steps one way and back, like a learner moving a slider to and fro.
DRAGS = {
    "varying_intercepts": (
        "base_sd",
        [8_000 + 500 * k for k in (*range(1, 13), *range(12, -1, -1))],
    ),
    "varying_slopes": ("raise_sd", [500 + 25 * k for k in (*range(1, 13), *range(12, -1, -1))]),
    "varying_both": ("raise_sd", [500 + 25 * k for k in (*range(1, 13), *range(12, -1, -1))]),
    "shrinkage": (
        "variance_ratio",
        [round(0.2 + 0.05 * k, 2) for k in (*range(1, 13), *range(12, -1, -1))],
    ),
}
FACTORIES = {
    "varying_intercepts": mw.varying_intercepts_explorer,
    "varying_slopes": mw.varying_slopes_explorer,
    "varying_both": mw.varying_both_explorer,
}


#: Goals at the default size (8 departments of 20), median milliseconds.
STEP_GOAL_MS = 50.0
MANY_SAMPLES_GOAL_MS = 2_000.0
DEFAULT_SIZE = "8x20"


def _line(name: str, size: str, seconds: list[float], goal_ms: float | None = None) -> str:
    ms = np.asarray(seconds) * 1e3
    median = float(np.median(ms))
    line = f"explorer {name} size {size} median {median:.1f} ms p90 {np.percentile(ms, 90):.1f} ms"
    if goal_ms is not None:
        line += f" [goal {goal_ms:.0f} ms: {'ok' if median <= goal_ms else 'MISSED'}]"
    return line


def bench_pooling(name: str, groups: int, per: int) -> str:
    explorer = FACTORIES[name](n_departments=groups, faculty_per_department=per, seed=1)
    control, values = DRAGS[name]
    explorer.timings.clear()
    for value in values:
        explorer.controls[control].value = value
    size = f"{groups}x{per}"
    return _line(name, size, explorer.timings, STEP_GOAL_MS if size == DEFAULT_SIZE else None)


def bench_shrinkage(groups: int) -> str:
    explorer = mw.shrinkage_explorer(n_departments=groups, smallest=1, largest=30, seed=1)
    control, values = DRAGS["shrinkage"]
    explorer.timings.clear()
    for value in values:
        explorer.controls[control].value = value
    return _line("shrinkage", f"{groups}x1-30", explorer.timings)


def bench_many_samples(groups: int, per: int, runs: int) -> str:
    explorer = mw.many_samples_explorer(
        n_departments=groups,
        faculty_per_department=per,
        n_samples=200,
        seed=1,
        run_now=False,
    )
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        explorer.run()
        seconds.append(time.perf_counter() - start)
    size = f"{groups}x{per}"
    goal = MANY_SAMPLES_GOAL_MS if size == DEFAULT_SIZE else None
    return _line("many_samples_200", size, seconds, goal)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="default size only, fewer runs")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# {os.cpu_count()} cores, load average {load:.2f}; wall-clock times of whole callbacks",
        file=sys.stderr,
    )
    sizes = [(8, 20)] if args.quick else [(8, 20), (50, 50)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for groups, per in sizes:
            for name in FACTORIES:
                print(bench_pooling(name, groups, per), flush=True)
        for groups in [12] if args.quick else [12, 50]:
            print(bench_shrinkage(groups), flush=True)
        for groups, per in sizes:
            print(bench_many_samples(groups, per, runs=3 if args.quick else 5), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
