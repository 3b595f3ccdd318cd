"""The rest of Node's server API on thinkio, with thinkio's client: per-packet middleware
(``socket.use``), ``on_any_outgoing``, ``disconnecting`` with the rooms still set, and the
``volatile`` / ``local`` / ``compress`` / ``timeout`` flags on every broadcast operator.
Asyncio and trio."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.client import Client
from thinkio.errors import AckTimeout
from thinkio.server import BroadcastOperator, Server, Socket

from ..server.conftest import fast_server, running
from ..support import Inbox

pytestmark = pytest.mark.anyio


def client(url: str, inbox: Inbox | None = None, *events: str) -> Client:
    c = Client(url, transports=("websocket",), reconnection=False)
    for event in events:
        assert inbox is not None
        c.on(event, inbox.handler(event))
    return c


async def connected(io: Server, count: int) -> list[Socket]:
    with anyio.fail_after(5):
        while len(io.sockets.sockets) < count:
            await anyio.sleep(0.01)
    return list(io.sockets.sockets.values())


async def test_packet_middlewares_pass_change_or_refuse() -> None:
    io = fast_server()
    errors: list[str] = []
    order: list[str] = []

    @io.on("connect")
    def connect(socket: Socket) -> None:
        @socket.use
        def first(packet: list[Any], next_: Any) -> None:
            order.append(f"first {packet[0]}")
            if packet[0] == "forbidden":
                next_(PermissionError("not allowed"))
            elif packet[0] == "dropped":
                pass  # never calls next: the packet is dropped
            else:
                packet.append("stamped")  # it may change the packet
                next_()

        @socket.use
        async def second(packet: list[Any], next_: Any) -> None:
            await anyio.lowlevel.checkpoint()
            order.append(f"second {packet[0]}")
            if packet[0] == "raises":
                raise ValueError("bad packet")
            next_()

    @io.on("error")
    def on_error(socket: Socket, error: Exception) -> None:
        errors.append(f"{type(error).__name__}: {error}")

    @io.on("echo")
    def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    async with running(io) as url, client(url) as c:
        assert await c.call("echo", 1) == [1, "stamped"]
        for event in ("forbidden", "dropped", "raises"):
            with pytest.raises(AckTimeout):
                await c.call(event, timeout=0.2)
        assert await c.call("echo", 2) == [2, "stamped"]
    assert errors == ["PermissionError: not allowed", "ValueError: bad packet"]
    assert order == [
        "first echo",
        "second echo",
        "first forbidden",
        "first dropped",
        "first raises",
        "second raises",
        "first echo",
        "second echo",
    ]


async def test_on_any_outgoing_sees_emits_and_broadcasts() -> None:
    io = fast_server()
    outgoing: list[tuple[Any, ...]] = []

    @io.on("connect")
    def connect(socket: Socket) -> None:
        if socket.auth.get("watch"):
            socket.on_any_outgoing(lambda *data: outgoing.append(data))

    @io.on("stop")
    def stop(socket: Socket) -> None:
        socket.off_any_outgoing()

    inbox = Inbox()
    async with running(io) as url:
        watched = Client(url, transports=("websocket",), reconnection=False, auth={"watch": 1})
        watched.on("hello", inbox.handler("hello"))
        watched.on("news", inbox.handler("news"))
        async with watched, client(url):
            sockets = await connected(io, 2)
            me = next(s for s in sockets if s.auth.get("watch"))
            await me.emit("hello", 1)
            await io.emit("news", "all")
            await io.except_(me.id).emit("news", "not for the watched one")
            assert io.sockets.outgoing_watchers == 1
            await watched.call("stop")
            await io.emit("news", "after off")
            await inbox.wait_for(3)
            assert io.sockets.outgoing_watchers == 0
    assert outgoing == [("hello", 1), ("news", "all")]


async def test_disconnecting_sees_the_rooms_disconnect_does_not() -> None:
    io = fast_server()
    seen: list[tuple[str, frozenset[str], str]] = []

    @io.on("connect")
    def connect(socket: Socket) -> None:
        socket.join("red")

    @io.on("disconnecting")
    def disconnecting(socket: Socket, reason: str) -> None:
        seen.append(("disconnecting", socket.rooms - {socket.id}, reason))

    @io.on("disconnect")
    def disconnect(socket: Socket, reason: str) -> None:
        seen.append(("disconnect", socket.rooms, reason))

    async with running(io) as url:
        async with client(url):
            await connected(io, 1)
        with anyio.fail_after(5):
            while len(seen) < 2:
                await anyio.sleep(0.01)
    assert seen == [
        ("disconnecting", frozenset({"red"}), "client namespace disconnect"),
        ("disconnect", frozenset(), "client namespace disconnect"),
    ]


def flags(op: BroadcastOperator) -> tuple[bool, bool, dict[str, Any]]:
    opts = op.options
    return opts.volatile, opts.local, opts.flags


async def test_every_broadcast_operator_has_the_flags() -> None:
    io = fast_server()
    ns = io.of("/other")
    operators = [
        io.volatile,
        io.local,
        io.compress(False),
        io.timeout(1),
        io.to("r"),
        io.except_("r"),
        ns.volatile,
        ns.local,
        ns.compress(False),
        ns.timeout(1),
        ns.to("r"),
    ]
    for op in operators:
        full = op.to("x").except_("y").volatile.local.compress(False).timeout(0.25)
        assert flags(full) == (True, True, {"compress": False, "timeout": 250})
    with pytest.raises(ValueError):
        io.timeout(-1)

    inbox = Inbox()
    async with running(io) as url, client(url, inbox, "v", "l", "c") as c:
        socket = (await connected(io, 1))[0]
        socket.join("r")
        await io.to("r").volatile.emit("v", 1)
        await io.local.to("r").emit("l", 2)
        await io.compress(False).to("r").emit("c", 3)
        assert await inbox.wait_for(3) == [("v", (1,)), ("l", (2,)), ("c", (3,))]
        c.on("q", lambda: "a")
        assert await io.to("r").local.timeout(2).emit_with_ack("q") == ["a"]
        assert await io.emit_with_ack("q", timeout=2) == ["a"]
