"""Shared test configuration."""

import matplotlib

# Tests never open windows.
matplotlib.use("Agg")


def pytest_terminal_summary(terminalreporter) -> None:
    """Show the browser test's key-press-to-redraw latencies, which xdist would swallow."""
    lines = [
        f"{report.nodeid}: {value:.3f} s"
        for report in terminalreporter.stats.get("passed", [])
        for key, value in getattr(report, "user_properties", [])
        if key == "redraw_latency_s"
    ]
    if lines:
        terminalreporter.write_sep("-", "browser: key press -> redrawn figure (median)")
        for line in lines:
            terminalreporter.write_line(line)
