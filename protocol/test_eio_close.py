"""Closing a session (PROTOCOL.md 1.4, 1.7).

Official cases: "close / ..." of both suites, on each mount.
"""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from ._client import PING_INTERVAL, Polling, open_eio_websocket, open_websocket, query
from ._official import on_each_mount
from ._target import Target

# ---------------------------------------------------------------------------- HTTP long-polling


@on_each_mount(
    "close / HTTP long-polling / forcefully closes the session",
    "Engine.IO protocol / close / HTTP long-polling / should forcefully close the session",
)
def test_polling_close_packet_answers_pending_get_with_noop(http: httpx.Client, mount: str) -> None:
    """POST ``1`` while a GET is pending: the GET gets ``6`` (noop), then the sid is unknown.

    The official suite sends both requests at once and depends on which one the server sees
    first; here the GET is made pending first, which is the case it means to test.
    """
    polling = Polling(http, mount)
    polling.handshake()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(polling.get)
        time.sleep(0.05)
        post = polling.post("1")
        response = pending.result(timeout=2)
    assert post.status_code == 200
    assert (response.status_code, response.text) == (200, "6")
    after = polling.get()
    assert after.status_code == 400
    assert after.json() == {"code": 1, "message": "Session ID unknown"}


def test_polling_close_packet_without_pending_get(http: httpx.Client) -> None:
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    assert polling.post("1").status_code == 200
    assert polling.get().status_code == 400
    assert polling.post("4late").status_code == 400


def test_polling_close_packet_after_messages(http: httpx.Client) -> None:
    """Packets before ``1`` in the same payload are still processed; then the session ends."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    assert polling.post("4a\x1e1").status_code == 200
    response = polling.get()
    # The echo of 4a may or may not make it out before the session ends; the session ends.
    if response.status_code == 200:
        assert polling.get().status_code == 400
    else:
        assert response.status_code == 400


# ------------------------------------------------------------------------------------ WebSocket


@on_each_mount(
    "close / WebSocket / forcefully closes the session",
    "Engine.IO protocol / close / WebSocket / should forcefully close the session",
)
def test_websocket_close_packet_ends_session(server: Target, mount: str) -> None:
    # Node ignores the 1 and only ends the session at the ping timeout (PROTOCOL.md 1.7), which
    # is all the official suite checks; test_websocket_close_packet_ends_session_at_once is
    # the stricter requirement.
    ws, _ = open_eio_websocket(server.url, mount)
    with ws:
        ws.send("1")
        ws.wait_closed(timeout=1.5)


@pytest.mark.requires("ws-close-packet")
def test_websocket_close_packet_ends_session_at_once(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, "/engine.io/")
    with ws:
        start = time.monotonic()
        ws.send("1")
        received = ws.wait_closed(timeout=1.0)
        elapsed = time.monotonic() - start
    assert elapsed < PING_INTERVAL, f"closed only after {elapsed:.3f} s"
    assert "2" not in received


def test_websocket_dropped_connection_ends_session(server: Target, http: httpx.Client) -> None:
    """A session upgraded to WebSocket ends when its WebSocket goes away (PROTOCOL.md 1.7).

    While it lives, its sid over polling is a transport mismatch (code 3); once it is gone,
    the sid is unknown (code 1).
    """
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    ws = open_websocket(server.url, query("/engine.io/", "websocket", sid=polling.sid))
    ws.send("2probe")
    assert ws.recv() == "3probe"
    ws.send("5")
    ws.send("4up")
    assert ws.recv() == "4up"
    ws.close()
    deadline = time.monotonic() + 1.0
    while True:
        response = polling.get()
        assert response.status_code == 400
        if response.json() == {"code": 1, "message": "Session ID unknown"}:
            return
        assert time.monotonic() < deadline, "the session outlived its WebSocket"
        time.sleep(0.05)
