"""Two thinkio servers sharing a real Redis, with thinkio clients, on asyncio and trio."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.adapters import ClusterTimeout, RedisAdapter, RemoteSocket
from thinkio.server import Server, Socket

from .conftest import Inbox, RedisProcess, client, cluster_server, eventually, running

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


async def test_broadcast_reaches_clients_of_both_servers(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (url_a, url_b):
        box_a, box_b = Inbox(), Inbox()
        async with client(url_a, box_a, "news"), client(url_b, box_b, "news"):
            await a.emit("news", "from a", {"n": 1}, b"\x00\xff")
            await b.emit("news", "from b")
            expected = [("news", ("from a", {"n": 1}, b"\x00\xff")), ("news", ("from b",))]
            assert sorted(await box_a.wait_for(2), key=repr) == sorted(expected, key=repr)
            assert sorted(await box_b.wait_for(2), key=repr) == sorted(expected, key=repr)


async def test_local_broadcast_stays_here(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (url_a, url_b):
        box_a, box_b = Inbox(), Inbox()
        async with client(url_a, box_a, "news"), client(url_b, box_b, "news"):
            await a.sockets.local.emit("news", "local")
            await a.emit("news", "everywhere")
            assert await box_b.wait_for(1) == [("news", ("everywhere",))]
            assert await box_a.wait_for(2) == [("news", ("local",)), ("news", ("everywhere",))]


async def test_rooms_and_except_across_servers(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (url_a, url_b):
        boxes = [Inbox() for _ in range(4)]
        clients = [
            client(url_a + "?room=red", boxes[0], "news"),
            client(url_b + "?room=red", boxes[1], "news"),
            client(url_b + "?room=blue", boxes[2], "news"),
            client(url_b, boxes[3], "news"),
        ]
        async with clients[0], clients[1], clients[2], clients[3]:
            await a.to("red").emit("news", "red")  # one room: the room's own channel
            await a.to("red", "blue").emit("news", "red or blue")
            await a.except_("red").emit("news", "not red")
            sid_b_red = clients[1].sid
            assert sid_b_red is not None
            await a.to("red").except_(sid_b_red).emit("news", "red but b1")
            await a.emit("news", "end")
            for box in boxes:
                await box.wait_for(1, timeout=5)
                await eventually(lambda box=box: box.items[-1] == ("news", ("end",)))
            assert [args[0] for _, args in boxes[0].items] == [
                "red",
                "red or blue",
                "red but b1",
                "end",
            ]
            assert [args[0] for _, args in boxes[1].items] == ["red", "red or blue", "end"]
            assert [args[0] for _, args in boxes[2].items] == ["red or blue", "not red", "end"]
            assert [args[0] for _, args in boxes[3].items] == ["not red", "end"]


async def test_to_a_socket_id_on_the_other_server(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (_, url_b):
        box1, box2 = Inbox(), Inbox()
        async with client(url_b, box1, "private"), client(url_b, box2, "private") as c2:
            target = c2.sid
            assert target is not None
            await a.to(target).emit("private", "just you")
            assert await box2.wait_for(1) == [("private", ("just you",))]
            await anyio.sleep(0.1)
            assert box1.items == []


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
        await eventually(lambda: adapter(a, "/late").link.subscribed)
        await eventually(lambda: adapter(b, "/late").link.subscribed)
        assert await adapter(a, "/late").server_count() == 2
        box = Inbox()
        async with client(url_b, box, "news", namespaces=["/late"]):
            await late_a.emit("news", "late")
            assert await box.wait_for(1) == [("news", ("late",))]


async def test_sockets_join_leave_and_disconnect_across_servers(
    redis: RedisProcess, key: str
) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (_, url_b):
        box = Inbox()
        gone = anyio.Event()
        c = client(url_b, box, "news")
        c.on("disconnect", lambda reason: gone.set())
        async with c:
            sid = c.sid
            assert sid is not None
            remote = b.sockets.sockets[sid]
            await a.in_(sid).sockets_join("green", "yellow")
            await eventually(lambda: {"green", "yellow"} <= remote.rooms)
            await a.to("green").emit("news", "green")
            assert await box.wait_for(1) == [("news", ("green",))]
            await a.in_("yellow").sockets_leave("green")
            await eventually(lambda: "green" not in remote.rooms)
            assert "yellow" in remote.rooms
            await a.in_("yellow").disconnect_sockets()
            with anyio.fail_after(5):
                await gone.wait()
            await eventually(lambda: sid not in b.sockets.sockets)


async def test_fetch_sockets_across_servers(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    async with running(a, b) as (url_a, url_b):
        c_a = client(url_a + "?room=red")
        c_b = client(url_b + "?room=red&x=1", auth={"token": "t"})
        c_b2 = client(url_b)
        async with c_a, c_b, c_b2:
            sockets = await a.in_("red").fetch_sockets()
            assert len(sockets) == 2
            local, remote = sockets
            assert isinstance(local, Socket) and local.id == c_a.sid
            assert isinstance(remote, RemoteSocket) and remote.id == c_b.sid
            assert remote.rooms == {remote.id, "red"}
            assert remote.data == {"server": "b"}
            assert remote.handshake["query"]["x"] == "1"
            assert remote.handshake["auth"] == {"token": "t"}
            assert remote.handshake["address"] == "127.0.0.1"
            everyone = await b.sockets.fetch_sockets()
            assert {s.id for s in everyone} == {c_a.sid, c_b.sid, c_b2.sid}
            assert await a.sockets.local.fetch_sockets() == [local]
            # A RemoteSocket acts through the cluster.
            box = Inbox()
            c_b.on("hello", box.handler("hello"))
            await remote.emit("hello", "remote")
            assert await box.wait_for(1) == [("hello", ("remote",))]
            await remote.join("blue")
            await eventually(lambda: "blue" in b.sockets.sockets[remote.id].rooms)


async def test_all_rooms_and_server_side_emit(redis: RedisProcess, key: str) -> None:
    a, b = app(redis, key, "a"), app(redis, key, "b")
    heard: list[Any] = []

    def ping(value: Any) -> str:
        heard.append(value)
        return f"pong {value}"

    adapter(b).on("ping", ping)
    async with running(a, b) as (_, url_b), client(url_b + "?room=lobby"):
        assert "lobby" in await adapter(a).all_rooms()
        assert await adapter(a).server_side_call("ping", 7) == ["pong 7"]
        await adapter(a).server_side_emit("ping", 8)
        await eventually(lambda: heard == [7, 8])
        # Not to itself; and, as in Node, a server without a handler does not answer.
        with pytest.raises(ClusterTimeout, match=r"serverSideEmit response \(0 of 1"):
            await adapter(b).server_side_call("ping", 9)
        assert heard == [7, 8]


async def test_fetch_sockets_times_out_when_a_server_is_silent(
    redis: RedisProcess, key: str
) -> None:
    from thinkio.adapters.resp import RedisAddress, RedisConnection

    a = app(redis, key, "a")
    async with running(a):
        # A bare subscriber on the request channel counts as a server but never answers.
        silent = await RedisConnection.open(RedisAddress.from_url(redis.url), timeout=2)
        try:
            await silent.send("SUBSCRIBE", adapter(a).channels.request)
            await silent.receive()
            assert await adapter(a).server_count() == 2
            with pytest.raises(ClusterTimeout, match="fetchSockets"):
                await a.sockets.fetch_sockets()
        finally:
            await silent.aclose()
