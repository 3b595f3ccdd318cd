"""Engine.IO messages on the echo mount ``/engine.io/`` (PROTOCOL.md 1.2, 1.4, 5.2).

Official cases: engine.io "message / ...". Also binary both ways over polling and several
packets per WebSocket read.
"""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from ._client import (
    Polling,
    decode_payload,
    open_eio_websocket,
    query,
)
from ._official import official
from ._target import Target

MOUNT = "/engine.io/"


@pytest.fixture
def polling(http: httpx.Client) -> Polling:
    session = Polling(http, MOUNT)
    session.handshake()
    return session


# ---------------------------------------------------------------------------- HTTP long-polling


@official(
    "engine.io",
    "message / HTTP long-polling / sends and receives a payload containing one plain text packet",
)
def test_polling_one_text_packet(polling: Polling) -> None:
    response = polling.post("4hello")
    assert (response.status_code, response.text) == (200, "ok")
    response = polling.get()
    assert (response.status_code, response.text) == (200, "4hello")


@official(
    "engine.io",
    "message / HTTP long-polling / sends and receives a payload containing several plain"
    " text packets",
)
def test_polling_several_text_packets(polling: Polling) -> None:
    response = polling.post("4test1\x1e4test2\x1e4test3")
    assert (response.status_code, response.text) == (200, "ok")
    response = polling.get()
    assert (response.status_code, response.text) == (200, "4test1\x1e4test2\x1e4test3")


@official(
    "engine.io",
    "message / HTTP long-polling / sends and receives a payload containing plain text and"
    " binary packets",
)
def test_polling_text_and_binary_packets(polling: Polling) -> None:
    response = polling.post("4hello\x1ebAQIDBA==")
    assert (response.status_code, response.text) == (200, "ok")
    response = polling.get()
    assert (response.status_code, response.text) == (200, "4hello\x1ebAQIDBA==")


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", bytes(range(256)), b"\xff" * 1000],
    ids=["empty", "nul", "all-bytes", "1000xff"],
)
def test_polling_binary_is_base64_both_ways(polling: Polling, data: bytes) -> None:
    """A binary packet travels as ``b<base64>`` both ways (PROTOCOL.md 1.2)."""
    polling.post_ok([data])
    response = polling.get()
    assert response.status_code == 200
    assert response.headers["content-type"].lower().startswith("text/plain")
    assert response.text.startswith("b"), f"binary echo must be b<base64>: {response.text!r}"
    assert decode_payload(response.text) == [data]


def test_polling_unicode_text(polling: Polling) -> None:
    """Text is UTF-8 on the wire; characters outside the BMP survive (PROTOCOL.md notation)."""
    polling.post_ok(["4héllo wörld 😀"])
    assert polling.get_packets() == ["4héllo wörld 😀"]


def test_polling_pending_get_receives_message(polling: Polling) -> None:
    """A GET held open by the server is answered as soon as something is sent."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(polling.get)
        time.sleep(0.05)
        polling.post_ok(["4late"])
        response = pending.result(timeout=2)
    assert (response.status_code, response.text) == (200, "4late")


@official(
    "engine.io", "message / HTTP long-polling / closes the session upon invalid packet format"
)
def test_polling_invalid_packet_closes_session(polling: Polling) -> None:
    polling.post("abc")
    assert polling.get().status_code == 400


@pytest.mark.requires("post-parse-error-400")
def test_polling_invalid_packet_post_answered_400(polling: Polling) -> None:
    assert polling.post("abc").status_code == 400
    assert polling.get().status_code == 400


@pytest.mark.parametrize(
    "body",
    ["", "4a\x1e\x1e4b", "7", "4a\x1ezz"],
    ids=["empty", "empty-packet", "unknown-type", "second-packet-bad"],
)
def test_polling_other_invalid_payloads_close_session(polling: Polling, body: str) -> None:
    """Any parse error closes the session (PROTOCOL.md 1.2), an empty body included."""
    polling.post(body)
    assert polling.get().status_code == 400


@official(
    "engine.io", "message / HTTP long-polling / closes the session upon duplicate poll requests"
)
def test_polling_duplicate_get_closes_session(polling: Polling) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(polling.get)
        time.sleep(0.05)  # let the first GET become the pending one
        second = polling.get()
        first_response = first.result(timeout=2)
    assert (first_response.status_code, first_response.text) == (200, "1")
    # PROTOCOL.md 1.4: 400 (engine.io 6.6); the official suite also accepts 500.
    assert second.status_code in (400, 500)
    assert polling.get().status_code == 400


def test_polling_octet_stream_post_refused(polling: Polling, http: httpx.Client) -> None:
    """A v4 POST with Content-Type application/octet-stream: 400 (PROTOCOL.md 1.2)."""
    response = http.post(
        polling.url(), content=b"4hello", headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 400


# ------------------------------------------------------------------------------------ WebSocket


@official("engine.io", "message / WebSocket / sends and receives a plain text packet")
def test_websocket_text_packet(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("4hello")
        assert ws.recv() == "4hello"


@official("engine.io", "message / WebSocket / sends and receives a binary packet")
def test_websocket_binary_packet(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(bytes([1, 2, 3, 4]))
        assert ws.recv() == bytes([1, 2, 3, 4])


def test_websocket_burst_keeps_every_frame_in_order(server: Target) -> None:
    """Twenty messages sent back to back come back, each in its own frame, in order."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        expected: list[str | bytes] = []
        for i in range(20):
            message: str | bytes = f"4m{i}" if i % 2 else bytes([i, 255 - i])
            ws.send(message)
            expected.append(message)
        assert [ws.recv() for _ in expected] == expected


@official("engine.io", "message / WebSocket / closes the session upon invalid packet format")
def test_websocket_invalid_packet_closes_session(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("abc")
        ws.wait_closed(timeout=1.0)


def test_websocket_client_ping_closes_session(server: Target) -> None:
    """A v4 client must not ping: ``2`` from the client ends the session (PROTOCOL.md 1.5)."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("2")
        ws.wait_closed(timeout=1.0)


def test_polling_client_ping_closes_session(polling: Polling) -> None:
    polling.post("2")
    assert polling.get().status_code == 400


def test_websocket_session_unknown_to_polling(server: Target, http: httpx.Client) -> None:
    """A WebSocket-only session's sid used over polling → 400 (PROTOCOL.md 1.8, code 3)."""
    ws, handshake = open_eio_websocket(server.url, MOUNT)
    with ws:
        response = http.get(query(MOUNT, "polling", sid=handshake["sid"]))
        assert response.status_code == 400
        ws.send("4still-here")
        assert ws.recv() == "4still-here"
