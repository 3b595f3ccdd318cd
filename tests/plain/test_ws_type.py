"""``websocket["type"] = "ws"``: the guide's controllers over a plain WebSocket, with the real
``websockets`` client (its sync client, in worker threads, so the server runs on asyncio and
trio alike)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from thinkio import App, Controller

pytestmark = pytest.mark.anyio

TIMEOUT = 5.0


class Journal:
    """What the controllers saw, for the test to wait on."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._changed = anyio.Event()

    def add(self, item: tuple[str, Any]) -> None:
        self.items.append(item)
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, name: str, count: int = 1) -> list[Any]:
        with anyio.fail_after(TIMEOUT):
            while True:
                found = [data for what, data in self.items if what == name]
                if len(found) >= count:
                    return found
                await self._changed.wait()


JOURNAL = Journal()


class WebsocketController(Controller):
    async def open_action(self) -> None:
        await self.emit("opend", "This client opened successfully!")
        await self.broadcast("joined", "There is a new client joined successfully!")

    def add_user_action(self) -> None:  # a plain def: runs inline
        self.websocket.data["name"] = self.ws_data
        JOURNAL.add(("addUser", (self.ws_data, self.is_websocket, self.ctx.query.get("room"))))

    async def say_action(self) -> None:
        await self.broadcast(
            "said", {"from": self.websocket.data.get("name"), "text": self.ws_data}
        )

    async def close_action(self) -> None:
        JOURNAL.add(("close", (self.websocket.data.get("name"), self.ws_data)))


def make_app(**ws: Any) -> App:
    section = {
        "messages": {
            "open": "/websocket/open",
            "close": "/websocket/close",
            "addUser": "/websocket/addUser",
            "say": "/websocket/say",
        },
        **ws,
    }
    return App(
        {"port": 0, "websocket": {"type": "ws", "ws": section}},
        controllers={"websocket": WebsocketController},
    )


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    """Serve ``app``; yields its ``ws://`` base URL."""
    global JOURNAL
    JOURNAL = Journal()
    async with anyio.create_task_group() as tg:
        bound = await tg.start(app.serve, "127.0.0.1", 0)
        try:
            yield f"ws://127.0.0.1:{bound.port}"
        finally:
            with anyio.fail_after(10):
                await app.shutdown(timeout=2)


def recv(ws: ClientConnection) -> dict[str, Any]:
    message = ws.recv(timeout=TIMEOUT)
    assert isinstance(message, str)
    result: dict[str, Any] = json.loads(message)
    return result


def send(ws: ClientConnection, event: str, data: Any) -> None:
    ws.send(json.dumps({"event": event, "data": data}))


def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=TIMEOUT)
    assert info.value.rcvd is not None, "the server sent no close frame"
    return info.value.rcvd.code, info.value.rcvd.reason


