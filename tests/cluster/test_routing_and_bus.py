"""A real cluster: sticky routing of polling sessions, keep-alive reuse, upgrades, the bus."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import wsproto
import wsproto.events as ws

from .conftest import EIO, Inbox, Polling, RawHttp, client, owner, running_cluster, url_of

pytestmark = pytest.mark.anyio


async def _session_rounds(http: httpx.AsyncClient, base: str, n: int) -> str:
    session = Polling(http, base)
    await session.open()
    await session.connect_namespace()
    for k in range(4):
        await session.echo(k, [n, k, "x" * (k * 300)])
    return session.sid


@pytest.mark.parametrize("connections", ["fresh", "pooled"])
async def test_many_polling_sessions_stick_to_their_owner(
    anyio_backend: str, connections: str
) -> None:
    """Each request of a session reaches its owner, on new connections or reused ones.

    ``fresh``: every request opens a new TCP connection, so the supervisor routes each one by
    its sid. ``pooled``: one small pool of keep-alive connections carries all sessions, so
    workers hand requests of other workers' sessions back. A router that ignored the sid
    would break the sessions with "Session ID unknown".
    """
    async with running_cluster(anyio_backend, workers=3) as cluster:
        base = url_of(cluster)
        if connections == "fresh":
            http = httpx.AsyncClient(headers={"connection": "close"}, timeout=10)
        else:
            http = httpx.AsyncClient(limits=httpx.Limits(max_connections=3), timeout=10)
        async with http, anyio.create_task_group() as tg:
            sids: list[str] = []

            async def run(n: int) -> None:
                sids.append(await _session_rounds(http, base, n))

            for n in range(12):
                tg.start_soon(run, n)
        assert len(sids) == 12
        assert {owner(s) for s in sids} == {0, 1, 2}  # handshakes are spread over all workers


async def _two_sessions_on_two_workers(base: str) -> tuple[str, str]:
    async with httpx.AsyncClient(timeout=10) as http:
        first = await Polling(http, base).open()
    for _ in range(6):
        async with httpx.AsyncClient(timeout=10) as http:
            second = await Polling(http, base).open()
        if owner(second) != owner(first):
            return first, second
    raise AssertionError("round robin never picked another worker")


async def _poll(conn: RawHttp, target: str) -> tuple[int, bytes]:
    """A GET's packets without the server's pings (answered, so the session lives on): the
    test app pings every second, and a busy machine may batch one in front of the reply."""
    while True:
        status, body = await conn.request("GET", target)
        if status != 200:
            return status, body
        packets = body.split(b"\x1e")
        rest = [p for p in packets if p != b"2"]
        if len(rest) < len(packets):
            assert await conn.request("POST", target, b"3") == (200, b"ok")
        if rest:
            return status, b"\x1e".join(rest)


async def test_one_keep_alive_connection_serves_sessions_of_two_workers(anyio_backend: str) -> None:
    async with running_cluster(anyio_backend, workers=2) as cluster:
        assert cluster.address is not None
        sid_a, sid_b = await _two_sessions_on_two_workers(url_of(cluster))
        async with RawHttp.connect("127.0.0.1", cluster.address.port) as conn:

            def target(sid: str) -> str:
                return f"{EIO}&sid={sid}"

            for sid in (sid_a, sid_b, sid_a, sid_b):
                assert await conn.request("POST", target(sid), b"40") == (200, b"ok")
                status, body = await _poll(conn, target(sid))
                assert status == 200 and body.startswith(b"40{"), body
                await conn.request("POST", target(sid), b"41")  # leave, to join again
            for k, sid in enumerate([sid_a, sid_b] * 3):
                await conn.request("POST", target(sid), b"40")
                status, body = await _poll(conn, target(sid))
                assert status == 200 and body.startswith(b"40{"), body
                payload = f'42{k}["echo","{sid}"]'.encode()
                # The head first and the body a moment later: when the request is handed
                # to the other worker, part of it is still unread in the kernel.
                # Real time must pass here: the worker's reads happen in another process, so
                # there is no event to wait on; the gaps make the parts arrive apart.
                await conn.send_head("POST", target(sid), len(payload))
                await anyio.sleep(0.05)
                await conn.send_body(payload[:5], end=False)
                await anyio.sleep(0.05)
                await conn.send_body(payload[5:])
                assert await conn.response() == (200, b"ok")
                status, body = await _poll(conn, target(sid))
                assert (status, body) == (200, f'43{k}["{sid}"]'.encode())
                await conn.request("POST", target(sid), b"41")
            # A handshake on the reused connection is balanced by the supervisor too.
            status, body = await conn.request("GET", EIO)
            assert status == 200 and body.startswith(b"0{")


async def test_polling_to_websocket_upgrade_on_a_reused_connection(anyio_backend: str) -> None:
    """The upgrade request of B arrives on a connection that last served A's worker."""
    async with running_cluster(anyio_backend, workers=2) as cluster:
        assert cluster.address is not None
        sid_a, sid_b = await _two_sessions_on_two_workers(url_of(cluster))
        async with RawHttp.connect("127.0.0.1", cluster.address.port) as conn:
            assert await conn.request("POST", f"{EIO}&sid={sid_a}", b"40") == (200, b"ok")
            ws_conn = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
            await conn.stream.send(
                ws_conn.send(
                    ws.Request(
                        host="127.0.0.1",
                        target=f"/socket.io/?EIO=4&transport=websocket&sid={sid_b}",
                    )
                )
            )
            received: list[Any] = []

            async def receive_until(kind: type) -> None:
                with anyio.fail_after(10):
                    while not any(isinstance(e, kind) for e in received):
                        ws_conn.receive_data(await conn.stream.receive())
                        received.extend(ws_conn.events())

            await receive_until(ws.AcceptConnection)
            await conn.stream.send(ws_conn.send(ws.TextMessage(data="2probe")))
            await receive_until(ws.TextMessage)
            assert [e.data for e in received if isinstance(e, ws.TextMessage)] == ["3probe"]
            await conn.stream.send(ws_conn.send(ws.TextMessage(data="5")))
            await conn.stream.send(ws_conn.send(ws.TextMessage(data="40")))
            received.clear()
            await receive_until(ws.TextMessage)
            texts = [e.data for e in received if isinstance(e, ws.TextMessage)]
            assert texts[0].startswith("40{"), texts


