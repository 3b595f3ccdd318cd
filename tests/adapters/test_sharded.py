"""The sharded adapter on a three-node Redis Cluster: thinkio and Node's
``createShardedAdapter`` (redis-adapter 8.3, ``redis`` 4 cluster client) on one cluster, both
ways, and the ``dynamic`` room channels."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from thinkio.adapters import RemoteSocket, ShardedRedisAdapter, sharded_redis_adapter
from thinkio.server import Server, Socket

from ..support import missing_part
from .conftest import FAST, Inbox, RedisClusterProcesses, client, eventually, running
from .test_redis_node import NODE_DIR, Control, NodeServer, sid

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.fixture
def node(redis_cluster: RedisClusterProcesses, key: str) -> Iterator[NodeServer]:
    if shutil.which("node") is None:
        missing_part("node is not installed")
    if not (NODE_DIR / "node_modules" / "@socket.io" / "redis-adapter").is_dir():
        missing_part("run `npm ci` in tests/adapters/node (make node-deps does)")
    server = NodeServer(redis_cluster.url, key, "sharded")
    yield server
    server.stop()


def py_app(redis_cluster: RedisClusterProcesses, key: str) -> Server:
    factory = sharded_redis_adapter(
        redis_cluster.url, channel_prefix=key, requests_timeout=2.0, **FAST
    )
    io = Server(adapter=factory, ping_interval=0.5, ping_timeout=0.5)

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


def adapter(io: Server) -> ShardedRedisAdapter:
    result = io.sockets.adapter
    assert isinstance(result, ShardedRedisAdapter)
    return result


@asynccontextmanager
async def cluster(
    redis_cluster: RedisClusterProcesses, key: str, node: NodeServer
) -> AsyncIterator[tuple[Server, str, Control]]:
    py = py_app(redis_cluster, key)
    async with running(py) as (url,), client(node.url, namespaces=["/control"]) as ctl:
        yield py, url, Control(ctl)


async def room_subscribers(io: Server, room: str) -> int:
    return await adapter(io).link.subscribers(f"{adapter(io).channel}{room}#")


async def test_broadcasts_both_ways_with_dynamic_room_channels(
    redis_cluster: RedisClusterProcesses, key: str, node: NodeServer
) -> None:
    async with cluster(redis_cluster, key, node) as (py, url, control):
        assert await adapter(py).server_count() == 2
        assert await control("serverCount", "/") == 2
        on_py, on_node, elsewhere = Inbox(), Inbox(), Inbox()
        async with (
            client(url + "?room=red", on_py, "news"),
            client(node.url + "?room=red", on_node, "news"),
            client(node.url, elsewhere, "news"),
        ):
            # Each server subscribes "red"'s own channel once a socket of it is in the room.

            async def both_subscribed() -> bool:
                return await room_subscribers(py, "red") == 2

            await eventually(both_subscribed)
            await py.to("red").emit("news", "red from thinkio", b"\x00\xff")
            await control("emit", "/", ["red"], [], "news", ["red from node"])
            await py.emit("news", "all from thinkio")
            await control("emitBinary", "news")
            # A room's channel and the namespace's may live on different shards: nothing
            # orders a message on one against a message on the other (as in Node).
            binary = ("news", (b"\x01\x02\x03", {"nested": b"hi"}, "2023-11-14T22:13:20.123Z"))
            texts = [
                ("news", ("red from thinkio", b"\x00\xff")),
                ("news", ("red from node",)),
                ("news", ("all from thinkio",)),
                binary,
            ]
            assert sorted(await on_py.wait_for(4), key=repr) == sorted(texts, key=repr)
            assert sorted(await on_node.wait_for(4), key=repr) == sorted(texts, key=repr)
            # Outside the room: both namespace-wide broadcasts, in either order (one from
            # each server: nothing orders two publishers).
            everyone = [("news", ("all from thinkio",)), binary]
            assert sorted(await elsewhere.wait_for(2), key=repr) == sorted(everyone, key=repr)
        # The room is empty again on thinkio's side: its channel is dropped.

        async def dropped() -> bool:
            return await room_subscribers(py, "red") == 0

        await eventually(dropped)


async def test_requests_both_ways(
    redis_cluster: RedisClusterProcesses, key: str, node: NodeServer
) -> None:
    async with (
        cluster(redis_cluster, key, node) as (py, url, control),
        client(url + "?room=red") as c_py,
        client(node.url + "?room=red") as c_node,
    ):
        seen_by_node = {s["id"]: s for s in await control("fetch", ["red"])}
        assert set(seen_by_node) == {sid(c_py), sid(c_node)}
        theirs = [s for s in await py.in_("red").fetch_sockets() if isinstance(s, RemoteSocket)]
        assert [(s.id, s.data) for s in theirs] == [(sid(c_node), {"server": "node"})]
        assert await py.sockets.server_side_call("ping-servers", 1) == ["node pong 1"]
        assert await control("serverSideEmit", "ping-servers", 2) == ["thinkio pong 2"]
        c_py.on("question", lambda q: f"thinkio client: {q}")
        c_node.on("question", lambda q: f"node client: {q}")
        both = ["node client: q", "thinkio client: q"]
        assert await control("emitWithAck", [], "question", "q") == both
        assert sorted(await py.sockets.emit_with_ack("question", "q", timeout=3)) == both
        gone = anyio.Event()
        c_node.on("disconnect", lambda reason: gone.set())
        await py.in_(sid(c_node)).disconnect_sockets()
        with anyio.fail_after(5):
            await gone.wait()
        assert not c_node.connected
