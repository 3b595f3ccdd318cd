"""thinkio's ASGIApp wrapping a Starlette app (``tests.asgi.apps:wrapped``) under uvicorn and
hypercorn (asyncio, trio): Socket.IO and Starlette's routes on one port, a Starlette route
emitting to the connected sockets, and the Engine.IO server's answers to bad input."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ..interop.harness import AsgiServerUnderTest
from .conftest import Listener

APP = "wrapped"


@pytest.mark.parametrize("mode", ["polling", "websocket", "upgrade"])
@pytest.mark.parametrize("client", ["python", "node"])
def test_a_starlette_route_emits_to_connected_clients(
    asgi_server: AsgiServerUnderTest, listeners: list[Listener], client: str, mode: str
) -> None:
    listener = Listener(client, asgi_server.url, "/socket.io", mode)
    listeners.append(listener)
    hello = listener.next()
    assert hello["transport"] == ("polling" if mode == "polling" else "websocket")
    body = {"text": "hé ✓", "n": [1, 2.5, None]}
    reply = httpx.post(asgi_server.url + "/notify", json=body, timeout=5)
    assert reply.status_code == 200
    assert reply.json()["sent"] >= 1
    event = listener.next()
    assert event["args"] == [body]
    assert event["transport"] == hello["transport"]


def test_other_paths_reach_the_wrapped_app(asgi_server: AsgiServerUnderTest) -> None:
    assert httpx.get(asgi_server.url + "/hello", timeout=5).text == "hello"
    assert httpx.get(asgi_server.url + "/nowhere", timeout=5).status_code == 404


def test_polling_errors_are_engine_io_json(asgi_server: AsgiServerUnderTest) -> None:
    url = asgi_server.url + "/socket.io/"
    unknown = httpx.get(url, params={"EIO": "4", "transport": "polling", "sid": "nope"}, timeout=5)
    assert unknown.status_code == 400
    assert unknown.json() == {"code": 1, "message": "Session ID unknown"}
    version = httpx.get(url, params={"EIO": "9", "transport": "polling"}, timeout=5)
    assert version.status_code == 400
    assert version.json()["code"] == 5


def test_a_preflight_gets_cors_headers(asgi_server: AsgiServerUnderTest) -> None:
    reply = httpx.options(
        asgi_server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"origin": "http://example.test", "access-control-request-method": "POST"},
        timeout=5,
    )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == "*"  # Node's default: any origin
    assert "POST" in reply.headers["access-control-allow-methods"]


def test_a_polling_body_over_the_limit_is_413(asgi_server: AsgiServerUnderTest) -> None:
    url = asgi_server.url + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(httpx.get(url, timeout=5).text[1:])["sid"]
    reply = httpx.post(f"{url}&sid={sid}", content=b"4" + b"x" * 1_000_001, timeout=5)
    assert reply.status_code == 413


def test_a_websocket_message_over_the_limit_closes_with_1009(
    asgi_server: AsgiServerUnderTest,
) -> None:
    ws_url = asgi_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    with connect(ws_url, open_timeout=5, max_size=None) as ws:
        opening = ws.recv(timeout=5)
        assert isinstance(opening, str) and opening.startswith("0{")
        ws.send("4" + "x" * 1_000_001)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_second_websocket_for_a_session_is_refused(asgi_server: AsgiServerUnderTest) -> None:
    ws_url = asgi_server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    with connect(ws_url, open_timeout=5) as first:
        sid = json.loads(str(first.recv(timeout=5))[1:])["sid"]
        first.send("40")
        assert str(first.recv(timeout=5)).startswith("40{")
        refused = False
        try:
            with connect(f"{ws_url}&sid={sid}", open_timeout=5) as second:
                second.recv(timeout=5)
        except ConnectionClosed:
            refused = True  # accepted, then closed at once
        except InvalidStatus as exc:
            refused = exc.response.status_code in (400, 403)  # refused at the handshake
        assert refused
        # The session the intruder named is undisturbed.
        first.send('42["echo","still here"]')
        assert first.recv(timeout=5) == '42["echo-back","still here"]'


def test_allow_request_refusals_are_answered(asgi_server: AsgiServerUnderTest) -> None:
    url = asgi_server.url + "/socket.io/?EIO=4&transport=polling&deny=1"
    polling = httpx.get(url, timeout=5)
    assert polling.status_code == 403
    assert polling.json() == {"code": 4, "message": "denied by allow_request"}
    ws_url = url.replace("http", "ws").replace("polling", "websocket")
    with pytest.raises(InvalidStatus) as refused, connect(ws_url, open_timeout=5):
        pass
    assert refused.value.response.status_code == 403
