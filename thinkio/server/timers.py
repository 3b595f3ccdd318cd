"""One task runs every session's timers, from a heap.

The sans-IO sessions say when they need to be called back (``next_deadline()``); a task per
session sleeping on its own deadline would cost thousands of sleeping tasks on a busy server.
Instead every owner registers its deadline here. Entries are never removed: an entry whose
deadline is stale simply calls back early, the owner finds nothing due and reschedules.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable

import anyio
from anyio.abc import TaskStatus

__all__ = ("TimerService",)


class TimerService:
    """Calls ``callback(now)`` of each scheduled owner at (or just after) its deadline."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[float], None]]] = []
        self._counter = itertools.count()
        self._wakeup = anyio.Event()

    def schedule(self, deadline: float, callback: Callable[[float], None]) -> None:
        """Call ``callback(now)`` once, at ``deadline`` (seconds on anyio's clock)."""
        earliest = self._heap[0][0] if self._heap else math.inf
        heapq.heappush(self._heap, (deadline, next(self._counter), callback))
        if deadline < earliest:
            self._wakeup.set()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run timers until cancelled."""
        task_status.started()
        heap = self._heap
        while True:
            now = anyio.current_time()
            while heap and heap[0][0] <= now:
                _, _, callback = heapq.heappop(heap)
                callback(now)
            delay = heap[0][0] - now if heap else math.inf
            self._wakeup = anyio.Event()
            with anyio.move_on_after(delay):
                await self._wakeup.wait()
