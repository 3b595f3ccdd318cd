"""Engine.IO handshake, over polling and WebSocket (PROTOCOL.md 1.1, 1.3, 1.8).

Official cases: "handshake / ..." of both suites, on each mount.
"""

from __future__ import annotations

import httpx
import pytest

from ._client import (
    MAX_PAYLOAD,
    NoReply,
    UpgradeRefused,
    decode_payload,
    open_websocket,
    parse_open,
    query,
    refused_websocket,
)
from ._official import on_each_mount
from ._target import Target

HANDSHAKE_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}


def check_open(value: dict[str, object], upgrades: list[str]) -> None:
    assert set(value) == HANDSHAKE_KEYS, f"handshake keys must be exactly {HANDSHAKE_KEYS}"
    assert isinstance(value["sid"], str) and value["sid"], "sid must be a non-empty string"
    assert value["upgrades"] == upgrades
    assert value["pingInterval"] == 300
    assert value["pingTimeout"] == 200
    assert value["maxPayload"] == MAX_PAYLOAD


# ---------------------------------------------------------------------------- HTTP long-polling


@on_each_mount(
    "handshake / HTTP long-polling / successfully opens a session",
    "Engine.IO protocol / handshake / HTTP long-polling / should successfully open a session",
)
def test_handshake_polling_opens_a_session(http: httpx.Client, mount: str) -> None:
    response = http.get(query(mount, "polling"))
    assert response.status_code == 200
    assert response.text.startswith("0")
    check_open(parse_open(response.text), ["websocket"])
    # PROTOCOL.md 1.1: a data response is text/plain and must not be cached.
    assert response.headers["content-type"].lower().startswith("text/plain")
    assert "no-store" in response.headers.get("cache-control", "")


def test_handshake_polling_sids_are_distinct(http: httpx.Client) -> None:
    sids = {parse_open(http.get(query("/engine.io/", "polling")).text)["sid"] for _ in range(5)}
    assert len(sids) == 5


@on_each_mount(
    "handshake / HTTP long-polling / fails with an invalid 'EIO' query parameter",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid 'EIO'"
    " query parameter",
)
@pytest.mark.parametrize("eio", [None, "abc"], ids=["missing", "abc"])
def test_handshake_polling_invalid_eio(http: httpx.Client, mount: str, eio: str | None) -> None:
    assert http.get(query(mount, "polling", eio=eio)).status_code == 400


@on_each_mount(
    "handshake / HTTP long-polling / fails with an invalid 'transport' query parameter",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid"
    " 'transport' query parameter",
)
@pytest.mark.parametrize("transport", [None, "abc"], ids=["missing", "abc"])
def test_handshake_polling_invalid_transport(
    http: httpx.Client, mount: str, transport: str | None
) -> None:
    assert http.get(query(mount, transport)).status_code == 400


@on_each_mount(
    "handshake / HTTP long-polling / fails with an invalid request method",
    "Engine.IO protocol / handshake / HTTP long-polling / should fail with an invalid request"
    " method",
)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_handshake_polling_invalid_method(http: httpx.Client, mount: str, method: str) -> None:
    assert http.request(method, query(mount, "polling")).status_code == 400


# ------------------------------------------------------------------------------------ WebSocket


@on_each_mount(
    "handshake / WebSocket / successfully opens a session",
    "Engine.IO protocol / handshake / WebSocket / should successfully open a session",
)
def test_handshake_websocket_opens_a_session(server: Target, mount: str) -> None:
    with open_websocket(server.url, query(mount, "websocket")) as ws:
        first = ws.recv()
        assert isinstance(first, str) and first.startswith("0")
        check_open(parse_open(first), [])


BAD_EIO = [None, "abc", "5"]
BAD_EIO_IDS = ["missing", "abc", "5"]


@on_each_mount(
    "handshake / WebSocket / fails with an invalid 'EIO' query parameter",
    "Engine.IO protocol / handshake / WebSocket / should fail with an invalid 'EIO' query"
    " parameter",
)
@pytest.mark.parametrize("eio", BAD_EIO, ids=BAD_EIO_IDS)
def test_handshake_websocket_invalid_eio_opens_no_session(
    server: Target, mount: str, eio: str | None
) -> None:
    """The official check, with the close awaited: no session may open (README: "MUST close").

    Either the upgrade is refused, or the WebSocket is closed without an open packet.
    """
    try:
        ws = open_websocket(server.url, query(mount, "websocket", eio=eio))
    except UpgradeRefused as refusal:
        assert 400 <= refusal.status < 500, f"refused with {refusal.status}, expected a 4xx"
        return
    except NoReply:
        return  # the server dropped the connection: no session either
    with ws:
        received = ws.wait_closed(timeout=1.0)
    assert not any(isinstance(m, str) and m.startswith("0") for m in received), (
        f"a session was opened: {received!r}"
    )


@pytest.mark.requires("ws-refuses-before-upgrade")
@on_each_mount(None, None)
@pytest.mark.parametrize("eio", BAD_EIO, ids=BAD_EIO_IDS)
def test_handshake_websocket_invalid_eio_refused_before_upgrade(
    server: Target, mount: str, eio: str | None
) -> None:
    refusal = refused_websocket(server.url, query(mount, "websocket", eio=eio))
    assert refusal.status == 400


@on_each_mount(
    "handshake / WebSocket / fails with an invalid 'transport' query parameter",
    "Engine.IO protocol / handshake / WebSocket / should fail with an invalid 'transport'"
    " query parameter",
)
@pytest.mark.parametrize("transport", [None, "abc"], ids=["missing", "abc"])
def test_handshake_websocket_invalid_transport_refused_before_upgrade(
    server: Target, mount: str, transport: str | None
) -> None:
    refusal = refused_websocket(server.url, query(mount, transport))
    assert refusal.status == 400


def test_handshake_websocket_transport_without_upgrade_headers(http: httpx.Client) -> None:
    """A plain GET with transport=websocket: 400 (code 3 body: see test_eio_errors)."""
    response = http.get(query("/engine.io/", "websocket"))
    assert response.status_code == 400


def test_handshake_polling_then_data_is_text_plain(http: httpx.Client) -> None:
    """POST is acknowledged with 200 ``ok``; a GET payload is text/plain (PROTOCOL.md 1.1)."""
    response = http.get(query("/engine.io/", "polling"))
    sid = parse_open(response.text)["sid"]
    post = http.post(query("/engine.io/", "polling", sid=sid), content="4x")
    assert (post.status_code, post.text) == (200, "ok")
    get = http.get(query("/engine.io/", "polling", sid=sid))
    assert get.status_code == 200
    assert get.headers["content-type"].lower().startswith("text/plain")
    assert decode_payload(get.text) == ["4x"]
