"""What a controller can and cannot do on the plain types, the order and the bound of a
client's calls, connect middlewares, and SockJS's raw WebSocket; asyncio and trio."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import anyio
import anyio.to_thread
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from wsproto.events import TextMessage

from thinkio import App, ConnectRejected, Controller
from thinkio.errors import LocalProtocolError
from thinkio.plain import Envelope, EnvelopeError, encode_envelope

from .test_closing_handshake import raw_client, read_until_closed
from .test_ws_type import TIMEOUT, closed_with, recv, send, serving

pytestmark = pytest.mark.anyio

RELEASE: anyio.Event
DRAINED: anyio.Event
SEEN: list[Any] = []
CLOSED: list[str] = []


class RulesController(Controller):
    async def open_action(self) -> None:
        await self.emit("hello")  # no value: no "data" key

    async def misuse_action(self) -> None:
        errors = []
        for attempt in (
            lambda: self.join("room"),
            lambda: self.to("room"),
            lambda: self.websocket.emit_nowait("two", 1, 2),
        ):
            try:
                attempt()
            except LocalProtocolError as exc:
                errors.append(str(exc).split(":")[0])
        await self.emit("errors", errors)

    async def slow_action(self) -> None:
        SEEN.append(self.ws_data)
        await RELEASE.wait()

    def close_action(self) -> None:
        CLOSED.append(self.ws_data)

    def quick_action(self) -> None:
        SEEN.append(self.ws_data)
        if self.ws_data == 1024:  # the last call the socket's queue took
            DRAINED.set()


def app_with(**section: Any) -> App:
    messages = {
        "open": "/rules/open",
        "misuse": "/rules/misuse",
        "slow": "/rules/slow",
        "quick": "/rules/quick",
        "close": "/rules/close",
    }
    return App(
        {"websocket": {"type": "ws", "ws": {"messages": messages, **section}}},
        controllers={"rules": RulesController},
    )


def test_envelopes() -> None:
    assert encode_envelope("e", ()) == '{"event":"e"}'
    assert encode_envelope("e", ({"a": [1, 2.0]},)) == '{"event":"e","data":{"a":[1,2]}}'
    assert Envelope.decode('{"event": "x"}', max_depth=32) == Envelope("x", None)
    with pytest.raises(EnvelopeError) as deep:
        Envelope.decode('{"event": "x", "data": ' + "[" * 40 + "]" * 40 + "}", max_depth=32)
    assert deep.value.code == 1007
    with pytest.raises(EnvelopeError) as long_name:
        Envelope.decode(json.dumps({"event": "x" * 257}), max_depth=32)
    assert long_name.value.code == 1003


async def test_what_the_plain_types_refuse_to_do() -> None:
    async with serving(app_with()) as url:

        def run() -> list[dict[str, Any]]:
            with connect(f"{url}/ws") as ws:
                got = [recv(ws)]
                send(ws, "misuse", None)
                got.append(recv(ws))
                return got

        hello, errors = await anyio.to_thread.run_sync(run)
    assert hello == {"event": "hello"}
    assert errors == {
        "event": "errors",
        "data": [
            "rooms are a Socket.IO feature",
            "rooms are a Socket.IO feature",
            "emit('two', ...)",
        ],
    }


async def test_calls_run_in_order_and_a_flood_is_closed() -> None:
    global RELEASE, DRAINED
    RELEASE, DRAINED = anyio.Event(), anyio.Event()
    SEEN.clear()
    CLOSED.clear()
    async with serving(app_with()) as url:

        def flood() -> tuple[int, str]:
            with connect(f"{url}/ws") as ws:
                recv(ws)
                send(ws, "slow", 0)  # holds the socket's queue
                try:
                    for n in range(1, 1100):
                        send(ws, "quick", n)
                except ConnectionClosed:
                    pass  # closed while flooding
                return closed_with(ws)

        assert await anyio.to_thread.run_sync(flood) == (1008, "too many messages queued")
        RELEASE.set()
        with anyio.fail_after(TIMEOUT):
            await DRAINED.wait()
    # The slow call, then the 1024 queued behind it, in order; nothing after the bound.
    assert list(range(1025)) == SEEN
    assert CLOSED == ["too many messages queued"]  # close ran too, after them


async def test_a_flooding_client_that_goes_on_sending_still_gets_its_1008() -> None:
    """Closed at its 1025th call, it sends 300 more before it reads: the server reads and
    drops them until the client's close frame, then closes TCP; no reset."""
    global RELEASE, DRAINED
    RELEASE, DRAINED = anyio.Event(), anyio.Event()
    SEEN.clear()
    CLOSED.clear()
    async with serving(app_with()) as url:
        port = int(url.rsplit(":", 1)[1])

        def flood() -> tuple[int, str | None]:
            sock, ws = raw_client("127.0.0.1", port, "/ws")
            with sock:
                sock.sendall(ws.send(TextMessage('{"event": "slow", "data": 0}')))
                for n in range(1, 1325):
                    sock.sendall(ws.send(TextMessage(json.dumps({"event": "quick", "data": n}))))
                return read_until_closed(sock, ws)

        assert await anyio.to_thread.run_sync(flood) == (1008, "too many messages queued")
        RELEASE.set()
        with anyio.fail_after(TIMEOUT):
            await DRAINED.wait()
    assert list(range(1025)) == SEEN  # nothing sent after the close ran
    assert CLOSED == ["too many messages queued"]


async def test_a_connect_middleware_refuses_with_1008_and_its_message() -> None:
    def check_token(socket: Any) -> None:
        if socket.handshake.query.get("token") != "letmein":
            raise ConnectRejected("not authorized")

    app = App(
        {
            "middleware": [check_token],
            "websocket": {
                "type": "ws",
                "ws": {
                    "messages": {
                        "open": "/rules/open",
                        "quick": "/rules/quick",
                        "close": "/rules/close",
                    }
                },
            },
        },
        controllers={"rules": RulesController},
    )
    SEEN.clear()
    CLOSED.clear()
    async with serving(app) as url:

        def run() -> tuple[tuple[int, str], dict[str, Any]]:
            with connect(f"{url}/ws") as refused:
                with contextlib.suppress(ConnectionClosed):  # the refusal may come first
                    send(refused, "quick", "from a refused client")
                closing = closed_with(refused)
            with connect(f"{url}/ws?token=letmein") as ws:
                return closing, recv(ws)

        closing, hello = await anyio.to_thread.run_sync(run)
    assert closing == (1008, "not authorized")
    assert hello == {"event": "hello"}
    assert SEEN == []  # no action ran for the refused client
    assert CLOSED == ["client close"]  # the accepted one's close; the refused one has none


async def test_sockjs_serves_a_raw_websocket_of_envelopes() -> None:
    app = App(
        {"websocket": {"type": "sockjs", "sockjs": {"messages": {"open": "/rules/open"}}}},
        controllers={"rules": RulesController},
    )
    async with serving(app) as url:

        def run() -> dict[str, Any]:
            with connect(f"{url}/sockjs/websocket") as ws:
                return recv(ws)

        assert await anyio.to_thread.run_sync(run) == {"event": "hello"}
