"""The contract of :class:`thinkio.net.TaskSpawner`, on both backends (its tasks start through
``thinkio/net/_asyncio.py`` on asyncio and ``thinkio/net/_trio.py`` on trio): what a task
group would give, without its cost per task."""

from __future__ import annotations

import contextvars
import logging

import anyio
import anyio.lowlevel
import pytest

from thinkio.net import TaskSpawner

pytestmark = pytest.mark.anyio

REQUEST = contextvars.ContextVar("REQUEST", default="none")


async def test_spawned_tasks_run_are_counted_and_a_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spawner = TaskSpawner()
    done: list[str] = []
    release = anyio.Event()

    async def work(name: str) -> None:
        await release.wait()
        done.append(name)

    async def fail() -> None:
        await anyio.lowlevel.checkpoint()
        raise ValueError("boom")

    async with anyio.create_task_group() as tg:
        await tg.start(spawner.run)
        assert spawner.running
        spawner.spawn(work, "a")
        spawner.spawn(fail)
        spawner.spawn(work, "b")
        assert spawner.busy == 3
        with caplog.at_level(logging.ERROR, logger="thinkio.server"):
            release.set()
            with anyio.fail_after(5):
                await spawner.wait_idle()
        assert sorted(done) == ["a", "b"]  # the failure stopped neither the others nor us
        assert spawner.busy == 0
        assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)
        tg.cancel_scope.cancel()
    assert not spawner.running
    with pytest.raises(RuntimeError, match="not running"):
        spawner.spawn(work, "late")


async def test_stopping_cancels_the_tasks_and_waits_for_them() -> None:
    spawner = TaskSpawner()
    events: list[str] = []
    started = anyio.Event()

    async def forever() -> None:
        try:
            started.set()
            await anyio.sleep_forever()
        finally:
            events.append("cleaned up")

    async with anyio.create_task_group() as tg:
        await tg.start(spawner.run)
        spawner.spawn(forever)
        await started.wait()
        tg.cancel_scope.cancel()
    assert events == ["cleaned up"]  # before the group's block ended
    assert spawner.busy == 0


async def test_a_tasks_shielded_scope_holds_when_the_spawner_stops() -> None:
    spawner = TaskSpawner()
    events: list[str] = []
    entered = anyio.Event()
    stopping = False

    async def shielded() -> None:
        with anyio.CancelScope(shield=True):
            entered.set()
            while not stopping:
                await anyio.lowlevel.checkpoint()
            for _ in range(3):
                await anyio.lowlevel.checkpoint()  # not cancelled: shielded
            events.append("shield held")
        try:
            await anyio.lowlevel.checkpoint()
        except anyio.get_cancelled_exc_class():
            events.append("cancelled after it")
            raise

    async with anyio.create_task_group() as tg:
        await tg.start(spawner.run)
        spawner.spawn(shielded)
        await entered.wait()
        tg.cancel_scope.cancel()
        stopping = True
    assert events == ["shield held", "cancelled after it"]


async def test_each_task_has_its_own_context() -> None:
    spawner = TaskSpawner()
    seen: list[str] = []

    async def handler(name: str) -> None:
        seen.append(REQUEST.get())
        REQUEST.set(name)
        await anyio.lowlevel.checkpoint()
        seen.append(REQUEST.get())

    async with anyio.create_task_group() as tg:
        await tg.start(spawner.run)
        spawner.spawn(handler, "first")
        with anyio.fail_after(5):
            await spawner.wait_idle()
        spawner.spawn(handler, "second")
        with anyio.fail_after(5):
            await spawner.wait_idle()
        tg.cancel_scope.cancel()
    assert seen == ["none", "first", "none", "second"]  # nothing leaks from one to the next
    assert REQUEST.get() == "none"


async def test_a_service_is_not_waited_for_and_is_cancelled_when_the_spawner_stops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # An adapter's subscriber loop never ends on its own: a graceful shutdown that waited for
    # it would always wait out its timeout.
    spawner = TaskSpawner()
    events: list[str] = []
    started = anyio.Event()

    async def loop() -> None:
        try:
            started.set()
            await anyio.sleep_forever()
        finally:
            events.append("loop cleaned up")

    async def broken() -> None:
        await anyio.lowlevel.checkpoint()
        raise ValueError("service boom")

    async with anyio.create_task_group() as tg:
        await tg.start(spawner.run)
        with caplog.at_level(logging.ERROR, logger="thinkio.server"):
            spawner.spawn_service(loop)
            spawner.spawn_service(broken)
            release = anyio.Event()
            spawner.spawn(release.wait)
            await started.wait()
            assert spawner.busy == 1  # the plain task only
            release.set()
            with anyio.fail_after(5):  # a bound, not a measure: it returns at once
                await spawner.wait_idle()
            assert spawner.busy == 0
            assert events == []  # the service still runs
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
        assert any("service" in r.getMessage() and r.exc_info for r in caplog.records)
        tg.cancel_scope.cancel()
    assert events == ["loop cleaned up"]
    with pytest.raises(RuntimeError, match="not running"):
        spawner.spawn_service(loop)
