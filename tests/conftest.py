"""Shared test configuration."""

import matplotlib

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
