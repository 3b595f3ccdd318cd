"""Node's ack rules everywhere thinkio has acks: the controller layer (``ws_callback``),
``thinkio.Client`` (a handler that takes ``ack``), and a broadcast with acks across servers
through Redis (acks from remote sockets). Asyncio and trio."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from thinkio import NO_ACK, App, Controller
from thinkio.client import AckReply, Client
from thinkio.errors import AckTimeout
from thinkio.server import Socket

from ..dispatch.harness import serving
from ..server.conftest import fast_server, running

pytestmark = pytest.mark.anyio

HELD: list[Any] = []


class Acks(Controller):
    def took_action(self) -> str:
        # Took the ack and kept it: no automatic answer, whatever the action returns.
        HELD.append(self.ws_callback)
        return "not an ack"

    def none_action(self) -> Any:
        return NO_ACK

    def twice_action(self) -> None:
        assert self.ws_callback is not None
        self.ws_callback("first")
        self.ws_callback("second")

    def returned_action(self) -> int:
        return 42


def app() -> App:
    events = ("took", "none", "twice", "returned")
    return App(messages={e: f"/acks/{e}" for e in events}, controllers={"acks": Acks})


async def test_controller_actions_follow_nodes_ack_rules(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "thinkio.socketio")
    HELD.clear()
    async with (
        serving(app()) as url,
        Client(url, transports=("websocket",), reconnection=False) as c,
    ):
        with pytest.raises(AckTimeout):
            await c.call("took", timeout=0.2)
        with pytest.raises(AckTimeout):
            await c.call("took", timeout=0.2)
        with pytest.raises(AckTimeout):
            await c.call("none", timeout=0.2)
        assert await c.call("twice") == ["first"]
        assert await c.call("returned") == [42]
        HELD[0]("late but connected")  # the owner may answer later: the client ignores it
    HELD[1]("after the socket is gone")
    said = [r.getMessage() for r in caplog.records]
    assert any("called again: ignored" in m for m in said)
    assert any("after it disconnected" in m for m in said)


async def test_client_handlers_that_take_the_ack_own_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "thinkio.client")
    io = fast_server()
    asked: list[Socket] = []
    io.on("connect", asked.append)
    held: list[AckReply] = []
    async with running(io) as url:
        c = Client(url, transports=("websocket",), reconnection=False)

        @c.on("now")
        def now(value: int, ack: AckReply) -> str:
            ack(value + 1)
            ack("a second call is ignored")
            return "a return value is no ack when the handler took the ack"

        @c.on("later")
        async def later(ack: AckReply) -> None:
            held.append(ack)

        @c.on("never")
        def never(ack: AckReply) -> None:
            pass

        async with c:
            with anyio.fail_after(5):
                while not asked:
                    await anyio.sleep(0.01)
            socket = asked[0]
            assert await socket.timeout(2).emit_with_ack("now", 1) == [2]
            with pytest.raises(AckTimeout):
                await socket.timeout(0.2).emit_with_ack("never")
            async with anyio.create_task_group() as tg:
                got: list[Any] = []

                async def ask() -> None:
                    got.append(await socket.timeout(2).emit_with_ack("later"))

                tg.start_soon(ask)
                with anyio.fail_after(5):
                    while not held:
                        await anyio.sleep(0.01)
                held[0]("from outside the handler")
            assert got == [["from outside the handler"]]
        held[0]("after the client disconnected")
    said = [r.getMessage() for r in caplog.records if r.name == "thinkio.client"]
    assert any("called again: ignored" in m for m in said), said
