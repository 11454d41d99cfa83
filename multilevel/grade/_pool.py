"""Sandboxes kept warm between submissions: one per parallel job, reset after every kernel.

The same pool keeps the grader's workers (``_worker``), one per job, each holding its sandbox.

Starting a sandbox costs about 1.5 CPU seconds (its fork server imports ipykernel, numpy,
pandas, scipy and the course), several times what grading a good notebook costs. So each job
keeps its sandbox and, after every kernel (a submission's own run and its variant run), asks
its fork server to reset it (``_zygote``: every process but the server killed and gone, the
writable folders emptied and as they were, the mounts and the server's own limits and
scheduling unchanged, no System V IPC object left). A sandbox whose server does not answer, or
is not clean after the reset, is stopped and replaced by a fresh one.

What a notebook can reach is the same as with a sandbox per submission: the next notebook
starts from the server's untouched memory (each kernel is a fresh fork of it) and from empty
folders. Unconfined servers (``--no-sandbox``) are reused too, their folders emptied: without a
sandbox a notebook can do anything its user can, before or after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from ._kernel import ForkServer, KernelStartError, within
from ._sandbox import remove_tree

#: Seconds a fork server may take to reset its sandbox before the sandbox is replaced.
RESET_TIMEOUT = 30.0


@dataclass
class Sandbox:
    """One running fork server and its folders.

    Attributes
    ----------
    server : ForkServer
        The server (in its bwrap sandbox, or unconfined) that forks the kernels.
    scratch : Path
        Host folder holding everything of this sandbox; removed when it stops.
    work : Path
        The kernels' working folder (a path inside the sandbox).
    """

    server: ForkServer
    scratch: Path
    work: Path

    async def reset(self) -> bool:
        """Make the sandbox ready for another kernel; False if it cannot be trusted to be."""
        try:
            answer = await within(self.server.request({"op": "reset"}), RESET_TIMEOUT)
        except (KernelStartError, TimeoutError):
            return False
        return answer.get("clean") is True

    async def stop(self) -> None:
        """Stop the server (and with it every process of the sandbox); remove the folders."""
        await self.server.close()
        await asyncio.to_thread(remove_tree, self.scratch)


class Reusable(Protocol):
    """Something a :class:`WarmPool` keeps: it can be made ready again, or stopped."""

    async def reset(self) -> bool: ...

    async def stop(self) -> None: ...


T = TypeVar("T", bound=Reusable)


class WarmPool(Generic[T]):
    """Idle sandboxes (or the grader's workers that keep them), handed out one at a time.

    Parameters
    ----------
    start : callable
        Coroutine function that starts a new one (raises ``KernelStartError``).
    """

    def __init__(self, start: Callable[[], Awaitable[T]]) -> None:
        self.start = start
        self.idle: list[T] = []

    async def acquire(self) -> T:
        """An idle one, or a new one."""
        if self.idle:
            return self.idle.pop()
        return await self.start()

    async def release(self, item: T, *, keep: bool) -> None:
        """Return one after use: reset and kept idle, or stopped."""
        if keep and await item.reset():
            self.idle.append(item)
        else:
            await item.stop()

    async def close(self) -> None:
        """Stop every idle one."""
        idle, self.idle = self.idle, []
        for item in idle:
            await item.stop()


__all__ = ["RESET_TIMEOUT", "Reusable", "Sandbox", "WarmPool"]
