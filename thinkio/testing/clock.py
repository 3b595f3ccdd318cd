"""A clock that moves only when a test says so."""

from __future__ import annotations

from ..net import TimerService

__all__ = ("FakeClock",)


class FakeClock:
    """A :class:`thinkio.net.Clock` for tests: time stands still until :meth:`advance`.

    Give it to a server (``Server(clock=FakeClock())``); advancing it runs every timer that
    comes due — pings, ping timeouts, connect timeouts, HTTP timeouts — synchronously, in
    deadline order, so tests of time never sleep::

        clock = FakeClock()
        io = Server(clock=clock, ping_interval=25, ping_timeout=20)
        ...
        clock.advance(45)       # the session without pongs is gone now

    Args:
        start: the time it shows first, in seconds.
    """

    real = False

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._timers: list[TimerService] = []

    def now(self) -> float:
        return self._now

    def attach(self, timers: TimerService) -> None:
        """A timer service runs on this clock (it registers itself)."""
        self._timers.append(timers)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, running every timer due on the way, in order.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"time cannot go back ({seconds!r})")
        target = self._now + seconds
        while True:
            deadlines = [d for t in self._timers if (d := t.next_deadline()) is not None]
            due = min((d for d in deadlines if d <= target), default=None)
            if due is None:
                break
            self._now = max(self._now, due)
            for timers in self._timers:
                timers.run_due(self._now)
        self._now = target

    def next_deadline(self) -> float | None:
        """The earliest timer deadline of every attached service, or None."""
        deadlines = [d for t in self._timers if (d := t.next_deadline()) is not None]
        return min(deadlines, default=None)
