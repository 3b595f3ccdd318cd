"""``on_unhandled`` (python-socketio's catch-all ``"*"``) and ``on_any``, in memory on asyncio
and trio: which events each one hears, in what order, and that neither answers an ack."""

from __future__ import annotations

import re
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from thinkio.server import Server, Socket
from thinkio.testing import FakeClock, MemoryTransport

from ..support import run_in_memory
from .conftest import frame, websocket_session

pytestmark = pytest.mark.anyio


async def joined(io: Server, namespace: bytes = b"") -> MemoryTransport:
    transport = websocket_session(io)
    transport.feed(frame(b"40" + namespace + (b"," if namespace else b"")))
    sent = b""
    with anyio.fail_after(5):
        while b'{"sid":' not in sent:  # a dynamic namespace's check runs in a task
            await anyio.lowlevel.checkpoint()
            sent += transport.take()
    return transport


async def test_unhandled_events_only_reach_the_unhandled_handler_and_get_no_ack() -> None:
    io = Server(clock=FakeClock())
    heard: list[tuple[Any, ...]] = []
    io.on("known", lambda socket, *args: heard.append(("known", *args)))
    io.on_unhandled(lambda socket, event, *args: heard.append(("unhandled", event, *args)))
    io.on("connect", lambda socket: socket.on("mine", lambda *args: heard.append(("mine",))))
    async with run_in_memory(io):
        transport = await joined(io)
        transport.feed(frame(b'42["known",1]'))
        transport.feed(frame(b'42["other",2,"x"]'))
        transport.feed(frame(b'42["mine"]'))  # a socket's own handler counts as a handler
        transport.feed(frame(b'427["nobody",3]'))  # asks for an ack nobody gives
        assert heard == [
            ("known", 1),
            ("unhandled", "other", 2, "x"),
            ("mine",),
            ("unhandled", "nobody", 3),
        ]
        assert transport.take() == b""  # no ack for the unhandled event


async def test_on_any_hears_every_event_first_and_on_unhandled_still_applies() -> None:
    io = Server(clock=FakeClock())
    heard: list[tuple[Any, ...]] = []
    io.on_any(lambda socket, event, *args: heard.append(("any", event, *args)))

    @io.on("known")
    def known(socket: Socket, value: int) -> int:
        heard.append(("known", value))
        return value + 1

    io.on_unhandled(lambda socket, event, *args: heard.append(("unhandled", event)))
    async with run_in_memory(io):
        transport = await joined(io)
        transport.feed(frame(b'421["known",1]'))
        transport.feed(frame(b'42["other"]'))
        with anyio.fail_after(5):
            while len(heard) < 4:
                await anyio.lowlevel.checkpoint()
        assert heard == [
            ("any", "known", 1),
            ("known", 1),
            ("any", "other"),
            ("unhandled", "other"),
        ]
        assert transport.take() == b"\x81\x06" + b"431[2]"  # the handler's ack, not on_any's


async def test_the_children_of_a_dynamic_namespace_share_its_unhandled_handlers() -> None:
    io = Server(clock=FakeClock())
    heard: list[tuple[str, str]] = []
    parent = io.of(re.compile(r"^/room-\d+$"))
    parent.on_unhandled(lambda socket, event, *args: heard.append((socket.namespace.name, event)))
    async with run_in_memory(io):
        transport = await joined(io, b"/room-1")
        transport.feed(frame(b'42/room-1,["lost"]'))
        assert heard == [("/room-1", "lost")]
