"""The adapter contract: what every adapter must do, as checks you can run against yours.

Like trio's ``check_two_way_stream``: write a function that builds a
:class:`~thinkio.server.Server` on your adapter, and run::

    from thinkio.testing import check_adapter

    def make_server(group: str) -> Server:
        # Servers made with the same group form one cluster; another group, another cluster
        # (for Redis: use the group as the key prefix).
        return Server(adapter=my_adapter(prefix=group))

    async def test_my_adapter():
        await check_adapter(make_server, nodes=3)

Each check starts ``nodes`` fresh servers on 127.0.0.1 (a fresh group each), connects real
clients (:class:`thinkio.Client` over WebSocket) to every one of them, and checks what a user
would see: broadcasts reach every client once and in the sender's order; rooms and
``except`` select the same clients whatever server they are on; ``local`` stays on its
server; an acked broadcast returns every client's ack and times out on a client that does
not answer; ``fetch_sockets`` describes every target socket with its ``data``, handshake
and rooms, and a fetched remote socket can be acted on; ``sockets_join`` / ``sockets_leave``
/ ``disconnect_sockets`` reach every server; server-side events reach every *other*
server, with and without answers; ``server_count`` counts the servers, and drops when one
leaves, after which requests no longer wait for it. With ``nodes=1`` (the in-memory
adapter) only what one server can show is checked.

Every wait is bounded (``timeout`` seconds per step): a broken adapter fails, it never hangs.
A check that fails raises ``AssertionError`` naming the check; the other checks are not run.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..client import Client
from ..errors import AckTimeout
from ..server import Server, Socket

__all__ = ("CHECKS", "ServerFactory", "check_adapter")

#: Builds an unstarted server on the adapter under test; same group, same cluster.
ServerFactory = Callable[[str], Server | Awaitable[Server]]

_EVENTS = 20


@dataclass
class _Inbox:
    """What one client received, in order."""

    items: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    changed: anyio.Event = field(default_factory=anyio.Event)

    def record(self, event: str) -> Callable[..., None]:
        def handler(*args: Any) -> None:
            self.items.append((event, args))
            self.changed.set()
            self.changed = anyio.Event()

        return handler

    async def wait_for(self, count: int, timeout: float) -> list[tuple[str, tuple[Any, ...]]]:
        with anyio.move_on_after(timeout):
            while len(self.items) < count:
                await self.changed.wait()
        return self.items


@dataclass
class _Cluster:
    servers: list[Server]
    urls: list[str]
    timeout: float
    stack: AsyncExitStack
    clients: list[tuple[Client, _Inbox]] = field(default_factory=list)

    async def connect(
        self,
        node: int,
        query: str = "",
        *,
        events: tuple[str, ...] = ("news", "direct"),
        **kwargs: Any,
    ) -> tuple[Client, _Inbox]:
        inbox = _Inbox()
        client = Client(
            self.urls[node] + query, transports=("websocket",), reconnection=False, **kwargs
        )
        for event in events:
            client.on(event, inbox.record(event))
        # The client's own connect timeout bounds this (its task group outlives this call,
        # so no cancel scope of ours may wrap it).
        await self.stack.enter_async_context(client)
        self.clients.append((client, inbox))
        return client, inbox


async def _eventually(what: str, check: Callable[[], Any], timeout: float) -> None:
    with anyio.move_on_after(timeout):
        while True:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await anyio.sleep(0.01)
    raise AssertionError(f"{what}: not within {timeout} s")


def _app(io: Server, name: str) -> Server:
    """The handlers the checks rely on."""

    @io.on("connect")
    def connect(socket: Socket) -> None:
        socket.data.update({"server": name, "values": [1, 2.5, None, True, "é"]})
        room = socket.handshake.query.get("room")
        if room:
            socket.join(room)

    @io.sockets.on_server_side("ping")
    def ping(value: Any) -> str:
        return f"{name} pong {value}"

    return io


@asynccontextmanager
async def _cluster(make: ServerFactory, nodes: int, timeout: float) -> AsyncIterator[_Cluster]:
    group = f"contract-{secrets.token_hex(5)}"
    servers = []
    for i in range(nodes):
        made = make(group)
        if isinstance(made, Awaitable):
            made = await made
        servers.append(_app(made, f"s{i}"))
    async with AsyncExitStack() as stack, anyio.create_task_group() as tg:
        urls = []
        for io in servers:
            with anyio.fail_after(timeout):
                urls.append((await tg.start(io.serve, "127.0.0.1", 0)).url)
        cluster = _Cluster(servers, urls, timeout, stack)
        try:
            yield cluster
        finally:
            await stack.aclose()
            with anyio.move_on_after(timeout):
                for io in servers:
                    await io.shutdown(timeout=1)
            tg.cancel_scope.cancel()


# --------------------------------------------------------------------------- the checks


async def check_broadcast_order(c: _Cluster) -> None:
    """Every client on every server gets each broadcast once, in the sender's order."""
    boxes = [(await c.connect(i))[1] for i in range(len(c.servers))]
    sender = c.servers[0]
    for n in range(_EVENTS):
        await sender.emit("news", n, b"\x01" if n % 5 == 0 else n)
    expected = [("news", (n, b"\x01" if n % 5 == 0 else n)) for n in range(_EVENTS)]
    for i, box in enumerate(boxes):
        got = await box.wait_for(_EVENTS, c.timeout)
        assert got == expected, f"server {i}'s client got {got}, expected 0..{_EVENTS - 1}"


