"""The suite's ``xdist_group`` marks keep each group on one worker.

``make test`` runs ``pytest -n 2 --dist loadgroup``. The expensive set-ups (the lme4 reference
fits in R, the grader's sandboxes, the browser) are shared within a group on the assumption that
one worker runs the whole group. With pytest 9.2 and pytest-xdist 3.8 that assumption broke
silently: pytest 9 keys items by a new attribute, xdist still rewrites the old one, and a group
was split across both workers, so both ran the lme4 reference script at once and CI under load
took minutes longer. pyproject.toml pins ``pytest<9`` for this; this test fails if an upgrade
splits groups again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

GROUPED_TESTS = textwrap.dedent(
    """
    import os

    import pytest


    @pytest.mark.xdist_group("together")
    @pytest.mark.parametrize("i", range(8))
    def test_grouped(i):
        with open(os.environ["WORKERS_LOG"], "a") as handle:
            handle.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")


    @pytest.mark.parametrize("i", range(8))
    def test_free(i):
        pass
    """
)


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED_TESTS)
    log = tmp_path / "workers.txt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_grouped.py"),
        ],
        cwd=tmp_path,
        env={**os.environ, "WORKERS_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    workers = log.read_text().split()
    assert len(workers) == 8
    assert len(set(workers)) == 1, f"the group ran on {sorted(set(workers))}; pytest-xdist split it"
