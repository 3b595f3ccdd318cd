"""``Server.shutdown``: how long it waits and what it says when it gives up, on a fake clock."""

from __future__ import annotations

import logging

import anyio
import anyio.lowlevel
import pytest

from thinkio.server import Server, Socket
from thinkio.testing import FakeClock, MemoryTransport

pytestmark = pytest.mark.anyio

OPEN = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def polling_session(io: Server) -> str:
    """Open a polling session in memory and join ``/``; returns its sid. The client then
    goes away without polling again (a closed laptop, a load tool)."""
    opened = MemoryTransport(io.http.protocol())
    opened.feed(OPEN)
    sid = opened.take().split(b'"sid":"')[1].split(b'"')[0].decode()
    joined = MemoryTransport(io.http.protocol())
    joined.feed(
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n40".encode()
    )
    assert joined.take().endswith(b"ok")
    polled = MemoryTransport(io.http.protocol())
    polled.feed(
        f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n\r\n".encode()
    )
    assert b"40{" in polled.take()  # the CONNECT answer: nothing is left queued
    return sid


async def settle() -> None:
    for _ in range(10):
        await anyio.lowlevel.checkpoint()


async def test_a_shutdown_waits_for_a_polling_client_then_says_what_it_gave_up_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    io = Server(clock=clock, ping_interval=1000, ping_timeout=1000)  # no heartbeat ends it
    left: list[str] = []

    @io.on("disconnect")
    def disconnect(socket: Socket, reason: str) -> None:
        left.append(reason)

    done = anyio.Event()

    async def shut_down() -> None:
        await io.shutdown(timeout=10)  # before the polling close timeout (30 s) ends it
        done.set()

    with caplog.at_level(logging.WARNING, logger="thinkio.socketio"):
        async with anyio.create_task_group() as tg:
            await tg.start(io.run)
            polling_session(io)
            await io.emit("news", "never fetched")  # queued: nobody polls for it
            tg.start_soon(shut_down)
            await settle()
            assert left == ["server shutting down"]  # the app heard of it at once
            clock.advance(9.9)
            await settle()
            assert not done.is_set()  # still waiting for the client to come back for it
            clock.advance(0.1)
            with anyio.fail_after(5):  # a bound, not a measure: the clock ended the wait
                await done.wait()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "shutdown: gave up after 10 s on 1 session not closed (a polling client that did not "
        "come back for what was queued for it, or a WebSocket client not reading)"
    ]


async def test_a_shutdown_with_nothing_queued_ends_at_once_and_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = Server(clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="thinkio.socketio"):
        async with anyio.create_task_group() as tg:
            await tg.start(io.run)
            polling_session(io)
            with anyio.fail_after(5):  # the fake clock never moves: nothing to wait out
                await io.shutdown(timeout=30)
    assert not io.engine.sockets
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_handler_still_running_is_named_and_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    io = Server(clock=clock)
    cancelled: list[bool] = []

    @io.on("disconnect")
    async def disconnect(socket: Socket, reason: str) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    done = anyio.Event()

    async def shut_down() -> None:
        await io.shutdown(timeout=5)
        done.set()

    with caplog.at_level(logging.WARNING, logger="thinkio.socketio"):
        async with anyio.create_task_group() as tg:
            await tg.start(io.run)
            polling_session(io)
            tg.start_soon(shut_down)
            await settle()
            assert io.tasks.busy == 1
            clock.advance(5)
            with anyio.fail_after(5):
                await done.wait()
    assert cancelled == [True]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "shutdown: gave up after 5 s on 1 handler or other task still running (cancelled)"
    ]