async def check_rooms_and_except(c: _Cluster) -> None:
    """Rooms, ``except`` and socket-id rooms pick the same clients on every server."""
    last = len(c.servers) - 1
    red0, red0_box = await c.connect(0, "?room=red")
    _, red_box = await c.connect(last, "?room=red")
    _, blue_box = await c.connect(last, "?room=blue")
    _, none_box = await c.connect(last)
    io = c.servers[0]
    await io.to("red").emit("news", "red")
    await io.to("red", "blue").emit("news", "red or blue")
    await io.except_("red").emit("news", "not red")
    assert red0.sid is not None
    await io.to("red").except_(red0.sid).emit("news", "red but the first")
    await io.emit("news", "end")
    wanted = {
        "red on 0": (red0_box, ["red", "red or blue", "end"]),
        "red": (red_box, ["red", "red or blue", "red but the first", "end"]),
        "blue": (blue_box, ["red or blue", "not red", "end"]),
        "no room": (none_box, ["not red", "end"]),
    }
    for name, (box, texts) in wanted.items():
        got = [args[0] for _, args in await box.wait_for(len(texts), c.timeout)]
        assert got == texts, f"client in {name}: got {got}, expected {texts}"


async def check_local_stays_here(c: _Cluster) -> None:
    """``local`` broadcasts reach this server's clients only."""
    boxes = [(await c.connect(i))[1] for i in range(len(c.servers))]
    await c.servers[0].sockets.local.emit("news", "local")
    await c.servers[0].emit("news", "everywhere")
    assert [a for _, a in await boxes[0].wait_for(2, c.timeout)] == [("local",), ("everywhere",)]
    for box in boxes[1:]:
        got = await box.wait_for(1, c.timeout)
        assert got == [("news", ("everywhere",))], f"a local broadcast left its server: {got}"


async def check_broadcast_with_acks(c: _Cluster) -> None:
    """An acked broadcast returns one ack per client on every server, and times out when a
    client does not answer."""
    answering = []
    for i in range(len(c.servers)):
        client, _ = await c.connect(i)
        client.on("question", lambda q, i=i: f"client {i}: {q}")
        answering.append(f"client {i}: q")
    acks = await c.servers[0].sockets.emit_with_ack("question", "q", timeout=c.timeout)
    assert sorted(acks) == sorted(answering), f"acks {acks}, expected {answering}"
    await c.connect(len(c.servers) - 1, "?room=mute")  # no "question" handler: no ack
    try:
        got = await c.servers[0].to("mute").emit_with_ack("question", "q", timeout=0.3)
    except AckTimeout:
        pass
    else:
        raise AssertionError(f"an acked broadcast to a mute client returned {got}")


async def check_fetch_sockets(c: _Cluster) -> None:
    """``fetch_sockets`` describes every target socket, and a remote one can be acted on."""
    last = len(c.servers) - 1
    near, _ = await c.connect(0, "?room=red")
    far, far_box = await c.connect(last, "?room=red&x=1", auth={"token": "t"})
    await c.connect(last)
    assert near.sid is not None and far.sid is not None
    found = await c.servers[0].in_("red").fetch_sockets()
    assert sorted(s.id for s in found) == sorted([near.sid, far.sid]), found
    remote = next(s for s in found if s.id == far.sid)
    assert set(remote.rooms) == {far.sid, "red"}, remote.rooms
    assert remote.data == {"server": f"s{last}", "values": [1, 2.5, None, True, "é"]}, remote.data
    hs = remote.handshake
    query = hs["query"] if isinstance(hs, dict) else hs.query
    assert query.get("x") == "1", hs
    everyone = await c.servers[last].sockets.fetch_sockets()
    assert len(everyone) == 3, everyone
    await remote.emit("direct", "to you")
    assert await far_box.wait_for(1, c.timeout) == [("direct", ("to you",))]
    joined = remote.join("blue")  # a local Socket joins at once, a RemoteSocket is awaited
    if isinstance(joined, Awaitable):
        await joined
    sockets, sid = c.servers[last].sockets.sockets, far.sid
    await _eventually("a remote join", lambda: "blue" in sockets[sid].rooms, c.timeout)


