"""Run one notebook's code cells in a fresh Jupyter kernel and capture the answer variables.

The kernel only *reports answers*; scoring happens in the grader's process. The runner talks to the
kernel over the shell channel alone (no iopub subscription), so a cell that prints gigantic output
costs the grader nothing: the kernel's publisher drops what nobody reads.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient

#: Module name the capture helper is importable under inside the kernel.
CAPTURE_MODULE = "_multilevel_grade_capture"
#: Seconds to wait for a kernel to answer an interrupt (it gets two) before it is killed.
INTERRUPT_GRACE = 5.0
#: Seconds between liveness checks while a cell runs.
POLL_INTERVAL = 0.25
#: Longest IPC socket path prefix used (Unix socket paths are limited to about 107 bytes).
_MAX_SOCKET_PATH = 90
#: Longest error message kept per cell, in characters.
MAX_ERROR_CHARS = 300
#: Longest JSON text of one captured answer (as the capture helper's own limit; the kernel can
#: replace the helper, so the grader's side holds it again), in characters.
MAX_ANSWER_CHARS = 50_000
#: Longest text answer and type name kept (``describe_answer`` keeps 500 characters of text).
MAX_TEXT_CHARS, MAX_TYPE_NAME_CHARS = 500, 100


async def within(awaitable: Any, seconds: float) -> Any:
    """``await awaitable``, or raise ``TimeoutError`` after ``seconds``.

    Unlike ``asyncio.wait_for`` before Python 3.12, never swallows a cancellation (the
    grader's Ctrl-C) that arrives in the loop step in which the awaitable finishes: 3.11's
    ``wait_for`` then returns the result as if nothing happened, and an interrupted grader went
    on to run the next notebook. A loaded CI run hung there once.
    """
    if hasattr(asyncio, "timeout"):  # Python 3.11+
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover (Python 3.10)


@dataclass(frozen=True)
class Timeouts:
    """How long a kernel may take, in seconds.

    Attributes
    ----------
    cell : float
        One code cell, before it is interrupted (the next cells still run).
    notebook : float
        All cells together, before the notebook stops.
    start : float
        The kernel's start.
    interrupt : float
        A cell's answer to an interrupt (it gets two) before the kernel is given up.
    """

    cell: float
    notebook: float
    start: float = 60.0
    interrupt: float = INTERRUPT_GRACE


class KernelStartError(RuntimeError):
    """The grader could not start a kernel (a problem of the grading machine, not the student)."""


@dataclass(frozen=True)
class CellProblem:
    """Something that went wrong in one code cell.

    Attributes
    ----------
    cell : int
        1-based position among the notebook's code cells.
    kind : str
        ``"error"`` (the cell raised), ``"timeout"`` (interrupted after the per-cell timeout).
    message : str
        Short plain-English description, e.g. ``"NameError: name 'x' is not defined"``.
    """

    cell: int
    kind: str
    message: str


@dataclass(frozen=True)
class ExecutionReport:
    """What happened when a notebook ran, and the answers captured from it.

    Attributes
    ----------
    answers : dict
        Answer variable name -> ``multilevel.checks.describe_answer(value).to_json()`` (a
        plain dict, as decoded from JSON), for the names that were defined after the last
        cell that completed.
    n_cells, n_run : int
        Code cells in the notebook; cells sent to the kernel.
    problems : tuple of CellProblem
        Cells that raised or timed out, in order.
    stopped : str or None
        Why execution ended early (kernel died, notebook timeout, kernel unresponsive), else None.
    seconds : float
        Wall-clock time from kernel start to shutdown, in seconds.
    """

    answers: dict[str, Any]
    n_cells: int
    n_run: int
    problems: tuple[CellProblem, ...] = ()
    stopped: str | None = None
    seconds: float = 0.0
    capture_failures: int = field(default=0)


def _decode_capture(
    reply_content: Mapping[str, Any], names: Sequence[str]
) -> dict[str, Any] | None:
    """Decode the ``user_expressions`` result of one execute reply, or None if unusable.

    Only ``names`` are kept, each within bounds: a kernel may have replaced the capture
    helper, and a hostile review grew the grader by 170 MB per job with extra names and long
    strings inside the reply limit.

    Examples
    --------
    >>> reply = {"user_expressions": {"answers": {"status": "ok", "data": {"text/plain":
    ...     repr('{"q1": {"kind": "text", "value": "%s", "type_name": "str"}, "zz": 1}'
    ...          % ("x" * 900))}}}}
    >>> captured = _decode_capture(reply, ["q1"])
    >>> list(captured), len(captured["q1"]["value"])
    (['q1'], 500)
    """
    result = (reply_content.get("user_expressions") or {}).get("answers")
    if not isinstance(result, dict) or result.get("status") != "ok":
        return None
    text = (result.get("data") or {}).get("text/plain")
    if not isinstance(text, str) or len(text) > 5_000_000:
        return None
    try:
        payload = ast.literal_eval(text)
        decoded = json.loads(payload) if isinstance(payload, str) else None
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(decoded, dict):
        return None
    return {name: _bounded(decoded[name]) for name in names if name in decoded}


def _bounded(answer: Any) -> dict[str, Any]:
    """One captured answer, with its size bounded (a larger one is "too large to read")."""
    if not isinstance(answer, dict):
        return {"kind": "other", "type_name": "unreadable answer"}
    if len(json.dumps(answer)) > MAX_ANSWER_CHARS:
        return {"kind": "other", "type_name": "answer too large to read"}
    bounded = dict(answer)
    for key, most in (("value", MAX_TEXT_CHARS), ("type_name", MAX_TYPE_NAME_CHARS)):
        if isinstance(bounded.get(key), str):
            bounded[key] = bounded[key][:most]
    return bounded


def _short_error(content: Mapping[str, Any]) -> str:
    ename = str(content.get("ename", "Error"))
    evalue = str(content.get("evalue", "")).strip().splitlines()
    text = f"{ename}: {evalue[0]}" if evalue and evalue[0] else ename
    return text[:MAX_ERROR_CHARS]


class _ForkedKernel:
    """A kernel forked by :class:`ForkServer`; signals go through the server (its PID namespace)."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server, self.pid = server, pid
        self.exceeded: str | None = None  # the sandbox's limit its processes went over

    async def interrupt(self) -> None:
        await self.server.request({"op": "signal", "pid": self.pid, "signal": int(signal.SIGINT)})

    async def is_alive(self) -> bool:
        try:
            answer = await self.server.request({"op": "alive", "pid": self.pid})
        except KernelStartError:  # the server itself is gone, and the kernel with it
            return False
        if isinstance(answer.get("exceeded"), str):
            self.exceeded = answer["exceeded"][:200]
        return bool(answer.get("alive"))

    async def kill(self) -> None:
        try:
            await self.server.request({"op": "kill", "pid": self.pid})
        except KernelStartError:
            pass


class ForkServer:
    """Client of ``_zygote``: one process that imports the heavy modules once and forks kernels.

    Parameters
    ----------
    lib : Path
        Folder holding the grader's kernel helpers (the zygote and capture modules).
    env : mapping
        Environment of the zygote, and so of every kernel it forks.
    sandbox : sequence of str, optional
        The ``bwrap ... --`` prefix that starts the zygote in its sandbox; None runs it as a
        plain process (``--no-sandbox``).
    preexec : callable, optional
        Run in the child before ``exec`` (sets the resource limits).
    cwd : Path
        Working folder of the zygote.
    reply_bytes : int
        Largest message read from a kernel; a larger one is dropped (as if never sent).
    pass_fds : tuple of int
        File descriptors the zygote's command inherits (bwrap's ``--seccomp`` program).
    sockets : Path
        Folder of the kernels' connection file and sockets, as the kernels see it; the grader
        reaches it there too unless :meth:`reach_sockets_through` says otherwise.
    options : sequence of str
        More arguments of a sandboxed zygote (``--memory-mb N``: what its kernels may use
        together).
    """

    MODULE = "_multilevel_grade_zygote"

    def __init__(
        self,
        lib: Path,
        env: Mapping[str, str],
        *,
        sandbox: Sequence[str] | None = None,
        preexec: Any = None,
        cwd: Path | None = None,
        reply_bytes: int = 8 * 1024 * 1024,
        pass_fds: tuple[int, ...] = (),
        sockets: Path | None = None,
        options: Sequence[str] = (),
    ) -> None:
        self.lib, self.env, self.reply_bytes = lib, dict(env), reply_bytes
        self.options = tuple(options)
        self.pass_fds = pass_fds
        self.sockets = sockets or lib
        self.client_sockets = str(self.sockets)  # the same folder, as the grader reaches it
        self.sockets_fd: int | None = None
        self.sandbox, self.preexec, self.cwd = sandbox, preexec, cwd or lib
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def start(self, timeout: float = 120.0) -> None:
        """Start the zygote and wait until it has imported everything."""
        command = [sys.executable, "-m", self.MODULE, "--sockets", str(self.sockets)]
        if self.sandbox is not None:
            command = [*self.sandbox, *command, *self.options, "--sandboxed"]
        self.process = await asyncio.create_subprocess_exec(
            *command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=str(self.cwd),
            env=self.env,
            start_new_session=True,
            preexec_fn=self.preexec,
            pass_fds=self.pass_fds,
            limit=1 << 16,
        )
        try:
            line = await within(self.process.stdout.readline(), timeout)
            ready = json.loads(line or b"{}").get("ready") is True
        except (asyncio.TimeoutError, ValueError, AttributeError):
            ready = False
        if not ready:
            await self.close()
            raise KernelStartError("the kernel fork server did not start")

    def reach_sockets_through(self, pid: int) -> None:
        """Reach the sockets folder as process ``pid`` (the sandbox's first) sees it.

        The folder is a tmpfs private to the sandbox; the grader keeps it open through
        ``/proc/PID/root`` and connects through ``/proc/self/fd/N``, a path short enough for
        Unix sockets wherever the sandbox lives.
        """
        self.sockets_fd = os.open(f"/proc/{pid}/root{self.sockets}", os.O_RDONLY | os.O_DIRECTORY)
        self.client_sockets = f"/proc/self/fd/{self.sockets_fd}"

    async def request(self, message: Mapping[str, Any]) -> dict:
        """Send one request and return the answer (KernelStartError if the server is gone)."""
        if self.process is None or self.process.returncode is not None:
            raise KernelStartError("the kernel fork server is not running")
        async with self.lock:
            try:
                self.process.stdin.write((json.dumps(dict(message)) + "\n").encode())
                await self.process.stdin.drain()
                line = await within(self.process.stdout.readline(), 30)
                answer = json.loads(line)
            except (OSError, ValueError, asyncio.TimeoutError, asyncio.LimitOverrunError) as error:
                raise KernelStartError("the kernel fork server stopped answering") from error
        if not isinstance(answer, dict):
            raise KernelStartError("the kernel fork server gave an unreadable answer")
        return answer

    async def fork(self, request: Mapping[str, Any]) -> int:
        """Fork one kernel; returns its process id (in the server's PID namespace)."""
        answer = await self.request({"op": "fork", **request})
        try:
            return int(answer["pid"])
        except (ValueError, KeyError, TypeError) as error:
            raise KernelStartError("the kernel fork server gave no process id") from error

    async def close(self) -> None:
        """Stop the zygote; in a sandbox this ends every process the notebook started."""
        process, self.process = self.process, None
        if self.sockets_fd is not None:
            os.close(self.sockets_fd)
            self.sockets_fd = None
        if process is None or process.returncode is not None:
            return
        try:
            process.stdin.close()
            await within(process.wait(), 5)
        except (asyncio.TimeoutError, OSError):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()
            await process.wait()


def _connection(sockets: str, key: str) -> dict[str, Any]:
    """A kernel's connection information: IPC sockets ``k-1`` ... ``k-5`` in ``sockets``."""
    ports = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
    return {
        **{port: number for number, port in enumerate(ports, start=1)},
        "ip": f"{sockets}/k",
        "transport": "ipc",
        "key": key,
        "signature_scheme": "hmac-sha256",
        "kernel_name": "",
    }


async def _start_kernel(
    workdir: Path, fork_server: ForkServer, variant: str | None, start_timeout: float
) -> tuple[Any, Any]:
    """Fork a kernel in ``workdir`` with its sockets in the server's folder; (handle, client)."""
    # IPC sockets: local-only and fast; one kernel at a time uses a server's folder.
    if len(fork_server.client_sockets) >= _MAX_SOCKET_PATH:
        raise KernelStartError(
            f"the grader's scratch path {fork_server.client_sockets!r} is too long for sockets"
        )
    key = os.urandom(32).hex()
    pid = await fork_server.fork(
        {
            "connection": _connection(str(fork_server.sockets), key),
            "cwd": str(workdir),
            "ipython_dir": str(workdir / ".ipython"),
            "variant": variant,
        }
    )
    kernel = _ForkedKernel(fork_server, pid)
    await _sockets_listening(fork_server, kernel, start_timeout)
    client = AsyncKernelClient(context=_client_context(fork_server.reply_bytes))
    client.load_connection_info(_connection(fork_server.client_sockets, key))
    return kernel, client


#: The kernel's sockets the grader connects to: shell and control (``_connection``'s numbering).
_USED_SOCKETS = ("k-1", "k-4")


async def _sockets_listening(server: ForkServer, kernel: _ForkedKernel, timeout: float) -> None:
    """Wait until the new kernel listens on the sockets the grader uses; each must be a socket.

    The grader connects once, before any student code runs, and never reconnects
    (``_client_context``): a link planted in the folder later is never followed, so a kernel
    cannot point the grader at another socket of the machine.
    """
    deadline = time.perf_counter() + timeout
    for name in _USED_SOCKETS:
        while True:
            try:
                if server.sockets_fd is not None:
                    mode = os.stat(name, dir_fd=server.sockets_fd, follow_symlinks=False).st_mode
                else:
                    mode = os.stat(Path(server.client_sockets, name), follow_symlinks=False).st_mode
                if not stat.S_ISSOCK(mode):
                    raise KernelStartError(f"the kernel's {name} is not a socket")
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(f"{server.client_sockets}/{name}")
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.perf_counter() > deadline or not await kernel.is_alive():
                    raise KernelStartError("the kernel did not open its sockets") from None
                await asyncio.sleep(0.02)
            except OSError as error:
                raise KernelStartError(f"the kernel's sockets are unusable: {error}") from None


def _client_context(max_bytes: int) -> zmq.asyncio.Context:
    """A ZeroMQ context whose sockets drop any message larger than ``max_bytes`` and never
    reconnect (a reconnect would follow whatever the kernel left at the socket's path)."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, int(max_bytes))
    context.setsockopt(zmq.LINGER, 0)
    context.setsockopt(zmq.RECONNECT_IVL, -1)
    return context


class _Channel:
    """Execute requests on a kernel's shell channel, with interrupts at a deadline."""

    def __init__(self, kc: Any, kernel: Any, expression: str, grace: float) -> None:
        self.kc, self.kernel, self.expression, self.grace = kc, kernel, expression, grace

    async def execute(self, code: str, *, silent: bool, deadline: float) -> dict | None:
        """Send one execute request; return its reply content, None on timeout or death."""
        msg_id = self.kc.execute(
            code,
            silent=silent,
            store_history=not silent,
            user_expressions={"answers": self.expression},
            allow_stdin=False,
            stop_on_error=False,
        )
        interrupted_at: float | None = None
        interrupts = 0
        while True:
            now = time.perf_counter()
            due = deadline if interrupted_at is None else interrupted_at + self.grace
            if now >= due:
                # A second interrupt covers one that landed just before the cell started.
                if interrupts == 2:
                    return None
                interrupts += 1
                interrupted_at = now
                try:
                    await self.kernel.interrupt()
                except Exception:
                    return None
            try:
                msg = await self.kc.get_shell_msg(timeout=POLL_INTERVAL)
            except queue.Empty:
                if not await self.kernel.is_alive():
                    return None
                continue
            except Exception:  # a cell broke the kernel's messaging (e.g. patched json)
                return {"status": "garbled"}
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                content = dict(msg.get("content", {}))
                content["_interrupted"] = interrupted_at is not None
                return content


class _CellRun:
    """The cells of one notebook, run in order; what they answered and what went wrong."""

    def __init__(self, timeouts: Timeouts, names: Sequence[str]) -> None:
        self.cell_timeout, self.notebook_timeout = timeouts.cell, timeouts.notebook
        self.names = tuple(names)
        self.answers: dict[str, Any] = {}
        self.problems: list[CellProblem] = []
        self.stopped: str | None = None
        self.capture_failures = 0
        self.n_run = 0

    async def run(self, channel: _Channel, sources: Sequence[str]) -> None:
        """Run every cell, then an empty one that captures the final answers."""
        self.deadline = time.perf_counter() + self.notebook_timeout
        for index, source in enumerate([*sources, ""]):
            final = index == len(sources)
            cell_deadline = min(time.perf_counter() + self.cell_timeout, self.deadline)
            content = await channel.execute(source, silent=final, deadline=cell_deadline)
            self.n_run += not final
            where = "the final answer check" if final else f"code cell {index + 1}"
            if content is None or content.get("status") == "garbled":
                self.stopped = await self._stop_reason(content, channel.kernel, where)
                return
            captured = _decode_capture(content, self.names)
            if captured is not None:
                self.answers.update(captured)
            elif content.get("status") == "ok":
                self.capture_failures += 1
            if content.get("status") == "error" and not final and self._cell_failed(content, index):
                return

    @staticmethod
    async def _stop_reason(content: dict | None, kernel: Any, where: str) -> str:
        if content is not None:  # garbled
            return (
                f"the kernel sent an unreadable reply after {where} (did a cell change json "
                "or the kernel's messaging?); answers captured before that were graded"
            )
        if not await kernel.is_alive():
            if getattr(kernel, "exceeded", None):
                return (
                    f"the notebook's processes {kernel.exceeded} (the sandbox's limit), so "
                    f"they were stopped while running {where}; answers captured before that "
                    "were graded"
                )
            return (
                f"the kernel stopped (crash, exit() or os._exit) while running {where}; "
                "answers captured before that were graded"
            )
        return (
            f"the kernel did not respond to an interrupt in {where}; "
            "answers captured before that were graded"
        )

    def _cell_failed(self, content: dict, index: int) -> bool:
        """Record a cell's error or timeout; True when the whole notebook ran out of time."""
        if not content.get("_interrupted"):
            self.problems.append(CellProblem(index + 1, "error", _short_error(content)))
            return False
        if time.perf_counter() >= self.deadline:
            self.stopped = (
                f"the whole notebook ran longer than {self.notebook_timeout:g} s "
                f"(interrupted in code cell {index + 1}); later cells were not run"
            )
            return True
        self.problems.append(
            CellProblem(
                index + 1, "timeout", f"ran longer than {self.cell_timeout:g} s and was interrupted"
            )
        )
        return False


async def run_notebook(
    sources: Sequence[str],
    *,
    names: Sequence[str],
    workdir: Path,
    fork_server: ForkServer,
    timeouts: Timeouts,
    variant: str | None = None,
) -> ExecutionReport:
    """Execute ``sources`` one by one in a fresh kernel started in ``workdir``.

    Parameters
    ----------
    sources : sequence of str
        The code cells, in the order they appear in the notebook.
    names : sequence of str
        Variables to capture after every cell (the question variables, ``STUDENT_ID``).
    workdir : Path
        Current directory of the kernel (inside its sandbox).
    fork_server : ForkServer
        The (sandboxed) server the kernel is forked from.
    timeouts : Timeouts
        How long one cell, all cells and the kernel's start may take.
    variant : str, optional
        A secret student id whose data ``multilevel.checks.start`` makes instead of the
        notebook's own (the grader's second run).

    Returns
    -------
    ExecutionReport

    Raises
    ------
    KernelStartError
        If the kernel does not start or the capture helper cannot be imported.

    Examples
    --------
    >>> report = await run_notebook(["q1 = 1 + 1"], names=["q1"], workdir=work,
    ...     fork_server=server, timeouts=Timeouts(cell=10, notebook=30))  # doctest: +SKIP
    >>> report.answers["q1"]["value"]  # doctest: +SKIP
    2.0
    """
    started = time.perf_counter()
    kc = None
    kernel: Any = None
    run = _CellRun(timeouts, names)
    start_timeout, notebook_timeout = timeouts.start, timeouts.notebook
    try:
        try:
            kernel, kc = await _start_kernel(workdir, fork_server, variant, start_timeout)
            kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=True)
            await within(kc.wait_for_ready(timeout=start_timeout), start_timeout + 5)
        except KernelStartError:
            raise
        except Exception as exc:
            raise KernelStartError(f"the Jupyter kernel did not start: {exc}") from exc
        expression = f"__import__({CAPTURE_MODULE!r}).dump({tuple(names)!r})"
        channel = _Channel(kc, kernel, expression, timeouts.interrupt)
        setup = await channel.execute(
            f"import {CAPTURE_MODULE}", silent=True, deadline=time.perf_counter() + start_timeout
        )
        if setup is None or setup.get("status") != "ok":
            raise KernelStartError(
                "the grader's capture helper could not be imported in the kernel"
            )
        # Every cell has its deadline; this one also bounds what a kernel could do to the
        # grader's side of the conversation (a hostile review stalled a reply forever).
        try:
            await within(run.run(channel, sources), notebook_timeout + start_timeout)
        except TimeoutError:
            run.stopped = run.stopped or (
                f"the kernel stopped answering the grader (more than {notebook_timeout:g} s); "
                "answers captured before that were graded"
            )
    finally:
        if kc is not None:
            kc.stop_channels()
            kc.context.destroy(linger=0)
        if kernel is not None:
            await kernel.kill()
    return ExecutionReport(
        answers=run.answers,
        n_cells=len(sources),
        n_run=run.n_run,
        problems=tuple(run.problems),
        stopped=run.stopped,
        seconds=time.perf_counter() - started,
        capture_failures=run.capture_failures,
    )


