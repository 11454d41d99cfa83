"""The grader's side of the kernels, in a process of its own with a memory limit.

A kernel writes to its Jupyter sockets whatever it likes. ZeroMQ's ``MAXMSGSIZE`` bounds each
frame of a message, but a message of endless frames, each marked "more to come", is buffered
whole by the receiving side before anyone sees it: a hostile review took the grader from
150 MB to 1.6 GB in 3 s that way. So the grader's own process never connects to a kernel.
Each job has a worker (``python -m multilevel.grade._worker``) that keeps the job's warm
sandbox (``_pool``), runs the notebooks in it (``_kernel.run_notebook``) and sends back only
each run's :class:`~._kernel.ExecutionReport`, as one line of JSON.

The worker's data segment is limited (``RLIMIT_DATA``, :func:`worker_memory_mb`). A kernel
that floods it costs that worker at most its limit: the flood fails (tried: the flooding cell
raised "Cannot allocate memory" and the notebook went on), or the worker dies, its sandbox with
it (``--die-with-parent``), the submission gets a row that says why, and the next submission
gets a new worker.

Protocol (one JSON object per line): the grader writes the settings first, then
``{"sources": [...], "variant": ...}`` per run; the worker answers ``{"ready": true}``, then
``{"report": {...}}``, ``{"kernel_start_error": "..."}`` or ``{"worker_error": "..."}`` per
run. It stops its sandbox and exits when its stdin closes (or, busy, on SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._kernel import (
    ONE_THREAD,
    CellProblem,
    ExecutionReport,
    ForkServer,
    KernelStartError,
    Timeouts,
    kernel_environment,
    run_notebook,
    within,
)
from ._pool import RESET_TIMEOUT, Sandbox, WarmPool
from ._sandbox import SOCKETS, Limits, bwrap_command, remove_tree, sandbox_pid, seccomp_fd

_MB = 1024 * 1024
#: Longest line a worker may send: a report holds a few bounded answers
#: (``_kernel.MAX_ANSWER_CHARS`` each) and at most one short message per code cell.
REPORT_LIMIT = 4 * _MB
#: Memory a worker needs besides the messages it reads (Python, NumPy, pandas, ZeroMQ), in MB.
WORKER_BASE_MB = 448


def worker_memory_mb(limits: Limits) -> int:
    """The data-segment limit of a worker, in MB: its own needs and a few largest replies.

    Examples
    --------
    >>> worker_memory_mb(Limits(reply_mb=8))
    480
    """
    return WORKER_BASE_MB + 4 * limits.reply_mb


@dataclass(frozen=True)
class WorkerSettings:
    """What every run of a worker shares.

    Attributes
    ----------
    run_dir : Path
        The grading run's scratch folder; each sandbox gets a folder in it.
    lib : Path
        The grader's kernel helpers (read-only in every sandbox).
    timeouts : Timeouts
        How long a cell, a notebook and a kernel's start may take.
    limits : Limits
        The sandbox's resource limits.
    bwrap : str or None
        The ``bwrap`` program; None runs the kernels unconfined (``--no-sandbox``).
    hide : tuple of Path
        What the sandbox hides: the answer keys, and files only root may read.
    names : tuple of str
        Variables captured after every cell.
    """

    run_dir: Path
    lib: Path
    timeouts: Timeouts
    limits: Limits
    bwrap: str | None
    hide: tuple[Path, ...]
    names: tuple[str, ...]

    def to_json(self) -> str:
        """The settings as one line of JSON (the first line a worker reads)."""
        fields = asdict(self)
        for name in ("run_dir", "lib"):
            fields[name] = str(fields[name])
        fields["hide"] = [str(folder) for folder in self.hide]
        return json.dumps(fields)

    @classmethod
    def from_json(cls, line: str | bytes) -> WorkerSettings:
        """The settings written by :meth:`to_json`."""
        fields = json.loads(line)
        return cls(
            run_dir=Path(fields["run_dir"]),
            lib=Path(fields["lib"]),
            timeouts=Timeouts(**fields["timeouts"]),
            limits=Limits(**fields["limits"]),
            bwrap=fields["bwrap"],
            hide=tuple(Path(folder) for folder in fields["hide"]),
            names=tuple(fields["names"]),
        )


class WorkerDied(RuntimeError):
    """The worker ended or stopped answering while it ran a notebook."""


def _report_to_json(report: ExecutionReport) -> dict[str, Any]:
    return asdict(report)


def _report_from_json(fields: dict[str, Any]) -> ExecutionReport:
    problems = tuple(CellProblem(**problem) for problem in fields.pop("problems"))
    return ExecutionReport(problems=problems, **fields)


# --------------------------------------------------------------------------------------------
# The grader's side
# --------------------------------------------------------------------------------------------
def _worker_preexec(data_mb: int) -> None:
    """In the worker before ``exec``: limit its data, no core dump, die with the grader."""
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    soft = data_mb * _MB if hard == resource.RLIM_INFINITY else min(data_mb * _MB, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))  # the hard limit stays: the
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # sandbox's own limits are higher
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class KernelWorker:
    """A worker process and the sandbox it keeps; one notebook run at a time.

    Parameters
    ----------
    settings : WorkerSettings
        The run's settings, sent to the worker when it starts.
    """

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.data_mb = worker_memory_mb(settings.limits)
        self.process: asyncio.subprocess.Process | None = None
        self.busy = False  # running a notebook (a cancelled run leaves it so)

    async def start(self) -> None:
        """Start the worker (``KernelStartError`` if it does not come up)."""
        # One thread per pool, as for the kernels (which inherit this environment): a pool per
        # core would count against the worker's data limit.
        env = {**os.environ, **{name: os.environ.get(name, "1") for name in ONE_THREAD}}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(self.settings.run_dir),  # not read: it tells `ps` which run a worker serves
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a worker that dies says so in the submission's row
            env=env,
            start_new_session=True,  # Ctrl-C reaches the grader, which stops its workers
            preexec_fn=lambda: _worker_preexec(self.data_mb),
            limit=REPORT_LIMIT,
        )
        try:
            ready = await self._exchange(self.settings.to_json(), self.settings.timeouts.start)
        except WorkerDied as error:  # _exchange has stopped it
            raise KernelStartError(f"the grader's kernel worker did not start ({error})") from None
        if ready.get("ready") is not True:
            await self.stop()
            raise KernelStartError("the grader's kernel worker did not start")

    async def _exchange(self, line: str, timeout: float) -> dict[str, Any]:
        """Write one line, read one answer; ``WorkerDied`` if it does not come in ``timeout``."""
        process = self.process
        if process is None or process.returncode is not None:
            raise WorkerDied("it is not running")
        try:
            process.stdin.write(line.encode() + b"\n")
            await process.stdin.drain()
            answer = json.loads(await within(process.stdout.readline(), timeout))
        except (OSError, ValueError, TimeoutError, asyncio.LimitOverrunError) as error:
            await self.stop()
            raise WorkerDied(f"{type(error).__name__}, exit status {process.returncode}") from None
        if not isinstance(answer, dict):
            await self.stop()
            raise WorkerDied("it gave an unreadable answer")
        return answer

    async def run(self, sources: Sequence[str], variant: str | None = None) -> ExecutionReport:
        """Run a notebook's code cells in the worker's sandbox.

        Raises
        ------
        KernelStartError
            If no kernel would start (a problem of the grading machine).
        WorkerDied
            If the worker died or stopped answering (most likely the kernel flooded it).
        """
        t = self.settings.timeouts
        request = json.dumps({"sources": list(sources), "variant": variant})
        self.busy = True
        try:
            answer = await self._exchange(request, 2 * (t.notebook + t.start) + RESET_TIMEOUT + 60)
            self.busy = False
        except WorkerDied as error:
            raise WorkerDied(
                f"the grader's worker stopped while it ran this notebook ({error}): the "
                f"notebook may have sent the grader more than about {self.data_mb} MB, or the "
                "machine ran out of memory; run the grader again to retry this notebook"
            ) from None
        if "kernel_start_error" in answer:
            raise KernelStartError(str(answer["kernel_start_error"]))
        if "worker_error" in answer:
            raise RuntimeError(f"in the grader's worker: {answer['worker_error']}")
        return _report_from_json(answer["report"])

    async def reset(self) -> bool:
        """Whether the worker can serve another notebook (it resets its sandbox itself)."""
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> None:
        """Stop the worker, and with it its sandbox, even in the middle of a notebook."""
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        try:
            process.stdin.close()  # an idle worker stops its sandbox and exits
            if self.busy:  # a busy one reads no more: it stops its kernel and sandbox, then exits
                process.terminate()
            await within(process.wait(), RESET_TIMEOUT)
        except (TimeoutError, OSError):
            with contextlib.suppress(OSError):
                process.kill()  # its sandbox dies with it (--die-with-parent)
            await process.wait()


# --------------------------------------------------------------------------------------------
# The worker's side
# --------------------------------------------------------------------------------------------
async def start_sandbox(settings: WorkerSettings) -> Sandbox:
    """A new fork server, in its own sandbox unless the run is unconfined."""
    s = settings
    scratch = Path(tempfile.mkdtemp(prefix="s-", dir=s.run_dir))
    work = scratch / "w"
    seccomp = info = info_write = command = None
    if s.bwrap is not None:
        tmp, cwd, sockets = Path("/tmp"), scratch, SOCKETS
        seccomp, (info, info_write) = seccomp_fd(), os.pipe()
        command = bwrap_command(
            s.bwrap,
            work=work,
            lib=s.lib,
            limits=s.limits,
            hide=list(s.hide),
            seccomp=seccomp,
            info=info_write,
        )
    else:
        tmp, cwd, sockets = scratch / "t", work, scratch / "c"
        for folder in (work, tmp, sockets):
            folder.mkdir(mode=0o700)
    server = ForkServer(
        s.lib,
        kernel_environment(os.environ, lib=s.lib, home=work, tmp=tmp),
        sandbox=command,
        preexec=s.limits.apply,
        cwd=cwd,
        reply_bytes=s.limits.reply_mb * _MB,
        pass_fds=tuple(fd for fd in (seccomp, info_write) if fd is not None),
        sockets=sockets,
        options=("--memory-mb", str(s.limits.memory_mb)),
    )
    try:
        await server.start()
        if info is not None:
            os.close(info_write)
            info_write = None  # so that reading the information ends if bwrap dies
            server.reach_sockets_through(await asyncio.to_thread(sandbox_pid, info))
        sealed = await server.request({"op": "seal"})  # no longer dumpable: forks now
        if command is not None and sealed.get("protected") is not True:
            raise KernelStartError("the sandbox's fork server could not protect itself")
    except BaseException as error:
        await server.close()
        await asyncio.to_thread(remove_tree, scratch)
        if isinstance(error, OSError):  # bwrap said nothing, or /proc/PID/root is closed
            raise KernelStartError(f"the sandbox's sockets are out of reach: {error}") from None
        raise
    finally:
        for fd in (seccomp, info, info_write):
            if fd is not None:
                os.close(fd)
    return Sandbox(server, scratch, work)


async def run_in_pool(
    pool: WarmPool, settings: WorkerSettings, sources: Sequence[str], variant: str | None
) -> ExecutionReport:
    """Run the notebook once in a pooled sandbox; a kernel that cannot start is retried once
    in a fresh sandbox."""
    for attempt in range(2):
        sandbox = await pool.acquire()
        keep = False
        try:
            report = await run_notebook(
                list(sources),
                names=settings.names,
                workdir=sandbox.work,
                fork_server=sandbox.server,
                timeouts=settings.timeouts,
                variant=variant,
            )
            keep = True
            return report
        except KernelStartError:
            if attempt == 1:
                raise
        finally:
            await pool.release(sandbox, keep=keep)
    raise AssertionError("unreachable")


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.buffer.write(json.dumps(message).encode() + b"\n")
    sys.stdout.buffer.flush()


def _exit(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the clean-up must not be cut short
    raise SystemExit(0)


def serve() -> None:
    """Run notebooks as the grader asks, until stdin closes (the worker's main loop)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when a run ends
    signal.signal(signal.SIGTERM, _exit)  # ... and sends this: the kernel and sandbox stop
    settings = WorkerSettings.from_json(sys.stdin.buffer.readline())
    pool = WarmPool(lambda: start_sandbox(settings))
    _answer({"ready": True})
    with asyncio.Runner() as runner:  # one loop for the worker's life: the sandbox outlives runs
        try:
            for line in sys.stdin.buffer:
                request = json.loads(line)
                run = run_in_pool(pool, settings, request["sources"], request["variant"])
                try:
                    report = runner.run(run)
                except KernelStartError as error:
                    _answer({"kernel_start_error": str(error)})
                except Exception as error:  # a bug of the grader's: the row says so
                    _answer({"worker_error": f"{type(error).__name__}: {error}"[:300]})
                else:
                    _answer({"report": _report_to_json(report)})
        finally:
            runner.run(pool.close())


__all__ = [
    "KernelWorker",
    "WorkerDied",
    "WorkerSettings",
    "run_in_pool",
    "serve",
    "start_sandbox",
    "worker_memory_mb",
]

if __name__ == "__main__":
    serve()
