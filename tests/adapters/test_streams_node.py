"""Interop: a thinkio server and a Node socket.io 4.8 server on
@socket.io/redis-streams-adapter 0.3.1 read and write the same Redis stream, both ways."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from thinkio.adapters import RemoteSocket, redis_streams_adapter
from thinkio.server import Server, Socket

from ..support import missing_part
from .conftest import FAST, Inbox, RedisProcess, client, running
from .test_redis_node import NODE_DIR, Control, NodeServer, sid

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.fixture
def node(redis: RedisProcess, key: str) -> Iterator[NodeServer]:
    if shutil.which("node") is None:
        missing_part("node is not installed")
    if not (NODE_DIR / "node_modules" / "@socket.io" / "redis-streams-adapter").is_dir():
        missing_part("run `npm ci` in tests/adapters/node (make node-deps does)")
    server = NodeServer(redis.url, key, "streams")
    yield server
    server.stop()


def py_app(redis: RedisProcess, key: str) -> Server:
    factory = redis_streams_adapter(
        redis.url, stream_name=key, channel_prefix=key, requests_timeout=2.0, **FAST
    )
    io = Server(adapter=factory, ping_interval=0.5, ping_timeout=0.5)
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


@asynccontextmanager
async def cluster(
    redis: RedisProcess, key: str, node: NodeServer
) -> AsyncIterator[tuple[Server, str, Control]]:
    py = py_app(redis, key)
    async with running(py) as (url,), client(node.url, namespaces=["/control"]) as ctl:
        yield py, url, Control(ctl)


async def test_broadcasts_both_ways(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with cluster(redis, key, node) as (py, url, control):
        assert await py.sockets.adapter.server_count() == 2
        assert await control("serverCount", "/") == 2
        on_py, on_node = Inbox(), Inbox()
        async with (
            client(url + "?room=red", on_py, "news"),
            client(node.url + "?room=red", on_node, "news"),
        ):
            await py.to("red").emit("news", "from thinkio", b"\x00\xff", {"n": [1.5, None]})
            await control("emit", "/", ["red"], [], "news", ["from node", {"k": True}])
            await control("emitBinary", "news")
            expected_py = [
                ("news", ("from thinkio", b"\x00\xff", {"n": [1.5, None]})),
                ("news", ("from node", {"k": True})),
            ]
            got = await on_py.wait_for(3)
            assert got[:2] == expected_py
            assert got[2] == (
                "news",
                (b"\x01\x02\x03", {"nested": b"hi"}, "2023-11-14T22:13:20.123Z"),
            )
            assert (await on_node.wait_for(2))[:2] == expected_py


async def test_requests_both_ways(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with (
        cluster(redis, key, node) as (py, url, control),
        client(url + "?room=red", auth={"who": "py"}) as c_py,
        client(node.url + "?room=red", auth={"who": "node"}) as c_node,
    ):
        seen_by_node = {s["id"]: s for s in await control("fetch", ["red"])}
        assert set(seen_by_node) == {sid(c_py), sid(c_node)}
        assert seen_by_node[sid(c_py)]["data"] == {"server": "thinkio"}
        sockets = await py.in_("red").fetch_sockets()
        theirs = [s for s in sockets if isinstance(s, RemoteSocket)]
        assert [s.id for s in theirs] == [sid(c_node)]
        assert theirs[0].data == {"server": "node"}
        assert await py.sockets.server_side_call("ping-servers", 1) == ["node pong 1"]
        assert await control("serverSideEmit", "ping-servers", 2) == ["thinkio pong 2"]
        await py.in_(sid(c_node)).sockets_join("from-py")

        async def joined() -> bool:
            return "from-py" in await control("rooms", sid(c_node))

        from .conftest import eventually

        await eventually(joined)


async def test_acked_broadcasts_both_ways(redis: RedisProcess, key: str, node: NodeServer) -> None:
    async with cluster(redis, key, node) as (py, url, control):
        c_py, c_node = client(url), client(node.url)
        c_py.on("question", lambda q: f"thinkio client: {q}")
        c_node.on("question", lambda q: f"node client: {q}")
        async with c_py, c_node:
            both = ["node client: q", "thinkio client: q"]
            assert await control("emitWithAck", [], "question", "q") == both
            assert sorted(await py.sockets.emit_with_ack("question", "q", timeout=3)) == both
