"""A fork server for grading kernels: import the heavy modules once, fork a fresh kernel per notebook.

Every kernel imports ipykernel, numpy, pandas, scipy and the course packages: about 1.6 CPU
seconds, against a few tenths of a second of actual work. One of these processes runs in each
submission's sandbox (started by the grader under bwrap): it imports them once and then forks
a child per run (the notebook's own id, then the secret variant id) that becomes a new IPython
kernel, with nothing run in it before the student's cells. In the child, the random generators
are reseeded and the kernel gets its own process group, working folder and IPython profile.

The grader first opens what it needs of the sandbox through ``/proc/PID/root`` (its socket
folder), then sends ``{"op": "seal"}``: from then on this process is not dumpable, so no kernel
(same user) can read or trace it, open its pipes, or reach its ``/proc`` entries; it forks
nothing before. In a sandbox it is pid 1, so signals from the kernels cannot kill or stop it.

Protocol (one JSON object per line on stdin, one answer per line on stdout):
``{"op": "fork", "connection", "cwd", "ipython_dir", "variant"}`` -> ``{"pid": N}`` (the child
writes ``connection`` into ``kernel.json`` in the ``--sockets`` folder and starts the kernel);
``{"op": "signal", "pid": N, "signal": S}``, ``{"op": "alive", "pid": N}`` -> ``{"alive": bool}``;
``{"op": "kill", "pid": N}`` kills the kernel and, in a sandbox (``--sandboxed``, its own PID
namespace), every other process of the namespace too: a daemon a notebook left behind dies
before the next kernel starts. ``{"op": "reset"}`` makes the sandbox as it was before the
first kernel, so that it can serve the next submission: every other process killed and gone;
the writable folders (working folder, ``/tmp``, ``/dev/shm``, sockets) emptied, with their modes
and no extended attributes; the host name, the mounts, and this server's limits and
scheduling as they were at start; no System V IPC object left. It answers ``{"clean": bool}``,
and the grader replaces a sandbox that is not clean. Unconfined, a reset only empties the
run's folders. In a sandbox, a watchdog (:class:`_Watchdog`) stops every kernel process when
together they use more memory than ``--memory-mb``, or too many processes or files; ``alive``
then says why. This process exits when stdin closes. Run as
``python -m _multilevel_grade_zygote --sockets FOLDER [--memory-mb N --sandboxed]`` with the
grader's helper folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path

#: Environment variable naming the secret variant id whose data ``start()`` makes instead.
VARIANT_ENV = "MULTILEVEL_GRADE_VARIANT"

# What every exercise notebook imports (statsmodels is left out: no exercise imports it, and
# preloading it cost 0.4 CPU s per sandbox; a notebook that does pays for it itself).
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "numpy",
    "pandas",
    "scipy.stats",
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
    if request.get("variant"):
        os.environ[VARIANT_ENV] = str(request["variant"])
    signal.setitimer(signal.ITIMER_REAL, 0)  # the server's watchdog is not the kernel's
    for number in (signal.SIGCHLD, signal.SIGALRM):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import random

    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(int.from_bytes(os.urandom(4), "little"))

    connection_file = os.path.join(SOCKETS, "kernel.json")
    with open(os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(request["connection"], out)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(["-f", connection_file, "--HistoryManager.enabled=False"])
    app.start()


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _fork(request: dict) -> dict:
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            _become_kernel(request)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    return {"pid": pid}


def process_exists(pid: int) -> bool:
    """Whether a process ``pid`` exists (also one of another user, or a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(pid: int) -> bool:
    _reap(0, None)  # a finished kernel is a zombie until reaped, and kill(zombie, 0) succeeds
    return process_exists(pid)


def _kill(pid: int, sandboxed: bool) -> None:
    if pid > 1:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    if sandboxed:  # PID namespace whose pid 1 is this process: -1 is every other process
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    _reap(0, None)


def _others() -> list[int]:
    """Processes of the sandbox's PID namespace other than this one (its pid 1)."""
    me = os.getpid()
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != me]


def _mount_points() -> set[str]:
    with open("/proc/self/mountinfo") as table:
        return {line.split()[4] for line in table}


