"""How a handler's return value becomes the client's ack (thinkio/server/driver.py
``SessionDriver.ack``), in memory: a value JSON cannot hold is no ack and harms nothing else,
and an ack for a namespace the client left is dropped without a word on the wire."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from thinkio.server import Server, Socket
from thinkio.testing import FakeClock, MemoryTransport

from .conftest import frame, websocket_session

pytestmark = pytest.mark.anyio


def ack_server() -> tuple[Server, list[Socket]]:
    io = Server(clock=FakeClock())
    joined: list[Socket] = []
    io.on("connect", joined.append)

    @io.on("value")
    def value(socket: Socket, what: str) -> Any:
        return object() if what == "unencodable" else what

    return io, joined


def unframed(data: bytes) -> bytes:
    """The payload of one short unmasked server frame."""
    assert data[0] == 0x81 and data[1] < 126, data
    return data[2 : 2 + data[1]]


def joined_session(io: Server) -> MemoryTransport:
    transport = websocket_session(io)
    transport.feed(frame(b"40"))
    assert b'40{"sid":' in transport.take()
    return transport


async def test_a_value_json_cannot_hold_is_no_ack_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io, _ = ack_server()
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        transport = joined_session(io)
        with caplog.at_level(logging.ERROR, logger="thinkio"):
            transport.feed(frame(b'421["value","unencodable"]'))
        assert transport.take() == b""  # no ack: the client's own timeout answers
        assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)
        transport.feed(frame(b'422["value","fine"]'))
        assert unframed(transport.take()) == b'432["fine"]'
        await io.shutdown(timeout=1)
        tg.cancel_scope.cancel()


async def test_an_ack_for_a_namespace_the_client_left_is_dropped() -> None:
    io, joined = ack_server()
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        transport = joined_session(io)
        (socket,) = joined
        transport.feed(frame(b"41"))  # the client leaves "/"
        assert not socket.connected
        socket.driver.ack("/", 7, ["late"])  # e.g. an answer computed while it left
        assert transport.take() == b""
        await io.shutdown(timeout=1)
        tg.cancel_scope.cancel()
