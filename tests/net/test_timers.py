"""The timer heap (thinkio/net/timers.py) on a fake clock: order, cancellation, and a heap
that stays proportional to the live timers whatever the churn."""

from __future__ import annotations

import anyio
import pytest

from thinkio.net import DeadlineQueue, TimerService
from thinkio.testing import FakeClock


def service() -> tuple[FakeClock, TimerService]:
    clock = FakeClock(start=0.0)
    return clock, TimerService(clock)


def queue() -> tuple[FakeClock, TimerService, DeadlineQueue[str], list[tuple[str, float]]]:
    clock, timers = service()
    ran: list[tuple[str, float]] = []
    return clock, timers, DeadlineQueue(timers, lambda key, now: ran.append((key, now))), ran


def test_a_deadline_queue_calls_back_each_key_at_its_deadline_with_one_timer() -> None:
    clock, timers, q, ran = queue()
    for key, deadline in [("a", 1.0), ("b", 1.0), ("c", 2.0), ("d", 3.0)]:
        q.add(key, deadline)
    assert len(q) == 4
    assert len(timers) == 1
    q.discard("b")
    q.discard("b")  # discarding twice, or a key never added, changes nothing
    q.discard("z")
    clock.advance(0.5)
    assert ran == []
    clock.advance(1)
    assert ran == [("a", 1.0)]
    clock.advance(10)
    assert ran == [("a", 1.0), ("c", 2.0), ("d", 3.0)]
    assert len(q) == 0
    assert len(timers) == 0


def test_a_deadline_queue_keeps_deadlines_added_out_of_order() -> None:
    clock, timers, q, ran = queue()
    q.add("late", 5.0)
    q.add("early", 1.0)  # before the last one added: a timer of its own
    q.add("gone", 0.5)
    q.discard("gone")
    assert len(q) == 2
    clock.advance(2)
    assert ran == [("early", 1.0)]
    clock.advance(4)
    assert ran == [("early", 1.0), ("late", 5.0)]
    assert len(q) == 0
    assert len(timers) == 0


def test_a_deadline_queue_callback_may_add_and_discard_keys() -> None:
    clock, timers = service()
    ran: list[str] = []

    def due(key: str, now: float) -> None:
        ran.append(key)
        if key == "a":
            q.discard("b")  # due at the same time, not called back
            q.add("again", now + 1)

    q: DeadlineQueue[str] = DeadlineQueue(timers, due)
    q.add("a", 1.0)
    q.add("b", 1.0)
    q.add("c", 3.0)
    clock.advance(1)
    assert ran == ["a"]
    clock.advance(1)
    assert ran == ["a", "again"]
    clock.advance(1)
    assert ran == ["a", "again", "c"]
    assert len(timers) == 0


def test_timers_run_in_deadline_order_at_their_deadline() -> None:
    clock, timers = service()
    ran: list[tuple[str, float]] = []
    for name, delay in [("c", 3.0), ("a", 1.0), ("b", 2.0), ("a2", 1.0)]:
        timers.call_later(delay, lambda now, name=name: ran.append((name, now)))
    clock.advance(0.5)
    assert ran == []
    clock.advance(10)
    assert ran == [("a", 1.0), ("a2", 1.0), ("b", 2.0), ("c", 3.0)]
    assert len(timers) == 0


def test_a_cancelled_timer_does_not_run_and_cancel_is_idempotent() -> None:
    clock, timers = service()
    ran: list[float] = []
    timer = timers.call_later(1, ran.append)
    timer.cancel()
    timer.cancel()
    assert not timer.active
    assert len(timers) == 0
    clock.advance(2)
    assert ran == []
    assert timers.next_deadline() is None


def test_a_timer_scheduled_by_a_timer_for_now_runs_in_the_same_advance() -> None:
    clock, timers = service()
    ran: list[str] = []

    def first(now: float) -> None:
        ran.append("first")
        timers.call_at(now, lambda _: ran.append("second"))

    timers.call_later(1, first)
    clock.advance(1)
    assert ran == ["first", "second"]


def test_next_deadline_skips_cancelled_timers() -> None:
    _, timers = service()
    early = timers.call_later(1, lambda now: None)
    timers.call_later(5, lambda now: None)
    early.cancel()
    assert timers.next_deadline() == 5.0


@pytest.mark.parametrize("live", [0, 10, 1000])
def test_rearmed_timers_do_not_accumulate(live: int) -> None:
    """The connect-timer leak: each message cancels its session's timer and sets a new one.
    A million messages later the heap holds about the live timers, not a million entries."""
    clock, timers = service()
    armed = [timers.call_later(60, lambda now: None) for _ in range(live)]
    session = timers.call_later(60, lambda now: None)
    biggest = 0
    for _ in range(100_000):
        session.cancel()
        session = timers.call_later(60, lambda now: None)
        biggest = max(biggest, timers.heap_size)
    assert len(timers) == live + 1
    assert biggest <= max(2 * (live + 1), 256) + 1
    clock.advance(61)
    assert len(timers) == 0
    assert all(not t.active for t in armed)


def test_cancelled_far_timers_behind_a_near_one_are_compacted() -> None:
    _, timers = service()
    timers.call_later(1, lambda now: None)  # at the head: popping never reaches the rest
    for _ in range(10_000):
        timers.call_later(1000, lambda now: None).cancel()
    assert timers.heap_size <= 2 * 256 + 1


@pytest.mark.anyio
async def test_the_timer_task_wakes_for_a_timer_set_while_it_sleeps() -> None:
    """On the real clock, ``run`` sleeps until the earliest deadline; a nearer timer added
    meanwhile wakes it (else the new timer would wait for the old deadline)."""
    timers = TimerService()
    fired = anyio.Event()
    async with anyio.create_task_group() as tg:
        await tg.start(timers.run)
        timers.call_later(3600, lambda now: None)
        await anyio.wait_all_tasks_blocked()  # the task now sleeps for an hour
        timers.call_later(0, lambda now: fired.set())
        with anyio.fail_after(5):
            await fired.wait()
        tg.cancel_scope.cancel()