@pytest.mark.parametrize(
    "transports", [("polling", "websocket"), ("websocket",), ("polling",)], ids="+".join
)
async def test_bus_reaches_every_worker(anyio_backend: str, transports: tuple[str, ...]) -> None:
    async with running_cluster(anyio_backend, workers=3) as cluster:
        url = url_of(cluster)
        clients = [client(url, transports=transports) for _ in range(3)]
        inboxes = [Inbox(c, "news", "room-news", "direct", "disconnect") for c in clients]
        async with clients[0], clients[1], clients[2]:
            who = [(await c.call("whoami"))[0] for c in clients]
            pids = [w[0] for w in who]
            assert len(set(pids)) == 3, who  # one client per worker
            if "websocket" in transports:
                with anyio.fail_after(10):  # the upgrade landed on the owner
                    while any(c.transport != "websocket" for c in clients):
                        await anyio.sleep(0.02)

            # A broadcast from worker A reaches B and C, binary intact.
            assert await clients[0].call("broadcast", "hi", b"\x00\x01\xff") == [pids[0]]
            for inbox in inboxes:
                assert (await inbox.wait_for("news", 1))[0] == (pids[0], "hi", b"\x00\x01\xff")
            # opts.local stays on A (order per sender is kept, so B's next news is the second).
            await clients[0].call("local-broadcast", "only-here")
            await clients[0].call("broadcast", "everyone")
            assert [a[1] for a in await inboxes[0].wait_for("news", 3)] == [
                "hi",
                "only-here",
                "everyone",
            ]
            assert [a[1] for a in await inboxes[1].wait_for("news", 2)] == ["hi", "everyone"]

            # Rooms across workers.
            await clients[1].call("join", "r")
            await clients[2].call("join", "r")
            await clients[0].call("to-room", "r", "in-r", b"\x02")
            for inbox in inboxes[1:]:
                assert (await inbox.wait_for("room-news", 1))[0] == ("in-r", b"\x02")
            assert inboxes[0].items["room-news"] == []

            # fetch_sockets and server_count see every worker.
            (found,) = await clients[0].call("fetch", "r")
            assert sorted(found) == sorted(
                [w[1], w[0], b"\x00\xffdata", sorted(["r", w[1]])] for w in who[1:]
            )
            (everyone,) = await clients[1].call("fetch")
            assert sorted(s[0] for s in everyone) == sorted(w[1] for w in who)
            assert await clients[2].call("count") == [3]

            # sockets_join on remote sockets, then an emit through a RemoteSocket.
            await clients[0].call("sockets-join", "r", "r2")
            await clients[0].call("to-room", "r2", "in-r2")
            for inbox in inboxes[1:]:
                assert (await inbox.wait_for("room-news", 2))[1] == ("in-r2",)
            assert await clients[0].call("remote-emit", who[2][1], "dm", b"\xfe") == [True]
            assert (await inboxes[2].wait_for("direct", 1))[0] == ("dm", b"\xfe")

            # An acked broadcast collects every worker's client; server-side calls every other
            # worker.
            for i, c in enumerate(clients):
                c.on("question", lambda q, i=i: f"client {i}: {q}")
            (acks,) = await clients[0].call("ask-everyone", "q?")
            assert acks == [f"client {i}: q?" for i in range(3)]
            (answers,) = await clients[1].call("ask-workers", "t")
            assert answers == sorted([["t", pids[0]], ["t", pids[2]]])

            # disconnect_sockets on remote sockets.
            await clients[0].call("disconnect-room", "r2")
            for inbox in inboxes[1:]:
                assert (await inbox.wait_for("disconnect", 1))[0] == ("io server disconnect",)
            assert clients[0].connected
            assert await clients[0].call("count") == [3]
            (left,) = await clients[0].call("fetch")
            assert [s[0] for s in left] == [who[0][1]]
            assert json.dumps(left[0][3]) == json.dumps([who[0][1]])


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_python_socketio_clients(anyio_backend: str) -> None:
    """python-socketio's AsyncClient (aiohttp keeps its polling connections alive)."""
    socketio = pytest.importorskip("socketio")
    async with running_cluster(anyio_backend, workers=3) as cluster:
        clients = [socketio.AsyncClient(reconnection=False) for _ in range(3)]
        news: list[list[Any]] = [[] for _ in clients]
        for c, box in zip(clients, news, strict=True):
            c.on("news", lambda *args, box=box: box.append(list(args)))
        try:
            for c in clients:
                await c.connect(url_of(cluster), transports=["polling"], wait_timeout=10)
            who = [await c.call("whoami", timeout=10) for c in clients]
            assert len({w[0] for w in who}) == 3, who
            for k in range(5):  # several rounds on each session's kept-alive connections
                echoed = await clients[k % 3].call("echo", (k, b"\x01"), timeout=10)
                assert list(echoed) == [k, b"\x01"]
            await clients[1].call("broadcast", "py", timeout=10)
            with anyio.fail_after(10):
                while not all(news):
                    await anyio.sleep(0.02)
            assert all(box[0][1:] == ["py"] for box in news)
        finally:
            for c in clients:
                with anyio.move_on_after(5):
                    await c.disconnect()
