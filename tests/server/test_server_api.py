"""The low-level Server API, end to end with thinkio's own client, on asyncio and trio."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import httpx
import pytest

from thinkio.client import Client
from thinkio.errors import AckTimeout, ConnectRefused, ConnectRejected
from thinkio.server import Server, Socket

from ..support import Inbox
from .conftest import fast_server, running

pytestmark = pytest.mark.anyio

TRANSPORTS = [("polling",), ("websocket",), ("polling", "websocket")]


def client(url: str, inbox: Inbox | None = None, *events: str, **kwargs: Any) -> Client:
    kwargs.setdefault("reconnection", False)
    c = Client(url, **kwargs)
    if inbox is not None:
        for event in events:
            c.on(event, inbox.handler(event))
    return c


@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
async def test_events_acks_and_binary_both_ways(transports: tuple[str, ...]) -> None:
    io = fast_server()

    @io.on("echo")
    async def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        await socket.emit("echoed", *args)
        return args

    @io.on("ask-client")
    async def ask_client(socket: Socket, question: str) -> list[Any]:
        return await socket.call("question", question, timeout=5)

    inbox = Inbox()
    async with running(io) as url:
        c = client(url, inbox, "echoed", transports=transports)
        c.on("question", lambda q: (f"answer to {q}", b"\x00\x01"))
        async with c:
            assert await c.call("echo", 1, "two", {"3": [True]}, b"\xff\x00") == [
                1,
                "two",
                {"3": [True]},
                b"\xff\x00",
            ]
            assert await c.call("ask-client", "life") == [["answer to life", b"\x00\x01"]]
            items = await inbox.wait_for(1)
            assert items[0] == ("echoed", (1, "two", {"3": [True]}, b"\xff\x00"))


async def test_broadcast_rooms_and_except() -> None:
    io = fast_server()

    @io.on("join")
    def join(socket: Socket, room: str) -> str:
        socket.join(room)
        return "joined"

    @io.on("shout")
    async def shout(socket: Socket, room: str | None, text: str) -> str:
        if room is None:
            await socket.broadcast.emit("heard", text)  # everyone but the sender
        else:
            await io.to(room).emit("heard", text)  # the room, sender included if in it
        return "done"

    async with running(io) as url:
        boxes = [Inbox() for _ in range(3)]
        clients = [client(url, box, "heard") for box in boxes]
        async with clients[0], clients[1], clients[2]:
            await clients[0].call("join", "red")
            await clients[1].call("join", "red")
            await clients[2].call("shout", "red", "to red")
            assert await boxes[0].wait_for(1) == [("heard", ("to red",))]
            assert await boxes[1].wait_for(1) == [("heard", ("to red",))]
            await clients[0].call("shout", None, "to others")
            assert (await boxes[2].wait_for(1))[-1] == ("heard", ("to others",))
            assert (await boxes[1].wait_for(2))[-1] == ("heard", ("to others",))
            # A last emit to everyone: what the earlier ones sent each client came before it.
            await io.emit("heard", "marker")
            marker = ("heard", ("marker",))
            # The sender heard nothing new; the one outside red did not hear "to red".
            assert await boxes[0].wait_for(2) == [("heard", ("to red",)), marker]
            assert await boxes[2].wait_for(2) == [("heard", ("to others",)), marker]


async def test_except_rooms_and_namespace_emit() -> None:
    io = fast_server()
    chat = io.of("/chat")

    @chat.on("connect")
    def on_connect(socket: Socket) -> None:
        socket.join(socket.auth.get("team", "none"))

    @chat.on("ping-all")
    async def ping_all(socket: Socket) -> None:
        await chat.except_("blue").emit("pong", "not blue")

    async with running(io) as url:
        red, blue = Inbox(), Inbox()
        c_red = Client(url, namespaces=["/chat"], auth={"team": "red"}, reconnection=False)
        c_blue = Client(url, namespaces=["/chat"], auth={"team": "blue"}, reconnection=False)
        c_red.on("pong", red.handler("pong"), namespace="/chat")
        c_blue.on("pong", blue.handler("pong"), namespace="/chat")
        async with c_red, c_blue:
            await c_blue.emit("ping-all", namespace="/chat")
            assert await red.wait_for(1) == [("pong", ("not blue",))]
            await chat.emit("pong", "marker")  # to all, after: blue's first pong must be it
            assert await blue.wait_for(1) == [("pong", ("marker",))]
            assert sorted(s.auth["team"] for s in await chat.fetch_sockets()) == ["blue", "red"]


async def test_handlers_run_in_order_after_connect_finished() -> None:
    io = fast_server()
    seen: list[str] = []

    @io.on("connect")
    async def slow_connect(socket: Socket) -> None:
        await anyio.sleep(0.2)
        seen.append("connect")

    @io.on("step")
    async def step(socket: Socket, n: int) -> None:
        if n == 1:
            await anyio.sleep(0.1)  # a slow first event must not be overtaken
        seen.append(f"step {n}")

    async with running(io) as url, client(url) as c:
        for n in (1, 2, 3):
            await c.emit("step", n)
        assert await c.call("step", 4) == []  # acks with no value when the handler returns None
        assert seen == ["connect", "step 1", "step 2", "step 3", "step 4"]


async def test_middleware_refuses_with_connect_error_data() -> None:
    io = fast_server()

    @io.use
    async def check(socket: Socket) -> None:
        if socket.auth.get("token") != "secret":
            raise ConnectRejected("not authorized", {"hint": "send a token"})

    async with running(io) as url:
        with pytest.raises(ConnectRefused) as info:
            async with client(url, auth={"token": "wrong"}):
                pass
        assert info.value.message == "not authorized"
        assert info.value.data == {"hint": "send a token"}
        async with client(url, auth={"token": "secret"}) as c:
            assert c.connected


async def test_unknown_namespace_is_refused() -> None:
    async with running(fast_server()) as url:
        with pytest.raises(ConnectRefused) as info:
            async with Client(url, namespaces=["/nope"], reconnection=False):
                pass
        assert info.value.message == "Invalid namespace"


async def test_disconnect_reasons() -> None:
    io = fast_server()
    reasons: list[str] = []
    gone = anyio.Event()

    @io.on("disconnect")
    def on_disconnect(socket: Socket, reason: str) -> None:
        reasons.append(reason)
        gone.set()

    @io.on("kick-me")
    async def kick(socket: Socket) -> None:
        await socket.disconnect()

    async with running(io) as url:
        async with client(url):
            pass
        with anyio.fail_after(5):
            await gone.wait()
        gone = anyio.Event()
        inbox = Inbox()
        async with client(url, inbox, "disconnect") as c:
            await c.emit("kick-me")
            assert (await inbox.wait_for(1))[0] == ("disconnect", ("io server disconnect",))
        with anyio.fail_after(5):
            await gone.wait()
    assert reasons == ["client namespace disconnect", "server namespace disconnect"]


async def test_ack_timeout_when_the_client_never_answers() -> None:
    io = fast_server()
    outcome: list[str] = []

    @io.on("go")
    async def go(socket: Socket) -> None:
        try:
            await socket.call("no-answer", timeout=0.2)
        except AckTimeout:
            outcome.append("timeout")

    late = anyio.Event()
    async with running(io) as url, client(url) as c:
        c.on("no-answer", late.wait)  # answers only once the server gave up
        await c.call("go", timeout=5)  # returns once the server's call timed out
        late.set()  # the late answer, which the server ignores
    assert outcome == ["timeout"]


async def test_a_handler_that_outlives_its_client_writes_to_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As in Node: emit, join and call on a socket that went away are not errors."""
    io = fast_server()
    resume = anyio.Event()
    started: list[Socket] = []
    outcome: list[str] = []
    done = anyio.Event()

    @io.on("slow")
    async def slow(socket: Socket) -> None:
        started.append(socket)
        await resume.wait()  # the client leaves meanwhile
        await socket.emit("late", 1)
        socket.emit_nowait("late", 2)
        socket.join("room")
        try:
            await socket.call("late-call", timeout=5)
        except AckTimeout as exc:
            outcome.append(str(exc))
        done.set()

    with caplog.at_level(logging.DEBUG, logger="thinkio.socketio"):
        async with running(io) as url:
            async with client(url) as c:
                await c.emit("slow")
                with anyio.fail_after(5):
                    while not started:  # the handler runs (a checkpoint per turn, no delay)
                        await anyio.sleep(0)
            with anyio.fail_after(5):
                while started[0].connected:  # the server sees the client gone
                    await anyio.sleep(0)
            resume.set()
            with anyio.fail_after(5):
                await done.wait()
            assert "room" not in io.of("/").adapter.rooms.all_rooms()  # it joined nothing
    assert len(outcome) == 1 and outcome[0].startswith("'late-call' to socket ")
    assert outcome[0].endswith(": disconnected")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 3 and "event 'late'" in dropped[0] and "join" in dropped[2]