#: Variables passed on to a grading kernel; everything else (tokens, passwords, the
#: instructor's settings) stays out of reach of student code, which could print it into an answer.
KERNEL_ENV_ALLOWED = (
    *("PATH", "HOME", "USER", "LOGNAME", "SYSTEMROOT"),  # who and where
    *("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ"),  # language and time
    *("TMPDIR", "TEMP", "TMP", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"),  # scratch
    *("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH"),  # the Python environment
)
#: Thread pools capped at one thread per kernel: the grader runs one kernel per core already.
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def kernel_environment(base: Mapping[str, str], *, lib: Path, home: Path, tmp: Path) -> dict:
    """Environment for a grading kernel: allowed variables only, the grader's helpers on the path.

    Parameters
    ----------
    base : mapping
        The grader's environment; only :data:`KERNEL_ENV_ALLOWED` variables are kept.
    lib : Path
        Folder holding the grader's kernel helpers (first on ``PYTHONPATH``).
    home, tmp : Path
        The kernel's home and temporary folders (private to its sandbox).

    Examples
    --------
    >>> env = kernel_environment({"SECRET": "x"}, lib=Path("/g/lib"), home=Path("/w"),
    ...                          tmp=Path("/tmp"))
    >>> env["PYTHONPATH"], env["MPLBACKEND"], env["HOME"], "SECRET" in env
    ('/g/lib', 'Agg', '/w', False)
    """
    env = {k: v for k, v in base.items() if k in KERNEL_ENV_ALLOWED or k.startswith("LC_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(lib), base.get("PYTHONPATH")) if p)
    env["HOME"] = str(home)
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(tmp)
    env["MPLCONFIGDIR"] = str(tmp / "matplotlib")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in ONE_THREAD:
        env[name] = base.get(name, "1")
    return env
