"""A fork server for grading kernels: import the heavy modules once, fork a fresh kernel per notebook.

Every submission imports ipykernel, numpy, pandas, scipy and the course packages; that is about
1-2 CPU seconds per notebook, against a few hundredths of a second of actual work. This process
(started once per grading run, with the kernels' environment) imports them once and then, for
each request, forks a child that becomes a new IPython kernel. The child is a new process with a
pristine copy of the imported modules: nothing runs in it before the student's cells, and no
state passes between kernels. In the child, the random generators are reseeded, the course
packages' ``__path__`` points to the submission's own private copy (for modules imported
later), and the kernel gets its own process group, working folder and IPython profile.

Protocol (one JSON object per line): the grader writes
``{"connection_file": ..., "cwd": ..., "ipython_dir": ..., "packages": ...}`` to stdin; this
process answers ``{"pid": <child pid>}`` on stdout. It exits when stdin closes.
Run as ``python -m multilevel.grade._zygote`` with ``PYTHONPATH`` pointing to the package copy.
"""

from __future__ import annotations

import json
import os
import signal
import sys

PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "multilevel",
    "multilevel.checks",
    "simdata",
    "_multilevel_grade_capture",
)


def _preload() -> None:
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # a missing optional module only costs speed
                pass


def _become_kernel(request: dict) -> None:
    """In the forked child: reset what must differ per kernel, then run IPython's kernel."""
    os.setsid()  # own process group: the grader interrupts and kills the group
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.chdir(request["cwd"])
    os.environ["IPYTHONDIR"] = request["ipython_dir"]
    packages = request["packages"]
    sys.path.insert(0, packages)
    for name in ("multilevel", "simdata"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__path__"):
            module.__path__[:] = [os.path.join(packages, name)]
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import random

    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(int.from_bytes(os.urandom(4), "little"))

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", request["connection_file"], "--HistoryManager.enabled=False"])
    app.start()


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    """Serve fork requests until stdin closes."""
    _preload()
    # Reap finished kernels (waiting, rather than ignoring SIGCHLD, keeps their CPU time in
    # this process's accounts, which the benchmark reads).
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _become_kernel(request)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