def _empty(folder: str, mounts: set[str]) -> None:
    """Delete everything inside ``folder`` (never following a link), even read-only parts.

    The way down to another mount (the sandbox's own folders below ``/tmp``) is kept.
    """
    for entry in os.scandir(folder):
        if any(m == entry.path or m.startswith(entry.path + "/") for m in mounts):
            if entry.path not in mounts:
                _empty(entry.path, mounts)
        elif entry.is_dir(follow_symlinks=False):
            os.chmod(entry.path, 0o700)
            for root, dirs, _ in os.walk(entry.path):  # top-down: opened before it descends
                for name in dirs:
                    if not os.path.islink(os.path.join(root, name)):
                        os.chmod(os.path.join(root, name), 0o700)
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def _ipc_objects() -> int:
    """System V shared memory segments, semaphores and message queues left in the namespace."""
    count = 0
    for kind in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                count += len(table.readlines()) - 1  # below a header line
        except OSError:
            pass
    return count


#: ioprio_get(2)'s number where Python has no wrapper for it (None elsewhere: not compared).
_IOPRIO_GET = {"x86_64": 252, "aarch64": 31}.get(os.uname().machine)


def _read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _sandbox_state(folders: tuple[str, ...]) -> dict:
    """What a kernel could change that would outlive it: this server's limits and scheduling
    (every later kernel inherits them: a kernel runs as the same user and may change them),
    the sandbox's host name and mounts, and the modes and extended attributes of its writable
    folders and of the folders above them."""
    io_priority = None
    if _IOPRIO_GET is not None:
        io_priority = ctypes.CDLL(None, use_errno=True).syscall(_IOPRIO_GET, 1, 0)
    names = sorted(n for n in dir(resource) if n.startswith("RLIMIT_"))
    parents = {str(p) for f in folders for p in Path(f).parents if p != Path("/")}
    return {
        "host": (os.uname().nodename, _read("/proc/sys/kernel/domainname")),
        "limits": [resource.getrlimit(getattr(resource, n)) for n in names],
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "cpus": sorted(os.sched_getaffinity(0)),
        "policy": (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority),
        "io_priority": io_priority,
        "oom_score_adj": _read("/proc/self/oom_score_adj"),
        "mounts": _read("/proc/self/mountinfo"),
        "folders": {f: (os.stat(f).st_mode, sorted(os.listxattr(f))) for f in folders},
        "parents": {p: (os.stat(p).st_mode, sorted(os.listxattr(p))) for p in sorted(parents)},
    }


class _Sandbox:
    """The sandbox as it was when this server started, and how to bring it back."""

    def __init__(self) -> None:
        self.folders = (os.getcwd(), "/tmp", "/dev/shm", SOCKETS)  # the writable ones
        self.start = _sandbox_state(self.folders)

    def reset(self) -> dict:
        """Make the sandbox as it was before the first kernel (see the module docstring)."""
        for _ in range(500):  # SIGKILL is not instant (a busy machine): up to 10 s to go
            _kill(0, True)
            if not _others():
                break
            time.sleep(0.02)
        try:
            mounts = _mount_points()
            for folder in self.folders:
                _empty(folder, mounts)
                os.chmod(folder, self.start["folders"][folder][0])
                for name in os.listxattr(folder):
                    os.removexattr(folder, name)
            same = _sandbox_state(self.folders) == self.start
        except Exception:  # e.g. RecursionError (thousands of nested folders): start afresh
            return {"clean": False}
        return {"clean": same and not _others() and _ipc_objects() == 0}


#: What the processes of one sandbox may use together, beyond each process's own limits (a
#: hostile review took 6.6 GB of the machine with three forked children under a 3 GB limit per
#: process, and 0.5 GB of kernel memory with 400,000 files in a 64 MB folder).
MAX_PROCESSES = 256
MAX_FILES = 100_000
#: Seconds between two looks at what the sandbox's processes use.
WATCH_SECONDS = 0.5


def _resident_kb(pid: int) -> int:
    """All a process has resident, shared pages included, in kB (cheap to read)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, IndexError):
        return 0


def _memory_kb(pid: int) -> int:
    """A process's proportional share of the memory it uses (pages shared by n processes count
    1/n each), in kB; its resident size if that cannot be read (a process that made itself not
    dumpable). Costly for a large process (tens of ms): read only when resident sizes add up
    to too much."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return _resident_kb(pid)


