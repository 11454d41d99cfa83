"""Every notebook in course/, solutions/ and exercises/ runs top to bottom in a fresh kernel, cleanly.

A lesson that prints a warning or an error is a failed build (as QuantEcon's lectures do with -W).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.notebook_runner import NOTEBOOKS, REPO, execute_notebook

# A lesson must run in well under a minute; this is a safety net against a hang, not a benchmark.
LESSON_TIMEOUT_SECONDS = 180


@pytest.mark.notebook
@pytest.mark.parametrize("relative_path", NOTEBOOKS, ids=[str(p) for p in NOTEBOOKS])
def test_notebook_runs_cleanly(relative_path: Path) -> None:
    started = time.perf_counter()
    run = execute_notebook(REPO / relative_path, timeout=LESSON_TIMEOUT_SECONDS)
    elapsed = time.perf_counter() - started
    print(f"{relative_path}: {elapsed:.1f} s")
    if run.problems:
        pytest.fail(
            f"{relative_path} did not run cleanly:\n" + "\n".join(run.problems), pytrace=False
        )


def test_there_are_notebooks_to_run() -> None:
    """Guard against a glob that silently finds nothing."""
    assert any(str(p).startswith("course") for p in NOTEBOOKS), (
        "no lesson notebooks found in course/"
    )
