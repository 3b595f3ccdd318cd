"""A clock, and one timer heap that runs every deadline of a server.

The sans-IO sessions say when they need to be called back (``next_deadline()``); a task per
session sleeping on its own deadline would cost thousands of sleeping tasks on a busy server.
Instead every owner schedules a :class:`Timer` here, and one task sleeps until the earliest.

Time comes from a :class:`Clock`: the system's monotonic clock in production, and
:class:`thinkio.testing.FakeClock` in tests, which runs due timers when the test advances it —
so heartbeats and timeouts are tested without sleeping.

Cancelled timers stay in the heap until they come up or until they are more than half of it;
then the heap is rebuilt without them (as asyncio does), so the heap stays proportional to
the live timers whatever the churn.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import math
import time
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

import anyio
from anyio.abc import TaskStatus

__all__ = ("SYSTEM_CLOCK", "Clock", "DeadlineQueue", "SystemClock", "Timer", "TimerService")

#: Below this many heap entries cancelled timers are never compacted away.
_COMPACT_MIN = 256

K = TypeVar("K", bound=Hashable)


class Clock(Protocol):
    """Where the I/O layer reads the time (seconds, any monotonic origin)."""

    #: Whether the timer task must sleep in real time until a deadline (False for a fake
    #: clock, which runs due timers itself when advanced).
    real: bool

    def now(self) -> float:
        """The current time in seconds."""
        ...

    def attach(self, timers: TimerService) -> None:
        """A timer service now runs on this clock."""
        ...


class SystemClock:
    """``time.monotonic()``: the clock of asyncio's loop, and close to trio's."""

    __slots__ = ()

    real = True

    #: ``time.monotonic`` itself: read on every message, so no Python frame around it.
    now = staticmethod(time.monotonic)

    def attach(self, timers: TimerService) -> None:
        """Nothing to do: the timer task sleeps in real time."""


#: The clock servers use unless given another.
SYSTEM_CLOCK = SystemClock()


class Timer:
    """A scheduled callback; :meth:`cancel` it when it is no longer wanted."""

    __slots__ = ("_callback", "_service", "deadline")

    def __init__(
        self, service: TimerService, deadline: float, callback: Callable[[float], None]
    ) -> None:
        self._service = service
        self.deadline = deadline
        self._callback: Callable[[float], None] | None = callback

    @property
    def active(self) -> bool:
        """Not yet run and not cancelled."""
        return self._callback is not None

    def cancel(self) -> None:
        """Do not run it (a no-op once it ran or was cancelled)."""
        if self._callback is not None:
            self._callback = None
            self._service.timer_cancelled()

    def fire(self, now: float) -> None:
        """Run the callback now (once); the service calls it when the deadline comes."""
        callback, self._callback = self._callback, None
        if callback is not None:
            callback(now)


class TimerService:
    """Runs ``callback(now)`` of each timer at (or just after) its deadline.

    Args:
        clock: where the time comes from.
    """

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        self._counter = itertools.count()
        self._cancelled = 0
        self._sleeping_until = math.inf
        self._wakeup: anyio.Event | None = None
        clock.attach(self)

    def __len__(self) -> int:
        """Timers scheduled and not cancelled."""
        return len(self._heap) - self._cancelled

    @property
    def heap_size(self) -> int:
        """Entries in the heap, cancelled ones included (bounded: see the module doc)."""
        return len(self._heap)

    def call_at(self, deadline: float, callback: Callable[[float], None]) -> Timer:
        """Call ``callback(now)`` once, at ``deadline`` on :attr:`clock`."""
        timer = Timer(self, deadline, callback)
        heapq.heappush(self._heap, (deadline, next(self._counter), timer))
        if deadline < self._sleeping_until and self._wakeup is not None:
            self._wakeup.set()
        return timer

    def call_later(self, delay: float, callback: Callable[[float], None]) -> Timer:
        """Call ``callback(now)`` once, ``delay`` seconds from now."""
        return self.call_at(self.clock.now() + delay, callback)

    def timer_cancelled(self) -> None:
        """One timer was cancelled (called by :meth:`Timer.cancel`)."""
        self._cancelled += 1
        heap = self._heap
        if len(heap) > _COMPACT_MIN and self._cancelled * 2 > len(heap):
            self._heap = [entry for entry in heap if entry[2].active]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None."""
        heap = self._heap
        while heap and not heap[0][2].active:
            heapq.heappop(heap)
            self._cancelled -= 1
        return heap[0][0] if heap else None

    def run_due(self, now: float | None = None) -> int:
        """Run every timer due at ``now`` (default: the clock's time); returns how many ran.

        A timer scheduled by a callback for a deadline already due runs in the same call.
        """
        if now is None:
            now = self.clock.now()
        heap = self._heap
        ran = 0
        while heap and heap[0][0] <= now:
            _, _, timer = heapq.heappop(heap)
            if timer.active:
                timer.fire(now)
                ran += 1
            else:
                self._cancelled -= 1
        return ran

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run timers until cancelled."""
        task_status.started()
        clock = self.clock
        try:
            while True:
                self.run_due()
                deadline = self.next_deadline()
                self._wakeup = anyio.Event()
                if deadline is None or not clock.real:
                    self._sleeping_until = -math.inf if deadline is not None else math.inf
                    await self._wakeup.wait()
                    continue
                self._sleeping_until = deadline
                with anyio.move_on_after(max(deadline - clock.now(), 0)):
                    await self._wakeup.wait()
        finally:
            self._wakeup = None
            self._sleeping_until = math.inf


class DeadlineQueue(Generic[K]):
    """Many timeouts of one duration, each for a key: ``callback(key, now)`` runs at its
    deadline unless the key is discarded first.

    Timeouts of one duration come due in the order they are added, so an insertion-ordered
    dict holds them and one :class:`Timer` waits for the earliest: adding one is a dict store
    and discarding it a dict delete, with no Timer, heap entry or bound method of its own
    (every connection adds one, and discards it milliseconds later when the client joins).
    A deadline earlier than the last one added (the duration was changed) would break the
    order: it gets a Timer of its own instead.

    Args:
        timers: the service that runs the queue's timer.
        callback: called with the key and the time, once its deadline passed.
    """

    __slots__ = ("_callback", "_entries", "_firing", "_last", "_strays", "_timer", "_timers")

    def __init__(self, timers: TimerService, callback: Callable[[K, float], None]) -> None:
        self._timers = timers
        self._callback = callback
        self._entries: dict[K, float] = {}
        self._strays: dict[K, Timer] = {}
        self._last = -math.inf
        self._timer: Timer | None = None
        self._firing = False

    def __len__(self) -> int:
        """Timeouts waiting."""
        return len(self._entries) + len(self._strays)

    def add(self, key: K, deadline: float) -> None:
        """Call back for ``key`` at ``deadline`` (a key is added once until it is due or
        discarded)."""
        if deadline < self._last:
            self._strays[key] = self._timers.call_at(
                deadline, functools.partial(self._stray_due, key)
            )
            return
        self._last = deadline
        self._entries[key] = deadline
        if self._timer is None and not self._firing:
            self._timer = self._timers.call_at(deadline, self._due)

    def discard(self, key: K) -> None:
        """No callback for ``key`` (nothing happens if it has none waiting)."""
        if self._entries.pop(key, None) is None and self._strays:
            timer = self._strays.pop(key, None)
            if timer is not None:
                timer.cancel()

    def _due(self, now: float) -> None:
        self._timer = None
        entries = self._entries
        due = []
        for key, deadline in entries.items():
            if deadline > now:
                break
            due.append(key)
        self._firing = True
        try:
            for key in due:
                if entries.pop(key, None) is not None:  # (an earlier callback may discard it)
                    self._callback(key, now)
        finally:
            self._firing = False
            if entries and self._timer is None:
                self._timer = self._timers.call_at(next(iter(entries.values())), self._due)

    def _stray_due(self, key: K, now: float) -> None:
        del self._strays[key]
        self._callback(key, now)