async def test_a_failing_handler_is_logged_and_the_socket_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io = fast_server()

    @io.on("boom")
    def boom(socket: Socket) -> None:
        raise ValueError("kaboom")

    @io.on("alive")
    def alive(socket: Socket) -> str:
        return "yes"

    with caplog.at_level(logging.ERROR, logger="thinkio.socketio"):
        async with running(io) as url, client(url) as c:
            await c.emit("boom")
            assert await c.call("alive") == ["yes"]
    assert any(
        "kaboom" in r.getMessage() or (r.exc_info and "kaboom" in str(r.exc_info[1]))
        for r in caplog.records
    )


async def test_shutdown_disconnects_clients_and_returns() -> None:
    io = fast_server()
    inbox = Inbox()
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        c = client(bound.url, inbox, "disconnect", transports=("websocket",))
        async with c:
            with anyio.fail_after(5):
                await io.shutdown(timeout=2)
            assert (await inbox.wait_for(1))[0][0] == "disconnect"
    # serve() returned: the task group closed without cancelling it.


async def test_ipv6_loopback_and_reported_address() -> None:
    io = fast_server()
    async with running(io, host="::1") as url:
        assert url.startswith("http://[::1]:")
        async with client(url) as c:
            assert c.connected


async def test_origin_policy_and_cors() -> None:
    io = fast_server(allow_origin=["https://good.example", "127.0.0.1:*"])
    async with running(io) as url, httpx.AsyncClient() as http:
        ok = await http.get(
            f"{url}/socket.io/?EIO=4&transport=polling", headers={"origin": "https://good.example"}
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://good.example"
        assert "access-control-allow-credentials" not in ok.headers  # only when configured
        legacy = await http.get(
            f"{url}/socket.io/?EIO=4&transport=polling", headers={"origin": "http://127.0.0.1:8360"}
        )
        assert legacy.status_code == 200
        bad = await http.get(
            f"{url}/socket.io/?EIO=4&transport=polling", headers={"origin": "https://evil.example"}
        )
        assert bad.status_code == 403
        assert bad.json() == {"code": 4, "message": "Origin not allowed"}
        assert "access-control-allow-origin" not in bad.headers
        preflight = await http.options(
            f"{url}/socket.io/?EIO=4&transport=polling",
            headers={"origin": "https://good.example", "access-control-request-method": "POST"},
        )
        assert preflight.status_code == 204
        assert "POST" in preflight.headers["access-control-allow-methods"]
        upgrade = await http.get(
            f"{url}/socket.io/?EIO=4&transport=websocket",
            headers={
                "origin": "https://evil.example",
                "connection": "Upgrade",
                "upgrade": "websocket",
                "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
                "sec-websocket-version": "13",
            },
        )
        assert upgrade.status_code == 403  # refused before any 101, as text (Node's upgrades)
        assert upgrade.text == "Origin not allowed"


async def test_other_paths_are_404() -> None:
    async with running(fast_server()) as url, httpx.AsyncClient() as http:
        assert (await http.get(f"{url}/nothing-here")).status_code == 404
        # the path with and without the trailing slash is served
        assert (await http.get(f"{url}/socket.io?EIO=4&transport=polling")).status_code == 200


async def test_port_in_use_is_a_clear_error() -> None:
    from thinkio.server import PortInUse

    first = fast_server()
    async with running(first) as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port} is already in use"):
            await Server().serve("127.0.0.1", port)
        # Started in the caller's task group, it arrives the anyio way, in a group.
        with pytest.raises(ExceptionGroup) as info:
            async with anyio.create_task_group() as tg:
                await tg.start(Server().serve, "127.0.0.1", port)
        assert info.group_contains(PortInUse)


