"""Two thinkio servers sharing a real Redis: what is particular to the Redis adapter (the
behaviours every adapter shares are in test_contract.py)."""

from __future__ import annotations

import anyio
import pytest

from thinkio.adapters import ClusterTimeout, RedisAdapter, redis_adapter
from thinkio.server import Server, Socket

from .conftest import FAST, Inbox, RedisProcess, client, cluster_server, eventually, running

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def app(redis: RedisProcess, key: str, name: str) -> Server:
    """A server whose sockets can join rooms and whose data says which server they are on."""
    io = cluster_server(redis.url, key)

    @io.on("connect")
    def connect(socket: Socket) -> None:
        socket.data["server"] = name
        room = socket.handshake.query.get("room")
        if room:
            socket.join(room)

    @io.on("join")
    def join(socket: Socket, room: str) -> str:
        socket.join(room)
        return "joined"

    return io


def adapter(io: Server, nsp: str = "/") -> RedisAdapter:
    result = io.of(nsp).adapter
    assert isinstance(result, RedisAdapter)
    return result


async def test_server_count_and_one_subscriber_per_server(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    a.of("/chat")
    b.of("/chat")
    async with running(a, b):
        assert await adapter(a).server_count() == 2
        assert await adapter(b, "/chat").server_count() == 2
        assert adapter(a).link is adapter(a, "/chat").link  # one connection pair per server
        assert adapter(a).link is not adapter(b).link
    c = app(redis, key, "c")
    async with running(c):
        assert await adapter(c).server_count() == 1  # the others unsubscribed on shutdown


async def test_to_a_socket_id_on_the_other_server(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (_, url_b):
        box1, box2 = Inbox(), Inbox()
        async with (
            client(url_b, box1, "private") as c1,
            client(url_b, box2, "private") as c2,
        ):
            target = c2.sid
            assert target is not None and c1.sid is not None
            await a.to(target).emit("private", "just you")
            assert await box2.wait_for(1) == [("private", ("just you",))]
            # A marker for c1 on the same path (a's link, Redis, b, c1's connection), sent
            # after: had "just you" reached c1, it would have come before the marker.
            await a.to(c1.sid).emit("private", "marker")
            assert await box1.wait_for(1) == [("private", ("marker",))]


async def test_namespaces_are_separate(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    a.of("/chat")
    b.of("/chat")
    async with running(a, b) as (_, url_b):
        root, chat = Inbox(), Inbox()
        c_root = client(url_b, root, "news")
        c_chat = client(url_b, chat, "news", namespaces=["/chat"])
        async with c_root, c_chat:
            await a.of("/chat").emit("news", "chat only")
            assert await chat.wait_for(1) == [("news", ("chat only",))]
            await a.emit("news", "root only")
            assert await root.wait_for(1) == [("news", ("root only",))]
            assert len(chat.items) == 1


async def test_namespace_created_while_running(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (_, url_b):
        late_a = a.of("/late")
        b.of("/late")

        async def both() -> bool:
            return await adapter(a, "/late").server_count() == 2

        await eventually(both)
        box = Inbox()
        async with client(url_b, box, "news", namespaces=["/late"]):
            await late_a.emit("news", "late")
            assert await box.wait_for(1) == [("news", ("late",))]


async def test_fetch_sockets_times_out_when_a_server_is_silent(
    redis: RedisProcess, key: str
) -> None:
    a = Server(adapter=redis_adapter(redis.url, key=key, requests_timeout=0.3, **FAST))
    async with running(a):
        # A bare subscriber on the request channel counts as a server but never answers.
        silent = await anyio.connect_tcp("127.0.0.1", redis.port)
        try:
            channel = adapter(a).channels.request.encode()
            await silent.send(b"SUBSCRIBE %s\r\n" % channel)
            await silent.receive()
            assert await adapter(a).server_count() == 2
            with pytest.raises(ClusterTimeout, match="fetchSockets"):
                await a.sockets.fetch_sockets()
        finally:
            await silent.aclose()
