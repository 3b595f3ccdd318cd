"""How a handler's answer becomes the client's ack (thinkio/server/socket.py
``Socket.receive_event``, thinkio/server/driver.py ``SessionDriver.ack``), in memory: a value
JSON cannot hold is no ack and harms nothing else, an ack for a namespace the client left is
dropped without a word on the wire, and a handler that takes the ack owns it."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from thinkio.server import Ack, Server, Socket
from thinkio.testing import FakeClock, MemoryTransport

from ..support import run_in_memory
from .conftest import frame, websocket_session

pytestmark = pytest.mark.anyio


def ack_server() -> tuple[Server, list[Socket]]:
    io = Server(clock=FakeClock())
    joined: list[Socket] = []
    io.on("connect", joined.append)

    @io.on("value")
    def value(socket: Socket, what: str) -> Any:
        return object() if what == "unencodable" else what

    @io.on("owned")
    def owned(socket: Socket, what: str, ack: Ack) -> str:
        if what != "keep":
            ack(what.upper())
        return "a return value is no ack when the handler took the ack"

    @io.on("owned_later")
    async def owned_later(socket: Socket, what: str, ack: Ack) -> str:
        await anyio.lowlevel.checkpoint()
        if what != "keep":
            ack(what.upper())
        return "no ack either"

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
    async with run_in_memory(io):
        transport = joined_session(io)
        with caplog.at_level(logging.ERROR, logger="thinkio"):
            transport.feed(frame(b'421["value","unencodable"]'))
        assert transport.take() == b""  # no ack: the client's own timeout answers
        assert any("failed" in r.getMessage() and r.exc_info for r in caplog.records)
        transport.feed(frame(b'422["value","fine"]'))
        assert unframed(transport.take()) == b'432["fine"]'


async def test_an_ack_for_a_namespace_the_client_left_is_dropped() -> None:
    io, joined = ack_server()
    async with run_in_memory(io):
        transport = joined_session(io)
        (socket,) = joined
        transport.feed(frame(b"41"))  # the client leaves "/"
        assert not socket.connected
        socket.driver.ack("/", 7, ["late"])  # e.g. an answer computed while it left
        assert transport.take() == b""


async def test_a_handler_that_takes_the_ack_owns_it() -> None:
    io, _ = ack_server()
    async with run_in_memory(io):
        transport = joined_session(io)
        transport.feed(frame(b'421["owned","now"]'))
        assert unframed(transport.take()) == b'431["NOW"]'  # its call, not its return value
        transport.feed(frame(b'422["owned","keep"]'))
        assert transport.take() == b""  # kept and never called: no ack at all
        transport.feed(frame(b'425["owned_later","keep"]'))  # no ack, once it is done
        transport.feed(frame(b'423["owned_later","then"]'))
        transport.feed(frame(b'424["owned","next"]'))  # waits for the handler before it
        sent = b""
        with anyio.fail_after(5):
            while sent.count(b"\x81") < 2:
                await anyio.lowlevel.checkpoint()
                sent += transport.take()
        assert sent == b"\x81\x0b" + b'433["THEN"]' + b"\x81\x0b" + b'434["NEXT"]'
