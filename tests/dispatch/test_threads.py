"""Where actions run: plain ``def`` on the event loop's thread, ``@blocking`` in a worker
thread while every other client is still served, asyncio and trio."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.from_thread
import pytest

from thinkio import App, ConfigError, Controller
from thinkio.dispatch import blocking

from .harness import client, serving

pytestmark = pytest.mark.anyio

MESSAGES = {
    "where": "/work/where",
    "whereAsync": "/work/whereAsync",
    "wait": "/work/wait",
    "fail": "/work/fail",
}


def make_app(gate: threading.Event) -> App:
    class Work(Controller):
        def where_action(self) -> int:
            return threading.get_ident()

        async def where_async_action(self) -> int:
            return threading.get_ident()

        @blocking
        def wait_action(self) -> list[Any]:
            # From the worker thread, back to the loop: tell the client it started.
            anyio.from_thread.run(self.emit, "started", self.ws_data)
            released = gate.wait(timeout=10)  # a bounded wait on a condition, not a sleep
            return [released, threading.get_ident()]

        @blocking
        def fail_action(self) -> None:
            raise RuntimeError("in a thread")

    return App(messages=MESSAGES, controllers={"work": Work})


async def test_plain_and_async_actions_run_on_the_event_loop_thread() -> None:
    loop_thread = threading.get_ident()  # this test and the server share the loop
    app = make_app(threading.Event())
    routes = {route.event: route for route in app.routes}
    assert routes["where"].inline and not routes["where"].blocking
    assert not routes["whereAsync"].inline
    async with serving(app) as url:
        c, _ = client(url)
        async with c:
            assert await c.call("where") == [loop_thread]
            assert await c.call("whereAsync") == [loop_thread]


async def test_a_blocking_action_runs_in_a_thread_while_others_are_served() -> None:
    loop_thread = threading.get_ident()
    gate = threading.Event()
    app = make_app(gate)
    assert next(r for r in app.routes if r.event == "wait").blocking
    async with serving(app) as url:
        a, inbox_a = client(url, "started")
        b, _ = client(url)
        async with a, b, anyio.create_task_group() as tg:
            answers: list[Any] = []

            async def call_wait() -> None:
                (answer,) = await a.call("wait", "job-1", timeout=15)
                answers.append(answer)

            tg.start_soon(call_wait)
            assert await inbox_a.wait_for("started") == [("job-1",)]
            # The action is blocked in its thread: another client is served meanwhile.
            assert await b.call("where") == [loop_thread]
            assert answers == []
            gate.set()
        ((released, thread),) = answers  # one call, whose ack is one list
        assert released is True
        assert thread != loop_thread


async def test_a_failing_blocking_action_is_logged_and_gets_no_ack(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving(make_app(threading.Event())) as url:
        c, _ = client(url)
        async with c:
            with pytest.raises(Exception, match="no ack"):
                await c.call("fail", timeout=0.5)
            assert await c.call("whereAsync") == [threading.get_ident()]
    assert any("action /work/fail failed" in r.getMessage() for r in caplog.records)


class Wrong(Controller):
    @blocking
    async def go_action(self) -> None:
        pass


def test_blocking_on_an_async_action_stops_the_start() -> None:
    with pytest.raises(ConfigError) as info:
        App(messages={"go": "/wrong/go"}, controllers={"wrong": Wrong})
    assert str(info.value) == (
        "config: messages.go: '/wrong/go': Wrong.go_action() is async and marked @blocking; "
        "@blocking is for plain def actions (an async action awaits "
        "anyio.to_thread.run_sync(...) for its blocking part)"
    )
