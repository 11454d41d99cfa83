"""Shared test configuration."""

import os

# One BLAS thread per process, for the test session and every kernel or R it starts (they inherit
# the environment). The suite already runs one process per core (pytest -n 2); on a busy CI
# machine, OpenBLAS's extra threads spin while they wait for a core and multiplied the CPU time
# of numpy-heavy tests several times over without making them any faster.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import matplotlib  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

# numpy may already be loaded by a plugin before this file runs: limit its pool directly too.
threadpool_limits(limits=1, user_api="blas")

# Tests never open windows.
matplotlib.use("Agg")


@pytest.fixture(scope="module")
def chromium():
    """A headless Debian Chromium for one test module (the site and demo tests; the JupyterLab
    browser test has its own); skips without Playwright or Chromium, fails so under CI."""
    from tests.browser import student

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        student.unavailable("Playwright is not installed: `make test` installs it")
    if not student.chromium_available():
        student.unavailable(
            f"Chromium not found at {student.CHROMIUM_PATH}: apt-get install chromium"
        )
    with sync_playwright() as playwright:
        browser = student.launch_chromium(playwright)
        yield browser
        browser.close()


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
