"""The task group that runs what callbacks hand off, and knows when it is idle.

Protocol callbacks cannot await; when work must wait (an ``async def`` handler, an HTTP route
that reads files), they hand it to :meth:`TaskSpawner.spawn`. The spawner counts the tasks it
runs so a graceful shutdown can wait for them (:meth:`wait_idle`) on an event instead of
polling.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

__all__ = ("TaskSpawner",)

log = logging.getLogger("thinkio.server")


class TaskSpawner:
    """Spawns tasks into one task group (set by :meth:`bind` while the server runs)."""

    __slots__ = ("__weakref__", "_busy", "_idle", "_tg")

    def __init__(self) -> None:
        self._tg: TaskGroup | None = None
        self._busy = 0
        self._idle: anyio.Event | None = None

    def bind(self, tg: TaskGroup | None) -> None:
        """Spawn into ``tg`` from now on (None: the server stopped)."""
        self._tg = tg

    @property
    def running(self) -> bool:
        """A task group is bound: :meth:`spawn` works."""
        return self._tg is not None

    @property
    def busy(self) -> int:
        """Tasks spawned and not finished."""
        return self._busy

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task. An exception it raises is logged, not raised.

        Raises:
            RuntimeError: the server is not running.
        """
        if self._tg is None:
            raise RuntimeError("the server is not running: start it with serve() or run()")
        self._busy += 1
        self._tg.start_soon(self._run, fn, args)

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

    async def wait_idle(self) -> None:
        """Return once no spawned task is running."""
        while self._busy:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()