class _Watchdog:
    """Stops every kernel process of the sandbox when together they use too much.

    Looks every :data:`WATCH_SECONDS` (``SIGALRM``) at the processes other than this server:
    how many, how many files they made in the writable folders, and their memory; over a
    limit, it kills them all and keeps the reason for the grader (``alive``).
    """

    def __init__(self, folders: tuple[str, ...], memory_mb: int) -> None:
        self.folders, self.memory_mb = folders, memory_mb
        self.exceeded: str | None = None

    def start(self) -> None:
        signal.signal(signal.SIGALRM, self.check)
        signal.setitimer(signal.ITIMER_REAL, WATCH_SECONDS, WATCH_SECONDS)

    def _files(self) -> int:
        used = 0
        for folder in self.folders:
            try:
                info = os.statvfs(folder)
            except OSError:
                continue
            used += info.f_files - info.f_ffree
        return used

    def _memory_together_kb(self, pids: list[int]) -> int:
        resident = sum(_resident_kb(pid) for pid in pids)  # counts shared pages n times
        if resident <= self.memory_mb * 1024:
            return resident
        return sum(_memory_kb(pid) for pid in pids)

    def check(self, signum: int = 0, frame: object = None) -> None:
        others = _others()
        if not others:
            return
        why = None
        if len(others) > MAX_PROCESSES:
            why = f"started more than {MAX_PROCESSES} processes"
        elif self._files() > MAX_FILES:
            why = f"made more than {MAX_FILES:,} files"
        elif self._memory_together_kb(others) > self.memory_mb * 1024:
            why = f"used more than {self.memory_mb} MB of memory together"
        if why is not None:
            self.exceeded = why
            _kill(0, True)


def _reset_unconfined() -> dict:
    """Without a sandbox (``--no-sandbox``) nothing is confined, so a reset only empties the
    run's own folders for the next kernel: a notebook can do anything its user can anyway."""
    try:
        for folder in (os.getcwd(), os.environ["TMPDIR"], SOCKETS):
            _empty(folder, set())
    except Exception:
        return {"clean": False}
    return {"clean": True}


#: The sandbox this server runs in (None when it runs unconfined, with ``--no-sandbox``).
SANDBOX: _Sandbox | None = None
#: Folder of the kernels' connection file and sockets (``--sockets``).
SOCKETS = "."
#: Whether this process is no longer dumpable (``seal``); it forks no kernel before.
SEALED = False
#: The sandbox's watchdog (None unconfined).
WATCHDOG: _Watchdog | None = None


def _serve(request: dict, sandboxed: bool) -> dict:
    global SEALED
    op = request.get("op")
    if op == "seal":
        SEALED = True
        if WATCHDOG is not None:
            WATCHDOG.start()
        return {"ok": True, "protected": _not_dumpable()}
    if op == "fork":
        return _fork(request) if SEALED else {"error": "not sealed"}
    if op == "reset":
        if WATCHDOG is not None:
            WATCHDOG.exceeded = None
        return SANDBOX.reset() if SANDBOX is not None else _reset_unconfined()
    pid = int(request.get("pid", 0))
    if pid <= 1:
        return {"error": "bad pid"}
    if op == "signal":
        try:
            os.killpg(pid, int(request["signal"]))
        except OSError:
            return {"ok": False}
        return {"ok": True}
    if op == "alive":
        return {"alive": _alive(pid), "exceeded": WATCHDOG and WATCHDOG.exceeded}
    if op == "kill":
        _kill(pid, sandboxed)
        return {"ok": True}
    return {"error": "unknown op"}


def _not_dumpable() -> bool:
    """Kernels run as the same user: keep them from reading or tracing this process."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        return False


def main() -> None:
    """Serve requests until stdin closes."""
    global SANDBOX, SOCKETS, WATCHDOG
    sandboxed = "--sandboxed" in sys.argv[1:]
    if "--sockets" in sys.argv[1:-1]:
        SOCKETS = sys.argv[sys.argv.index("--sockets") + 1]
    _preload()
    if sandboxed:
        SANDBOX = _Sandbox()
        if "--memory-mb" in sys.argv[1:-1]:
            memory_mb = int(sys.argv[sys.argv.index("--memory-mb") + 1])
            WATCHDOG = _Watchdog(SANDBOX.folders, memory_mb)
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
            answer = _serve(request, sandboxed) if isinstance(request, dict) else {}
        except (ValueError, KeyError, TypeError):
            answer = {"error": "bad request"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
