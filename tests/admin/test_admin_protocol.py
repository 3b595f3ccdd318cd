"""The Admin UI's protocol on /admin, spoken to real clients: thinkio's and python-socketio's."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
import socketio

from thinkio.admin import AdminUI, instrument
from thinkio.client import Client
from thinkio.errors import ConfigError, ConnectRefused
from thinkio.server import Server, Socket

from ..server.conftest import running
from .conftest import HASH, PASSWORD, USERNAME, Inbox

pytestmark = pytest.mark.anyio

AUTH = {"type": "basic", "username": USERNAME, "password": HASH}


def app_server(**admin: Any) -> tuple[Server, AdminUI]:
    io = Server()
    chat = io.of("/chat")

    @io.on("enter")
    def enter(socket: Socket, room: str) -> None:
        socket.join(room)

    @io.on("hello")
    def hello(socket: Socket, *args: Any) -> None:
        socket.emit_nowait("welcome", len(args))

    @chat.on("connect")
    def chat_connected(socket: Socket) -> None:
        socket.data["nick"] = "ada"

    admin.setdefault("auth", AUTH)
    admin.setdefault("stats_interval", 0.1)
    return io, instrument(io, **admin)


def admin_client(url: str, **auth: Any) -> Client:
    return Client(
        url,
        namespaces=("/admin",),
        auth=auth or {"username": USERNAME, "password": PASSWORD},
        reconnection=False,
    )


async def test_the_dashboard_sees_sockets_rooms_events_and_stats() -> None:
    io, _ = app_server()
    async with (
        running(io) as url,
        Client(url, reconnection=False) as first,
        Client(url, namespaces=("/chat",), transports=("polling",), reconnection=False) as nick,
    ):
        await first.call("enter", "lobby")
        dashboard = admin_client(url)
        inbox = Inbox(dashboard, "/admin")
        async with dashboard:
            (session,) = await inbox.wait_until("session", lambda s: True)
            assert isinstance(session, str) and len(session) == 16
            (config,) = await inbox.wait_until("config", lambda c: True)
            assert config["supportedFeatures"] == [
                "EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT",
                "AGGREGATED_EVENTS", "ALL_EVENTS",
            ]  # fmt: skip
            (everyone,) = await inbox.wait_until("all_sockets", lambda s: True)
            by_nsp = {(s["nsp"], s["id"]): s for s in everyone}
            first_id, nick_id = first.get_sid("/"), nick.get_sid("/chat")
            assert ("/", first_id) in by_nsp and ("/chat", nick_id) in by_nsp
            shown = by_nsp[("/chat", nick_id)]
            assert shown["data"] == {"nick": "ada"}
            assert shown["transport"] == "polling"
            assert shown["handshake"]["address"] == "127.0.0.1"
            assert "auth" not in shown["handshake"]
            assert sorted(by_nsp[("/", first_id)]["rooms"]) == sorted([first_id, "lobby"])
            assert by_nsp[("/", first_id)]["clientId"] != shown["clientId"]
            # The dashboard's own socket is listed too, as Node lists it.
            assert any(nsp == "/admin" for nsp, _ in by_nsp)

            # Live: a new socket, its room, its events, its departure.
            async with Client(url, reconnection=False) as late:
                late_id = late.get_sid("/")
                await inbox.wait_until(
                    "socket_connected", lambda s, ts: s["id"] == late_id and s["nsp"] == "/"
                )
                await late.call("enter", "vip")
                await inbox.wait_until(
                    "room_joined", lambda nsp, room, sid, ts: (room, sid) == ("vip", late_id)
                )
                await late.emit("hello", 1, {"two": 2})
                _, _, args, ts = await inbox.wait_until(
                    "event_received",
                    lambda nsp, sid, args, ts: sid == late_id and args[0] == "hello",
                )
                assert args == ["hello", 1, {"two": 2}]
                assert ts.endswith("Z")
                # The stats sent once the late client is in "/" (one sent between its
                # Engine.IO handshake and its CONNECT also counts 4 clients).
                stats = await inbox.wait_until(
                    "server_stats",
                    lambda s: (
                        s["clientsCount"] == 4
                        and any(
                            n["name"] == "/" and n["socketsCount"] == 2 for n in s["namespaces"]
                        )
                    ),
                )
            _, _, reason, _ = await inbox.wait_until(
                "socket_disconnected", lambda nsp, sid, reason, ts: sid == late_id
            )
            assert reason == "client namespace disconnect"

            (stats,) = stats
            namespaces = {n["name"]: n["socketsCount"] for n in stats["namespaces"]}
            assert namespaces == {"/": 2, "/chat": 1, "/admin": 1}
            assert stats["pollingClientsCount"] >= 1
            assert stats["pid"] > 0 and stats["serverId"] and stats["uptime"] > 0
            kinds = {
                e["type"] for (s,) in inbox.items["server_stats"] for e in s["aggregatedEvents"]
            }
            assert {"rawConnection", "packetsIn", "bytesIn", "packetsOut", "bytesOut"} <= kinds

        # The session id the dashboard got lets it back in without the password.
        again = admin_client(url, sessionId=session)
        async with again:
            assert again.connected


async def test_the_dashboards_commands_act_on_the_sockets() -> None:
    io, _ = app_server()
    async with running(io) as url:
        news: list[Any] = []
        got_news = anyio.Event()
        async with (
            Client(url, reconnection=False) as staying,
            Client(url, reconnection=False) as leaving,
        ):
            staying.on("news", lambda *a: (news.append(a), got_news.set()))
            await leaving.call("enter", "kick-me")
            dashboard = admin_client(url)
            inbox = Inbox(dashboard, "/admin")
            async with dashboard:
                await inbox.wait_until("config", lambda c: True)
                await dashboard.emit("join", "/", "everyone", namespace="/admin")
                for client in (staying, leaving):
                    sid = client.get_sid("/")
                    await inbox.wait_until(
                        "room_joined",
                        lambda nsp, room, s, ts, sid=sid: (room, s) == ("everyone", sid),
                    )
                await dashboard.emit("leave", "/", "everyone", "kick-me", namespace="/admin")
                await inbox.wait_until(
                    "room_left",
                    lambda nsp, room, s, ts: (room, s) == ("everyone", leaving.get_sid("/")),
                )
                assert staying.get_sid("/") in io.sockets.adapter.rooms.members("everyone")
                await dashboard.emit("emit", "/", None, "news", "hi", namespace="/admin")
                with anyio.fail_after(5):
                    await got_news.wait()
                assert news == [("hi",)]
                leaving_id = leaving.get_sid("/")
                await dashboard.emit("_disconnect", "/", False, "kick-me", namespace="/admin")
                await inbox.wait_until(
                    "socket_disconnected", lambda nsp, sid, reason, ts: sid == leaving_id
                )
                assert set(io.sockets.sockets) == {staying.get_sid("/")}
                # A namespace that does not exist is not created by a command.
                await dashboard.emit("join", "/nope", "x", namespace="/admin")
                await dashboard.emit("emit", "/", None, "news", "again", namespace="/admin")
                with anyio.fail_after(5):
                    while len(news) < 2:
                        await anyio.sleep(0.01)
                assert "/nope" not in io.namespaces


async def test_readonly_and_production_modes() -> None:
    io, _ = app_server(readonly=True, mode="production")
    async with running(io) as url, Client(url, reconnection=False) as user:
        dashboard = admin_client(url)
        inbox = Inbox(dashboard, "/admin")
        async with dashboard:
            (config,) = await inbox.wait_until("config", lambda c: True)
            assert config["supportedFeatures"] == ["AGGREGATED_EVENTS"]
            await dashboard.emit("_disconnect", "/", True, namespace="/admin")
            await user.emit("hello")
            # Two periodic reports later: the user is still there, and no event or socket
            # was reported one by one.
            seen = len(inbox.items["server_stats"])
            await inbox.wait_until(
                "server_stats", lambda s: seen + 2 <= len(inbox.items["server_stats"])
            )
            assert user.connected and len(io.sockets.sockets) == 1
            assert not inbox.items["all_sockets"] and not inbox.items["event_received"]
            assert not inbox.items["socket_connected"]


async def test_wrong_credentials_are_refused() -> None:
    io, _ = app_server()
    async with running(io) as url:
        for auth in ({"username": USERNAME, "password": "wrong"}, {"sessionId": "forged"}, {}):
            with pytest.raises(ConnectRefused) as refused:
                async with Client(url, namespaces=("/admin",), auth=auth, reconnection=False):
                    pass
            assert refused.value.message == "invalid credentials"
        async with Client(url, reconnection=False) as user:  # the app's namespaces are open
            assert user.connected


@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # python-socketio runs on asyncio only
async def test_python_socketio_client_as_the_dashboard(anyio_backend: str) -> None:
    io, _ = app_server()
    async with running(io) as url, Client(url, reconnection=False) as user:
        sio = socketio.AsyncClient(reconnection=False)
        got: dict[str, Any] = {}
        ready = anyio.Event()

        @sio.on("all_sockets", namespace="/admin")
        def all_sockets(sockets: list[dict[str, Any]]) -> None:
            got["sockets"] = sockets
            ready.set()

        await sio.connect(
            url,
            namespaces=["/admin"],
            auth={"username": USERNAME, "password": PASSWORD},
            transports=["websocket"],
        )
        try:
            with anyio.fail_after(5):
                await ready.wait()
        finally:
            await sio.disconnect()
        assert user.get_sid("/") in {s["id"] for s in got["sockets"]}


@pytest.mark.parametrize(
    "auth",
    [None, {"username": "admin", "password": "plain-text"}, {"type": "digest"}, True],
)
def test_bad_auth_options_are_refused(auth: Any) -> None:
    with pytest.raises(ConfigError, match="auth"):
        instrument(Server(), auth=auth)


def test_the_dashboard_files_must_be_installed(tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match=r"npm install @socket\.io/admin-ui"):
        instrument(Server(), auth=False, ui="/admin", ui_dir=tmp_path)


async def test_metrics_and_the_dashboard_both_count() -> None:
    io = Server(metrics=True)

    @io.on("echo")
    def echo(socket: Socket, value: Any) -> Any:
        return value

    instrument(io, auth=False, stats_interval=0.1)
    assert io.metrics is not None
    async with running(io) as url:
        dashboard = Client(url, namespaces=("/admin",), reconnection=False)
        inbox = Inbox(dashboard, "/admin")
        async with dashboard, Client(url, reconnection=False) as user:
            for i in range(5):
                assert await user.call("echo", i) == [i]

            def counted_in(*reports: Any) -> bool:
                return (
                    sum(
                        e["count"]
                        for (s,) in inbox.items["server_stats"]
                        for e in s["aggregatedEvents"]
                        if e["type"] == "packetsIn"
                    )
                    >= 6
                )  # the CONNECT and the five calls

            await inbox.wait_until("server_stats", counted_in)
            assert io.metrics.messages_received >= 6 and io.metrics.messages_sent >= 6
