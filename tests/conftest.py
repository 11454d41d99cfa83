"""Shared test configuration."""

import os

# One BLAS thread per process, for the test session and every kernel or R it starts (they inherit
# the environment). The suite already runs one process per core (pytest -n 2); on a busy CI
# machine, OpenBLAS's extra threads spin while they wait for a core and multiplied the CPU time
# of numpy-heavy tests several times over without making them any faster.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import matplotlib  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# numpy may already be loaded by a plugin before this file runs: limit its pool directly too.
threadpool_limits(limits=1, user_api="blas")

# Tests never open windows.
matplotlib.use("Agg")


def pytest_terminal_summary(terminalreporter) -> None:
    """Show the browser test's key-press-to-redraw latencies, which xdist would swallow."""
    lines = []
    for report in terminalreporter.stats.get("passed", []):
        properties = dict(getattr(report, "user_properties", []))
        if "redraw_latency_s" not in properties:
            continue
        latency, budget = properties["redraw_latency_s"], properties.get("redraw_budget_s")
        over = (
            f"  (over the toy's time + 0.1 s = {budget:.3f} s)"
            if budget is not None and latency > budget
            else ""
        )
        lines.append(f"{report.nodeid}: {latency:.3f} s{over}")
    if lines:
        terminalreporter.write_sep("-", "browser: key press -> redrawn figure (median)")
        for line in lines:
            terminalreporter.write_line(line)
