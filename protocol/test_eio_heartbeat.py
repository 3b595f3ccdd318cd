"""Heartbeat (PROTOCOL.md 1.5): the server pings every 300 ms and gives up 200 ms later.

Official cases: "heartbeat / ..." of both suites, on each mount.
"""

from __future__ import annotations

import time

import httpx

from ._client import (
    PING_INTERVAL,
    PING_TIMEOUT,
    TIMER_SLACK,
    Closed,
    NoReply,
    Polling,
    open_eio_websocket,
)
from ._official import on_each_mount
from ._target import Target

# ---------------------------------------------------------------------------- HTTP long-polling


@on_each_mount(
    "heartbeat / HTTP long-polling / sends ping/pong packets",
    "Engine.IO protocol / heartbeat / HTTP long-polling / should send ping/pong packets",
)
def test_polling_ping_pong(http: httpx.Client, mount: str) -> None:
    polling = Polling(http, mount)
    polling.handshake()
    for _ in range(3):
        response = polling.get()
        assert (response.status_code, response.text) == (200, "2")
        assert polling.post("3").status_code == 200


@on_each_mount(
    "heartbeat / HTTP long-polling / closes the session upon ping timeout",
    "Engine.IO protocol / heartbeat / HTTP long-polling / should close the session upon ping"
    " timeout",
)
def test_polling_ping_timeout(http: httpx.Client, mount: str) -> None:
    polling = Polling(http, mount)
    polling.handshake()
    # What the official suites do: pingInterval + pingTimeout after the handshake, the session
    # must be gone (PROTOCOL.md 1.5: no extra grace), give or take late timers.
    time.sleep(PING_INTERVAL + PING_TIMEOUT + TIMER_SLACK)
    assert polling.get().status_code == 400


def test_polling_first_ping_comes_after_ping_interval(http: httpx.Client) -> None:
    """The first ping is sent ~pingInterval after the handshake, neither early nor late."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    start = time.monotonic()
    response = polling.get()
    elapsed = time.monotonic() - start
    assert response.text == "2"
    assert 0.2 <= elapsed <= 0.6, f"first ping after {elapsed:.3f} s (pingInterval is 0.3 s)"


def test_polling_pong_keeps_session_alive(http: httpx.Client) -> None:
    """Answered pings keep a session alive well past pingInterval + pingTimeout."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    deadline = time.monotonic() + 1.2
    pings = 0
    while time.monotonic() < deadline:
        packets = polling.get_packets()
        assert packets == ["2"]
        pings += 1
        polling.post_ok(["3"])
    assert pings >= 3
    polling.post_ok(["4alive"])
    assert polling.get_packets() == ["4alive"]


# ------------------------------------------------------------------------------------ WebSocket


@on_each_mount(
    "heartbeat / WebSocket / sends ping/pong packets",
    "Engine.IO protocol / heartbeat / WebSocket / should send ping/pong packets",
)
def test_websocket_ping_pong(server: Target, mount: str) -> None:
    ws, _ = open_eio_websocket(server.url, mount)
    with ws:
        for _ in range(3):
            assert ws.recv() == "2"
            ws.send("3")


@on_each_mount(
    "heartbeat / WebSocket / closes the session upon ping timeout",
    "Engine.IO protocol / heartbeat / WebSocket / should close the session upon ping timeout",
)
def test_websocket_ping_timeout(server: Target, mount: str) -> None:
    ws, _ = open_eio_websocket(server.url, mount)
    start = time.monotonic()
    with ws:
        received = ws.wait_closed(timeout=1.5)
    elapsed = time.monotonic() - start
    assert received == ["2"], f"expected one unanswered ping before the close: {received!r}"
    assert elapsed >= PING_INTERVAL + PING_TIMEOUT - 0.05, f"closed too early ({elapsed:.3f} s)"


def test_websocket_messages_are_no_pong(server: Target) -> None:
    """Only a pong answers a ping: a session that keeps sending messages still times out.

    Node refreshes the pong deadline once when another packet comes in meanwhile
    (PROTOCOL.md 1.5), so allow one extra pingTimeout: gone within about 0.7 s; 1.5 s here.
    """
    ws, _ = open_eio_websocket(server.url, "/engine.io/")
    with ws:
        deadline = time.monotonic() + 1.5
        while not ws.closed and time.monotonic() < deadline:
            ws.send("4tick")
            try:
                while True:
                    ws.recv(timeout=0.05)
            except (NoReply, Closed):
                pass
        assert ws.closed, "the session outlived pingInterval + 2 * pingTimeout without a pong"
