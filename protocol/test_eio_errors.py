"""Engine.IO error responses (PROTOCOL.md 1.8), on polling and on WebSocket upgrades.

Over HTTP, every refusal is ``application/json`` with the body exactly
``{"code":N,"message":"..."}`` and status 400 (403 for code 4). A refused WebSocket upgrade is
an HTTP 400 answer instead of the 101.
"""

from __future__ import annotations

import httpx
import pytest

from ._client import Polling, open_eio_websocket, query, refused_websocket
from ._target import Target

MESSAGES = {
    0: "Transport unknown",
    1: "Session ID unknown",
    2: "Bad handshake method",
    3: "Bad request",
    4: "Forbidden",
    5: "Unsupported protocol version",
}


def check_error(response: httpx.Response, code: int, *, status: int = 400) -> None:
    """``response`` is the Engine.IO error ``code``, byte for byte."""
    assert response.status_code == status, (
        f"expected HTTP {status}, got {response.status_code} {response.text!r}"
    )
    assert response.headers.get("content-type", "").lower().startswith("application/json")
    expected = f'{{"code":{code},"message":"{MESSAGES[code]}"}}'
    assert response.text == expected


# One case per line of the table in PROTOCOL.md 1.8 that a plain request can reach.
# (method, query arguments, code)
CASES = [
    pytest.param("GET", {"transport": None}, 0, id="0-transport-missing"),
    pytest.param("GET", {"transport": "abc"}, 0, id="0-transport-unknown"),
    pytest.param("GET", {"transport": "abc", "eio": "abc"}, 0, id="0-before-5"),
    pytest.param("GET", {"transport": "polling", "sid": "no-such-sid"}, 1, id="1-unknown-sid-get"),
    pytest.param(
        "POST", {"transport": "polling", "sid": "no-such-sid"}, 1, id="1-unknown-sid-post"
    ),
    pytest.param("POST", {"transport": "polling"}, 2, id="2-post-handshake"),
    pytest.param("PUT", {"transport": "polling"}, 2, id="2-put-handshake"),
    pytest.param("DELETE", {"transport": "polling"}, 2, id="2-delete-handshake"),
    pytest.param("GET", {"transport": "websocket"}, 3, id="3-websocket-without-upgrade"),
    pytest.param("GET", {"transport": "polling", "eio": None}, 5, id="5-eio-missing"),
    pytest.param("GET", {"transport": "polling", "eio": "abc"}, 5, id="5-eio-abc"),
    pytest.param("GET", {"transport": "polling", "eio": "5"}, 5, id="5-eio-5"),
]


@pytest.mark.parametrize("mount", ["/engine.io/", "/socket.io/"], ids=["engine.io", "socket.io"])
@pytest.mark.parametrize(("method", "args", "code"), CASES)
def test_error_body(
    http: httpx.Client, mount: str, method: str, args: dict[str, str | None], code: int
) -> None:
    eio = args.get("eio", "4")
    target = query(mount, args["transport"], sid=args.get("sid"), eio=eio)
    check_error(http.request(method, target), code)


def test_error_closed_sid(http: httpx.Client) -> None:
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    assert polling.post("1").status_code == 200
    check_error(polling.get(), 1)


def test_error_polling_on_websocket_session(server: Target, http: httpx.Client) -> None:
    """Code 3: a polling request for a sid whose transport is websocket."""
    ws, handshake = open_eio_websocket(server.url, "/engine.io/")
    with ws:
        check_error(http.get(query("/engine.io/", "polling", sid=handshake["sid"])), 3)
        check_error(
            http.post(query("/engine.io/", "polling", sid=handshake["sid"]), content="4x"), 3
        )


def test_error_eio_mismatch_with_sid(http: httpx.Client) -> None:
    """Code 3: a request whose EIO differs from the session's (checked before the version)."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    check_error(http.get(query("/engine.io/", "polling", sid=polling.sid, eio="3")), 3)


def test_error_forbidden(http: httpx.Client, server: Target, restricted: str) -> None:
    """Code 4: a handshake the server refuses (here, from an origin it does not allow).

    The message may be custom (PROTOCOL.md 1.8), so only its type is checked.
    """
    response = http.get(query(restricted, "polling"), headers={"origin": "http://evil.example"})
    assert response.status_code == 403
    assert response.headers.get("content-type", "").lower().startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == 4
    assert isinstance(body["message"], str) and body["message"]


def test_error_does_not_touch_the_session(http: httpx.Client) -> None:
    """Refused requests that name a live sid leave that session alone."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    check_error(http.get(query("/engine.io/", "polling", sid=polling.sid, eio="3")), 3)
    check_error(http.get(query("/engine.io/", "abc", sid=polling.sid)), 0)
    polling.post_ok(["4fine"])
    assert polling.get_packets() == ["4fine"]


# ----------------------------------------------------------------------- refused upgrades (1.8)


@pytest.mark.parametrize("mount", ["/engine.io/", "/socket.io/"], ids=["engine.io", "socket.io"])
@pytest.mark.parametrize(
    ("transport", "sid", "eio"),
    [
        pytest.param("websocket", "no-such-sid", "4", id="unknown-sid"),
        pytest.param(None, None, "4", id="transport-missing"),
        pytest.param("abc", None, "4", id="transport-unknown"),
    ],
)
def test_upgrade_refused(
    server: Target, mount: str, transport: str | None, sid: str | None, eio: str
) -> None:
    refusal = refused_websocket(server.url, query(mount, transport, sid=sid, eio=eio))
    assert refusal.status == 400


@pytest.mark.requires("ws-refuses-before-upgrade")
@pytest.mark.parametrize("mount", ["/engine.io/", "/socket.io/"], ids=["engine.io", "socket.io"])
def test_upgrade_refused_transport_polling(server: Target, mount: str) -> None:
    """An upgrade request that says transport=polling is no WebSocket handshake."""
    assert refused_websocket(server.url, query(mount, "polling")).status == 400


def test_upgrade_refused_eio_mismatch(server: Target, http: httpx.Client) -> None:
    """Upgrading a v4 session with EIO=3: 400 before the 101 (PROTOCOL.md 1.6)."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    refusal = refused_websocket(
        server.url, query("/engine.io/", "websocket", sid=polling.sid, eio="3")
    )
    assert refusal.status == 400
    polling.post_ok(["4fine"])
    assert polling.get_packets() == ["4fine"]
