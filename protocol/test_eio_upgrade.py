"""Upgrade from long-polling to WebSocket (PROTOCOL.md 1.6).

Official cases: "upgrade / ..." of both suites, on each mount. After each upgrade this suite
also checks that the session really lives on the WebSocket: an echo on ``/engine.io/``, a
Socket.IO CONNECT on ``/socket.io/``.
"""

from __future__ import annotations

import concurrent.futures
import time

import httpx

from ._client import (
    NoReply,
    Polling,
    UpgradeRefused,
    WebSocket,
    connect_reply_sid,
    open_websocket,
    query,
)
from ._official import on_each_mount
from ._target import Target


def check_alive(ws: WebSocket, mount: str) -> None:
    """The session answers over ``ws`` (pings on the way are answered)."""
    if mount == "/engine.io/":
        ws.send("4hello")
        assert ws.recv_skipping_pings() == "4hello"
    else:
        ws.send("40")
        connect_reply_sid(ws.recv_skipping_pings(), "40")
        assert ws.recv_skipping_pings() == '42["auth",{}]'


def probe(server: Target, polling: Polling) -> WebSocket:
    """Open the upgrade WebSocket for ``polling``'s session and do the 2probe/3probe step."""
    ws = open_websocket(server.url, query(polling.mount, "websocket", sid=polling.sid))
    ws.send("2probe")
    assert ws.recv() == "3probe"
    return ws


def upgrade(server: Target, polling: Polling) -> WebSocket:
    """Upgrade ``polling``'s session completely, and prove the server has seen the ``5``."""
    ws = probe(server, polling)
    ws.send("5")
    check_alive(ws, polling.mount)
    return ws


@on_each_mount(
    "upgrade / successfully upgrades from HTTP long-polling to WebSocket",
    "Engine.IO protocol / upgrade / should successfully upgrade from HTTP long-polling to"
    " WebSocket",
)
def test_upgrade(server: Target, http: httpx.Client, mount: str) -> None:
    polling = Polling(http, mount)
    polling.handshake()
    with probe(server, polling) as ws:
        # A GET made while the upgrade is pending is answered with a noop at once.
        start = time.monotonic()
        response = polling.get()
        assert (response.status_code, response.text) == (200, "6")
        assert time.monotonic() - start < 0.25, "the noop must come promptly"
        ws.send("5")
        check_alive(ws, mount)


def test_upgrade_releases_pending_get_with_noop(server: Target, http: httpx.Client) -> None:
    """A GET already pending when the probe succeeds is released with ``6``."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(polling.get)
        time.sleep(0.05)
        with probe(server, polling) as ws:
            response = pending.result(timeout=1)
            assert (response.status_code, response.text) == (200, "6")
            ws.send("5")
            check_alive(ws, "/engine.io/")


def test_upgrade_flushes_buffered_packets_on_websocket(server: Target, http: httpx.Client) -> None:
    """What the server queued while the upgrade was pending goes out on the WebSocket."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    with probe(server, polling) as ws:
        polling.post_ok(["4queued"])  # polling is still the active transport; echo is queued
        ws.send("5")
        assert ws.recv_skipping_pings() == "4queued"
        check_alive(ws, "/engine.io/")


@on_each_mount(
    "upgrade / ignores HTTP requests with same sid after upgrade",
    "Engine.IO protocol / upgrade / should ignore HTTP requests with same sid after upgrade",
)
def test_polling_after_upgrade_refused(server: Target, http: httpx.Client, mount: str) -> None:
    polling = Polling(http, mount)
    polling.handshake()
    with upgrade(server, polling) as ws:
        response = polling.get()
        assert response.status_code == 400
        assert response.json() == {"code": 3, "message": "Bad request"}
        post = polling.post("4hello")
        assert post.status_code == 400
        if mount == "/engine.io/":
            check_alive(ws, mount)
        else:
            ws.send('42["message","still here"]')
            assert ws.recv_skipping_pings() == '42["message-back","still here"]'


def assert_second_websocket_refused(server: Target, polling: Polling) -> None:
    """A second WebSocket for the session is refused, or closed without a single packet."""
    target = query(polling.mount, "websocket", sid=polling.sid)
    try:
        second = open_websocket(server.url, target)
    except UpgradeRefused as refusal:
        assert 400 <= refusal.status < 500
        return
    with second:
        if not second.closed:  # the close may have come with the 101
            second.send("2probe")
        received = second.wait_closed(timeout=1.0)
    assert received == [], f"the second WebSocket got {received!r}"


@on_each_mount(
    "upgrade / ignores WebSocket connection with same sid after upgrade",
    "Engine.IO protocol / upgrade / should ignore WebSocket connection with same sid after upgrade",
)
def test_second_websocket_after_upgrade_refused(
    server: Target, http: httpx.Client, mount: str
) -> None:
    polling = Polling(http, mount)
    polling.handshake()
    with upgrade(server, polling) as ws:
        assert_second_websocket_refused(server, polling)
        if mount == "/engine.io/":
            check_alive(ws, mount)
        else:
            ws.send('42["message","still here"]')
            assert ws.recv_skipping_pings() == '42["message-back","still here"]'


def test_second_websocket_during_upgrade_refused(server: Target, http: httpx.Client) -> None:
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    with probe(server, polling) as ws:
        assert_second_websocket_refused(server, polling)
        ws.send("5")
        check_alive(ws, "/engine.io/")


def test_bad_probe_closes_probe_socket_only(server: Target, http: httpx.Client) -> None:
    """Anything but ``2probe``/``5`` on the probe socket closes it; polling carries on."""
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    ws = open_websocket(server.url, query("/engine.io/", "websocket", sid=polling.sid))
    with ws:
        ws.send("4hello")
        ws.wait_closed(timeout=1.0)
    polling.post_ok(["4polling"])
    assert polling.collect(1) == ["4polling"]


def test_upgrade_refused_for_unknown_or_closed_sid(server: Target, http: httpx.Client) -> None:
    polling = Polling(http, "/engine.io/")
    polling.handshake()
    assert polling.post("1").status_code == 200
    for sid in (polling.sid, "unknown-sid"):
        try:
            ws = open_websocket(server.url, query("/engine.io/", "websocket", sid=sid))
        except UpgradeRefused as refusal:
            assert refusal.status == 400
        except NoReply:
            raise AssertionError(f"no HTTP answer to an upgrade with sid {sid!r}") from None
        else:
            ws.close()
            raise AssertionError(f"upgrade with a dead sid {sid!r} got 101")
