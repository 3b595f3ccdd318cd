"""Interop: a thinkio server and a Node socket.io 4.8 server on @socket.io/redis-adapter 8.3
share one Redis. Each side's operations must reach the other side's sockets.

The Node server (``node/server.js``) is driven through its ``/control`` namespace: each event
runs one adapter operation on Node and acks ``{"ok": result}`` or ``{"error": message}``.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio.adapters import RedisAdapter, RemoteSocket
from thinkio.client import Client
from thinkio.server import Server, Socket

from ..support import missing_part
from .conftest import Inbox, RedisProcess, client, cluster_server, eventually, running

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

NODE_DIR = Path(__file__).resolve().parent / "node"
LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")


class NodeServer:
    """``node/server.js`` as a subprocess on 127.0.0.1."""

    def __init__(self, redis_url: str, key: str, kind: str = "classic") -> None:
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "server.js"), "0", redis_url, key, kind],
            cwd=NODE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        self.output: list[str] = []

        def read() -> None:
            for line in stdout:
                self.output.append(line)
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        try:
            while True:
                match = LISTENING.search(lines.get(timeout=20))
                if match:
                    self.url = f"http://127.0.0.1:{match.group(2)}"
                    return
        except queue.Empty:
            self.stop()
            raise RuntimeError("node server did not start:\n" + "".join(self.output)) from None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


@pytest.fixture
def node(redis: RedisProcess, key: str) -> Iterator[NodeServer]:
    if shutil.which("node") is None:
        missing_part("node is not installed")
    if not (NODE_DIR / "node_modules" / "@socket.io" / "redis-adapter").is_dir():
        missing_part("run `npm ci` in tests/adapters/node (make node-deps does)")
    server = NodeServer(redis.url, key)
    yield server
    server.stop()


def py_app(redis: RedisProcess, key: str) -> Server:
    io = cluster_server(redis.url, key)
    io.of("/chat")

    @io.on("connect")
    def connect(socket: Socket) -> None:
        socket.data["server"] = "thinkio"
        room = socket.handshake.query.get("room")
        if room:
            socket.join(room)

    @io.sockets.on_server_side("ping-servers")
    def ping(arg: Any) -> str:
        return f"thinkio pong {arg}"

    return io


def sid(c: Client) -> str:
    """The client's socket id on ``/`` (it is connected)."""
    assert c.sid is not None
    return c.sid


def adapter(io: Server) -> RedisAdapter:
    result = io.sockets.adapter
    assert isinstance(result, RedisAdapter)
    return result


class Control:
    """Calls into the Node server's ``/control`` namespace."""

    def __init__(self, c: Client) -> None:
        self.client = c

    async def __call__(self, op: str, *args: Any) -> Any:
        (result,) = await self.client.call(op, *args, namespace="/control", timeout=5)
        assert "error" not in result, result["error"]
        return result["ok"]


@asynccontextmanager
async def cluster(
    redis: RedisProcess, key: str, node: NodeServer
) -> AsyncIterator[tuple[Server, str, Control]]:
    py = py_app(redis, key)
    async with running(py) as (url,), client(node.url, namespaces=["/control"]) as ctl:
        yield py, url, Control(ctl)