async def test_socketio_garbage_disconnects_the_sockets_of_the_session() -> None:
    # Found by the interop matrix: a session closed for a Socket.IO-level error used to leave
    # its sockets joined (no disconnect handler, rooms kept).
    io = fast_server()
    reasons: list[str] = []
    gone = anyio.Event()

    @io.on("connect")
    def on_connect(socket: Socket) -> None:
        socket.join("lobby")

    @io.on("disconnect")
    def on_disconnect(socket: Socket, reason: str) -> None:
        reasons.append(reason)
        gone.set()

    async with running(io) as url, httpx.AsyncClient(base_url=url) as http:
        opened = (await http.get("/socket.io/?EIO=4&transport=polling")).text
        sid = opened.split('"sid":"')[1].split('"')[0]
        query = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        assert (await http.post(query, content="40")).text == "ok"
        assert (await http.get(query)).text.startswith("40")
        assert len(io.sockets.sockets) == 1
        await http.post(query, content="42{}")  # not an event: the session is closed
        with anyio.fail_after(5):
            await gone.wait()
        assert reasons == ["parse error"]
        assert io.sockets.sockets == {}
        assert io.sockets.adapter.rooms.members("lobby") == frozenset()
        # The client's next poll is told the session closed (and the session is then gone,
        # so the shutdown below has nothing to wait for).
        assert (await http.get(query)).text == "1"
        assert not io.engine.sockets