async def check_socket_operations(c: _Cluster) -> None:
    """``sockets_join``, ``sockets_leave`` and ``disconnect_sockets`` reach every server."""
    last = len(c.servers) - 1
    gone = anyio.Event()
    client, box = await c.connect(last)
    client.on("disconnect", lambda reason: gone.set())
    sid = client.sid
    assert sid is not None
    sockets = c.servers[last].sockets.sockets
    io = c.servers[0]
    await io.in_(sid).sockets_join("green", "yellow")
    await _eventually("sockets_join", lambda: {"green", "yellow"} <= sockets[sid].rooms, c.timeout)
    await io.to("green").emit("news", "green")
    assert await box.wait_for(1, c.timeout) == [("news", ("green",))]
    await io.in_("yellow").sockets_leave("green")
    await _eventually("sockets_leave", lambda: "green" not in sockets[sid].rooms, c.timeout)
    await io.in_("yellow").disconnect_sockets()
    with anyio.move_on_after(c.timeout):
        await gone.wait()
    assert gone.is_set(), "disconnect_sockets did not disconnect the client"


async def check_server_side_events(c: _Cluster) -> None:
    """Server-side events reach every other server, with and without answers."""
    heard: list[Any] = []
    for io in c.servers[1:]:
        io.sockets.on_server_side("note", heard.append)
    ns = c.servers[0].sockets
    others = len(c.servers) - 1
    answers = await ns.server_side_call("ping", 7, timeout=c.timeout)
    assert sorted(answers) == [f"s{i} pong 7" for i in range(1, others + 1)], answers
    await ns.server_side_emit("note", "hello")
    await _eventually("a server-side emit", lambda: heard == ["hello"] * others, c.timeout)


async def check_server_count_and_leaving(c: _Cluster) -> None:
    """``server_count`` counts the servers; one that leaves stops being waited for."""
    n = len(c.servers)
    for io in c.servers:
        count = await io.sockets.adapter.server_count()
        assert count == n, f"server_count() is {count} with {n} servers"
    if n < 2:
        return
    await c.connect(0)
    await c.servers[-1].shutdown(timeout=1)

    async def dropped() -> bool:
        return await c.servers[0].sockets.adapter.server_count() == n - 1

    await _eventually("server_count after a server left", dropped, c.timeout)
    with anyio.fail_after(c.timeout):
        found = await c.servers[0].sockets.fetch_sockets()
    assert len(found) == 1, found


CHECKS: dict[str, tuple[int, Callable[[_Cluster], Awaitable[None]]]] = {
    "broadcast order": (1, check_broadcast_order),
    "rooms and except": (1, check_rooms_and_except),
    "local stays here": (1, check_local_stays_here),
    "broadcast with acks": (1, check_broadcast_with_acks),
    "fetch sockets": (1, check_fetch_sockets),
    "socket operations": (1, check_socket_operations),
    "server-side events": (2, check_server_side_events),
    "server count and leaving": (1, check_server_count_and_leaving),
}
"""Each check with the fewest servers it needs."""


async def check_adapter(
    make_server: ServerFactory,
    *,
    nodes: int = 2,
    timeout: float = 5.0,
    only: list[str] | None = None,
) -> None:
    """Run the adapter contract against servers built by ``make_server``.

    Args:
        make_server: ``make_server(group)`` builds an unstarted server on the adapter under
            test; servers of the same group must form one cluster, of another group another.
        nodes: how many servers each check starts (1 for an adapter without peers).
        timeout: the bound of every wait, in seconds.
        only: run only the checks with these names (keys of :data:`CHECKS`).

    Raises:
        AssertionError: a check failed (the message names it).
    """
    for name, (needs, check) in CHECKS.items():
        if (only is not None and name not in only) or needs > nodes:
            continue
        async with _cluster(make_server, nodes, timeout) as cluster:
            try:
                await check(cluster)
            except AssertionError as exc:
                raise AssertionError(f"adapter contract, {name!r}: {exc}") from exc
            except Exception as exc:
                raise AssertionError(f"adapter contract, {name!r}: {exc!r}") from exc
