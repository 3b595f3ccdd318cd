"""maxHttpBufferSize / maxPayload = 1 000 000 bytes (PROTOCOL.md 1.4, 1.9).

A POST body over the limit → 413 and the session stays usable; a WebSocket message over the
limit → close 1009. Exactly the limit is accepted on both.
"""

from __future__ import annotations

import httpx

from ._client import MAX_PAYLOAD, Polling, open_eio_websocket
from ._target import Target

MOUNT = "/engine.io/"


def test_polling_post_at_limit_accepted(http: httpx.Client) -> None:
    polling = Polling(http, MOUNT)
    polling.handshake()
    body = "4" + "a" * (MAX_PAYLOAD - 1)
    assert len(body.encode()) == MAX_PAYLOAD
    polling.post_ok([body])
    assert polling.collect(1, timeout=5) == [body]


def test_polling_post_over_limit_413_session_usable(http: httpx.Client) -> None:
    polling = Polling(http, MOUNT)
    polling.handshake()
    response = polling.post("4" + "a" * MAX_PAYLOAD, timeout=5)
    assert response.status_code == 413
    polling.post_ok(["4after"])
    assert polling.collect(1) == ["4after"]


def test_polling_post_over_limit_counts_bytes_not_characters(http: httpx.Client) -> None:
    """The limit is in bytes: 500 001 two-byte characters are over it."""
    polling = Polling(http, MOUNT)
    polling.handshake()
    body = "4" + "é" * (MAX_PAYLOAD // 2)
    assert len(body) < MAX_PAYLOAD < len(body.encode())
    assert polling.post(body, timeout=5).status_code == 413
    polling.post_ok(["4after"])
    assert polling.collect(1) == ["4after"]


def test_websocket_message_at_limit_accepted(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        text = "4" + "a" * (MAX_PAYLOAD - 1)
        ws.send(text)
        assert ws.recv_skipping_pings(timeout=5) == text
        data = bytes(MAX_PAYLOAD)
        ws.send(data)
        assert ws.recv_skipping_pings(timeout=5) == data


def test_websocket_text_over_limit_closes_1009(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("4" + "a" * MAX_PAYLOAD)
        ws.wait_closed(timeout=2)
        assert ws.close_code == 1009


def test_websocket_binary_over_limit_closes_1009(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(bytes(MAX_PAYLOAD + 1))
        ws.wait_closed(timeout=2)
        assert ws.close_code == 1009