async def test_server_count_agrees(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with cluster(redis, key, node) as (py, _, control):
        assert await adapter(py).server_count() == 2
        assert await control("serverCount", "/") == 2
        assert await control("serverCount", "/chat") == 2


async def test_node_broadcasts_reach_thinkio_clients(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (_, url, control):
        red, other = Inbox(), Inbox()
        async with client(url + "?room=red", red, "news"), client(url, other, "news") as c:
            await control("emit", "/", [], [], "news", ["all", {"n": 1}])
            await control("emit", "/", ["red"], [], "news", ["red"])
            await control("emit", "/", [], ["red"], "news", ["not red"])
            await control("emit", "/", [sid(c)], [], "news", ["just other"])
            await control("emit", "/", ["red", sid(c)], [], "news", ["both"])
            assert await red.wait_for(3) == [
                ("news", ("all", {"n": 1})),
                ("news", ("red",)),
                ("news", ("both",)),
            ]
            assert await other.wait_for(4) == [
                ("news", ("all", {"n": 1})),
                ("news", ("not red",)),
                ("news", ("just other",)),
                ("news", ("both",)),
            ]


async def test_node_binary_and_dates_reach_thinkio_clients(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (_, url, control):
        box = Inbox()
        async with client(url, box, "bin"):
            await control("emitBinary", "bin")
            assert await box.wait_for(1) == [
                ("bin", (b"\x01\x02\x03", {"nested": b"hi"}, "2023-11-14T22:13:20.123Z"))
            ]


async def test_thinkio_broadcasts_reach_node_clients(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (py, _, _control):
        red, other = Inbox(), Inbox()
        async with (
            client(node.url + "?room=red", red, "news"),
            client(node.url, other, "news") as c,
        ):
            await py.emit("news", "all", b"\x00\xff", [1.5, None, True])
            await py.to("red").emit("news", "red")
            await py.except_("red").emit("news", "not red")
            await py.to(sid(c)).emit("news", "just other")
            await py.sockets.local.emit("news", "never")
            await py.emit("news", "end")
            assert await red.wait_for(3) == [
                ("news", ("all", b"\x00\xff", [1.5, None, True])),
                ("news", ("red",)),
                ("news", ("end",)),
            ]
            assert await other.wait_for(4) == [
                ("news", ("all", b"\x00\xff", [1.5, None, True])),
                ("news", ("not red",)),
                ("news", ("just other",)),
                ("news", ("end",)),
            ]


async def test_fetch_sockets_both_ways(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with (
        cluster(redis, key, node) as (py, url, control),
        client(url + "?room=red", auth={"who": "py"}) as c_py,
        client(node.url + "?room=red", auth={"who": "node"}) as c_node,
        client(node.url),
    ):
        seen_by_node = {s["id"]: s for s in await control("fetch", ["red"])}
        assert set(seen_by_node) == {sid(c_py), sid(c_node)}
        mine = seen_by_node[sid(c_py)]
        assert mine["rooms"] == sorted([sid(c_py), "red"])
        assert mine["data"] == {"server": "thinkio"}
        assert mine["query"]["room"] == "red"
        assert mine["auth"] == {"who": "py"}

        sockets = await py.in_("red").fetch_sockets()
        assert [type(s) for s in sockets] == [Socket, RemoteSocket]
        theirs = sockets[1]
        assert isinstance(theirs, RemoteSocket)
        assert theirs.id == sid(c_node)
        assert theirs.rooms == {sid(c_node), "red"}
        assert theirs.data == {"server": "node"}
        assert theirs.handshake["auth"] == {"who": "node"}
        assert theirs.handshake["query"]["room"] == "red"
        everyone = await py.sockets.fetch_sockets()
        assert len(everyone) == 3  # Node's /control client is in another namespace


async def test_socket_operations_both_ways(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with cluster(redis, key, node) as (py, url, control):
        py_gone, node_gone = anyio.Event(), anyio.Event()
        c_py = client(url)
        c_py.on("disconnect", lambda reason: py_gone.set())
        c_node = client(node.url)
        c_node.on("disconnect", lambda reason: node_gone.set())
        async with c_py, c_node:
            mine = py.sockets.sockets[sid(c_py)]
            # Node acts on thinkio's socket.
            await control("join", sid(c_py), "from-node")
            await eventually(lambda: "from-node" in mine.rooms)
            await control("leave", sid(c_py), "from-node")
            await eventually(lambda: "from-node" not in mine.rooms)
            # thinkio acts on Node's socket.
            await py.in_(sid(c_node)).sockets_join("from-py")

            async def node_rooms() -> list[str]:
                return list(await control("rooms", sid(c_node)))

            async def joined() -> bool:
                return "from-py" in await node_rooms()

            async def left() -> bool:
                return "from-py" not in await node_rooms()

            await eventually(joined)
            await py.in_(sid(c_node)).sockets_leave("from-py")
            await eventually(left)
            # Disconnects both ways.
            await control("disconnectSockets", sid(c_py))
            with anyio.fail_after(5):
                await py_gone.wait()
            await py.in_(sid(c_node)).disconnect_sockets()
            with anyio.fail_after(5):
                await node_gone.wait()


async def test_all_rooms_and_server_side_emit_both_ways(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with (
        cluster(redis, key, node) as (py, url, control),
        client(url + "?room=py-room"),
        client(node.url + "?room=node-room"),
    ):
        assert {"py-room", "node-room"} <= await adapter(py).all_rooms()
        assert {"py-room", "node-room"} <= set(await control("allRooms"))
        assert await py.sockets.server_side_call("ping-servers", 1) == ["node pong 1"]
        assert await control("serverSideEmit", "ping-servers", 2) == ["thinkio pong 2"]


async def test_node_acked_broadcast_reaches_thinkio_clients(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (_, url, control):
        c_py, c_node = client(url), client(node.url)
        c_py.on("question", lambda q: f"thinkio client: {q}")
        c_node.on("question", lambda q: f"node client: {q}")
        async with c_py, c_node:
            assert await control("emitWithAck", [], "question", "q") == [
                "node client: q",
                "thinkio client: q",
            ]


async def test_node_remote_socket_emit_reaches_a_thinkio_client(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (_, url, control):
        box = Inbox()
        async with client(url, box, "hello") as c:
            assert await control("remoteEmit", sid(c), "hello", "from a RemoteSocket") is True
            assert await box.wait_for(1) == [("hello", ("from a RemoteSocket",))]


async def test_thinkio_acked_broadcast_reaches_node_clients(
    redis: RedisProcess, key: str, node: NodeServer
) -> None:
    async with cluster(redis, key, node) as (py, url, _control):
        c_py, c_node = client(url), client(node.url)
        c_py.on("question", lambda q: f"thinkio client: {q}")
        c_node.on("question", lambda q: f"node client: {q}")
        async with c_py, c_node:
            acks = await py.sockets.emit_with_ack("question", "q", timeout=3)
            assert sorted(acks) == ["node client: q", "thinkio client: q"]
