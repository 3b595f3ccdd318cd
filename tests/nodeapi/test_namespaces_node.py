"""Dynamic namespaces (Node's ``io.of(regex)`` / ``io.of(fn)``), with the real
socket.io-client 4.x joining names no namespace had; ``cleanup_empty_child_namespaces``."""

from __future__ import annotations

import re
from typing import Any

import anyio
import pytest

from thinkio.errors import ConnectRejected
from thinkio.server import ParentNamespace, Socket

from ..server.conftest import fast_server, running
from .conftest import TRANSPORTS, node_client

pytestmark = pytest.mark.anyio


@pytest.mark.interop
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_dynamic_namespaces_with_socket_io_client(node: str, transport: str) -> None:
    """Dynamic namespaces: the client joins names a pattern or an async function accepts
    (with the parent's handlers and middlewares), an unknown one is refused, and with
    `cleanup_empty_child_namespaces` an emptied child goes. Polling and WebSocket."""
    io = fast_server(cleanup_empty_child_namespaces=True)
    rooms = io.of(re.compile(r"^/room-\d+$"))
    assert isinstance(rooms, ParentNamespace)
    seen: list[str] = []

    async def allowed(name: str, auth: dict[str, Any]) -> bool:
        await anyio.lowlevel.checkpoint()
        return name.startswith("/team-")

    teams = io.of(allowed)

    @rooms.use
    def refuse_room_13(socket: Socket) -> None:
        if socket.namespace.name == "/room-13":
            raise ConnectRejected("unlucky")

    @rooms.on("connect")
    def joined(socket: Socket) -> None:
        seen.append(socket.namespace.name)

    @rooms.on("where")
    def where(socket: Socket) -> str:
        return f"room {socket.namespace.name}"

    # Added after the parent was made, before any child exists: children get it too.
    teams.on("where", lambda socket: f"team {socket.namespace.name}")

    async with running(io) as url:
        (first,) = await node_client(node, url, transport, "namespace", "/room-7")
        (team,) = await node_client(node, url, transport, "namespace", "/team-a")
        (unknown,) = await node_client(node, url, transport, "namespace", "/nope")
        (refused,) = await node_client(node, url, transport, "namespace", "/room-13")
        # The client has left: with cleanup, the child is forgotten.
        with anyio.fail_after(5):
            while "/room-7" in io.namespaces:
                await anyio.sleep(0.01)
        (again,) = await node_client(node, url, transport, "namespace", "/room-7")
    assert first["connected"] and first["ack"] == "room /room-7"
    assert team["connected"] and team["ack"] == "team /team-a"
    assert unknown == {"connectError": "Invalid namespace"}
    assert refused == {"connectError": "unlucky"}
    assert again["ack"] == "room /room-7" and again["id"] != first["id"]
    assert seen == ["/room-7", "/room-7"]


async def test_the_parent_emits_to_every_child_and_children_stay_without_cleanup() -> None:
    """(thinkio's client) The parent's emit reaches every child; without cleanup, emptied
    children stay."""
    from thinkio.client import Client

    io = fast_server()
    parent = io.of(re.compile(r"^/chan-"))
    async with running(io) as url:
        got: list[tuple[str, Any]] = []
        clients = [
            Client(url, namespaces=[name], transports=("websocket",), reconnection=False)
            for name in ("/chan-a", "/chan-b")
        ]
        for c, name in zip(clients, ("/chan-a", "/chan-b"), strict=True):
            c.on("news", lambda v, name=name: got.append((name, v)), namespace=name)
        async with clients[0], clients[1]:
            assert set(parent.children) == {"/chan-a", "/chan-b"}
            await parent.emit("news", 1)
            with anyio.fail_after(5):
                while len(got) < 2:
                    await anyio.sleep(0.01)
            assert sorted(got) == [("/chan-a", 1), ("/chan-b", 1)]
            assert len(await parent.fetch_sockets()) == 2
            # Every broadcast of the parent reaches the children: rooms, acks, joins.
            await parent.sockets_join("joined")
            child_b = io.namespaces["/chan-b"]
            only_b = next(iter(child_b.sockets.values()))
            only_b.join("b-room")
            await parent.to("b-room").emit("news", 2)
            with anyio.fail_after(5):
                while len(got) < 3:
                    await anyio.sleep(0.01)
            assert got[2] == ("/chan-b", 2)
            for c, name in zip(clients, ("/chan-a", "/chan-b"), strict=True):
                c.on("q", lambda name=name: f"from {name}", namespace=name)
            answers = await parent.in_("joined").timeout(2).emit_with_ack("q")
            assert sorted(answers) == ["from /chan-a", "from /chan-b"]
            assert await parent.to("b-room").timeout(2).emit_with_ack("q") == ["from /chan-b"]
        with anyio.fail_after(5):
            while any(ns.sockets for ns in parent.children.values()):
                await anyio.sleep(0.01)
        assert set(parent.children) == {"/chan-a", "/chan-b"}  # no cleanup asked for
