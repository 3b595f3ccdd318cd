"""The tasks that run what callbacks hand off, and know when they are idle.

Protocol callbacks cannot await; when work must wait (an ``async def`` handler, an HTTP route
that reads files), they hand it to :meth:`TaskSpawner.spawn`. The spawner counts the tasks it
runs so a graceful shutdown can wait for them (:meth:`~TaskSpawner.wait_idle`) on an event
instead of polling.

The tasks are started the cheapest way each backend has that keeps a task group's guarantees
(cancelled with the spawner, waited for, shielded scopes honoured): the loop's
``create_task`` with a cancel scope each on asyncio (:mod:`._asyncio`), a trio nursery on trio
(:mod:`._trio`). anyio's own ``TaskGroup.start_soon`` adds a task handle, an event and a
wrapper coroutine per task (and on trio a cancel scope): measured with callgrind, a seventh
of what an acked event of an ``async def`` handler costs on asyncio, a quarter on trio.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
from anyio.abc import TaskStatus

from ._asyncio import asyncio_tasks, on_asyncio

__all__ = ("TaskSpawner",)

log = logging.getLogger("thinkio.server")

#: Starts ``await fn(*args)`` in a task: ``start(fn, args)``.
Start = Callable[[Callable[..., Awaitable[Any]], tuple[Any, ...]], None]


def open_tasks() -> AbstractAsyncContextManager[Start]:
    """The running backend's way of starting tasks, for a block: yields ``start``; when the
    block ends, its tasks are cancelled and waited for."""
    if on_asyncio():
        return asyncio_tasks()
    from ._trio import trio_tasks  # not on asyncio: trio is the other backend, and installed

    return trio_tasks()


class TaskSpawner:
    """Spawns tasks while :meth:`run` runs (in the server's task group)."""

    __slots__ = ("__weakref__", "_busy", "_idle", "_start")

    def __init__(self) -> None:
        self._start: Start | None = None
        self._busy = 0
        self._idle: anyio.Event | None = None

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Let :meth:`spawn` start tasks until cancelled; then cancel them and wait for them
        (so the task group running this waits for them too)."""
        try:
            async with open_tasks() as start:
                self._start = start
                task_status.started()
                await anyio.sleep_forever()
        finally:
            self._start = None

    @property
    def running(self) -> bool:
        """:meth:`run` is running: :meth:`spawn` works."""
        return self._start is not None

    @property
    def busy(self) -> int:
        """Tasks spawned and not finished (services not counted)."""
        return self._busy

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task. An exception it raises is logged, not raised.

        Raises:
            RuntimeError: the server is not running.
        """
        start = self._start
        if start is None:
            raise RuntimeError("the server is not running: start it with serve() or run()")
        self._busy += 1
        start(self._run, (fn, args))

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception:
            log.exception("task %s failed", getattr(fn, "__qualname__", fn))
        finally:
            self._busy -= 1
            if not self._busy and self._idle is not None:
                self._idle.set()
                self._idle = None

    def spawn_service(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task that runs as long as its owner wants (an
        adapter's connection to its peers): :meth:`wait_idle` does not wait for it, so a
        graceful shutdown does not wait out its timeout for a loop that never ends. Its owner
        stops it; the ones left are cancelled when :meth:`run` ends. An exception it raises
        is logged, not raised.

        Raises:
            RuntimeError: the server is not running.
        """
        start = self._start
        if start is None:
            raise RuntimeError("the server is not running: start it with serve() or run()")
        start(self._run_service, (fn, args))

    @staticmethod
    async def _run_service(fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        try:
            await fn(*args)
        except Exception:
            log.exception("service %s failed", getattr(fn, "__qualname__", fn))

    async def wait_idle(self) -> None:
        """Return once no spawned task is running."""
        while self._busy:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()