async def in_thread(fn: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


async def test_the_guide_over_a_plain_websocket() -> None:
    async with serving(make_app()) as url:

        def alice_and_bob() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            with connect(f"{url}/ws?room=r1") as alice:
                first = [recv(alice), recv(alice)]  # opend, then her own joined
                with connect(f"{url}/ws") as bob:
                    bob_got = [recv(bob), recv(bob)]
                    first.append(recv(alice))  # bob joined: the broadcast reaches her too
                    send(alice, "addUser", "alice")
                    send(alice, "say", "hello")
                    first.append(recv(alice))
                    bob_got.append(recv(bob))
            return first, bob_got

        alice, bob = await in_thread(alice_and_bob)
        opened = {"event": "opend", "data": "This client opened successfully!"}
        joined = {"event": "joined", "data": "There is a new client joined successfully!"}
        said = {"event": "said", "data": {"from": "alice", "text": "hello"}}
        assert alice == [opened, joined, joined, said]
        assert bob == [opened, joined, said]
        assert await JOURNAL.wait_for("addUser") == [("alice", True, "r1")]
        closes = await JOURNAL.wait_for("close", 2)
        assert sorted(closes, key=str) == sorted(
            [("alice", "client close"), (None, "client close")], key=str
        )


async def test_a_refused_origin_gets_403_before_the_upgrade() -> None:
    app = make_app(allowOrigin="http://good.example")
    async with serving(app) as url:

        def try_origins() -> tuple[int, dict[str, Any]]:
            with pytest.raises(InvalidStatus) as refused:
                connect(f"{url}/ws", origin="http://evil.example")  # type: ignore[arg-type]
            with connect(f"{url}/ws", origin="http://good.example") as ws:  # type: ignore[arg-type]
                return refused.value.response.status_code, recv(ws)

        status, first = await in_thread(try_origins)
        assert status == 403
        assert first["event"] == "opend"
        assert await JOURNAL.wait_for("close") == [(None, "client close")]
        assert len(JOURNAL.items) == 1  # the refused page never opened a socket


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        ("x" * 2000, 1009, "message too big"),
        ("{not json", 1007, "invalid JSON"),
        ('["addUser", "bob"]', 1003, "expected {"),
        ('{"data": 1}', 1003, '"event" must be'),
        (b"\x00\x01", 1003, "binary messages are not supported"),
    ],
    ids=["oversized", "bad-json", "array", "no-event", "binary"],
)
async def test_bad_messages_close_with_a_code_and_a_reason(
    message: str | bytes, code: int, reason: str
) -> None:
    async with serving(make_app(maxPayload=1000)) as url:

        def bad_then_good() -> tuple[tuple[int, str], dict[str, Any]]:
            with connect(f"{url}/ws") as good, connect(f"{url}/ws") as bad:
                recv(good), recv(good), recv(good)  # opend, joined, joined (bad's)
                recv(bad), recv(bad)
                bad.send(message)
                closing = closed_with(bad)
                send(good, "addUser", "still here")
                send(good, "say", "ok")
                return closing, recv(good)

        closing, after = await in_thread(bad_then_good)
        assert closing[0] == code
        assert closing[1].startswith(reason), closing
        assert after == {"event": "said", "data": {"from": "still here", "text": "ok"}}
        closes = await JOURNAL.wait_for("close")
        assert closes[0][1] == closing[1]  # the close action hears why


async def test_max_connections_refuses_the_next_client_with_503() -> None:
    async with serving(make_app(max_connections=1)) as url:

        def two_clients() -> tuple[int, str]:
            with connect(f"{url}/ws") as first:
                recv(first)
                with pytest.raises(InvalidStatus) as refused:
                    connect(f"{url}/ws")
                return refused.value.response.status_code, recv(first)["event"]

        assert await in_thread(two_clients) == (503, "joined")


async def test_plain_http_and_other_paths_are_refused() -> None:
    import httpx

    async with serving(make_app()) as url:
        base = url.replace("ws://", "http://")
        async with httpx.AsyncClient(base_url=base) as http:
            plain = await http.get("/ws")
            assert plain.status_code == 426
            assert plain.headers["upgrade"] == "websocket"
            assert (await http.get("/ws/deeper")).status_code == 404
            assert (await http.get("/socket.io/?EIO=4&transport=polling")).status_code == 404
            settings = await http.get("/thinkio.json")
            assert settings.json() == {"type": "ws", "path": "/ws"}


async def test_shutdown_closes_clients_with_1001_and_runs_close() -> None:
    app = make_app()
    got: list[tuple[int, str]] = []
    opened = anyio.Event()
    async with anyio.create_task_group() as tg:
        global JOURNAL
        JOURNAL = Journal()
        bound = await tg.start(app.serve, "127.0.0.1", 0)

        def client() -> None:
            with connect(f"ws://127.0.0.1:{bound.port}/ws") as ws:
                recv(ws)
                anyio.from_thread.run_sync(opened.set)
                got.append(closed_with(ws))

        tg.start_soon(in_thread, client)
        with anyio.fail_after(TIMEOUT):
            await opened.wait()
        await app.shutdown(timeout=2)
    assert got == [(1001, "server shutting down")]
    assert JOURNAL.items == [("close", (None, "server shutting down"))]
