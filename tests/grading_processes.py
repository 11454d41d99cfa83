"""Processes a grading run may leave behind."""

from __future__ import annotations

import os
from pathlib import Path


def processes_holding(mark: bytes, *, environment: bool = False) -> list[str]:
    """Command lines of live processes whose command line (or, with ``environment``, whose
    environment) holds ``mark``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes() if environment else b""
        except OSError:
            continue
        if mark in cmdline or mark in environ:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def processes_of_run(grader_pid: int | None = None) -> list[str]:
    """Command lines of live processes of the grading run whose grader had ``grader_pid``
    (default: this process, for a run of ``grade_submissions`` in the test itself).

    A run's scratch folder is ``.../run-<grader pid>-*``: it is in the command line of its
    workers and of bwrap, and in the environment (``HOME``) of every fork server and kernel.
    Other grading runs on the machine are not counted.
    """
    pid = os.getpid() if grader_pid is None else grader_pid
    return processes_holding(f"/run-{pid}-".encode(), environment=True)
