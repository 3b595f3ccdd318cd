"""One session's garbage never disturbs another live session (DESIGN.md "Bad input").

Two bystanders stay open through each kind of abuse: a Socket.IO session over WebSocket and an
Engine.IO session over long-polling. After the abuse both must still answer.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ._client import (
    MAX_PAYLOAD,
    PH0,
    TIMEOUT,
    Closed,
    NoReply,
    Polling,
    WebSocket,
    open_eio_websocket,
    open_websocket,
    query,
    sio_connect,
)
from ._target import Target


class Bystanders:
    """Two live sessions whose pings are answered in the background while the abuse runs."""

    def __init__(self, ws: WebSocket, polling: Polling) -> None:
        self.ws = ws
        self.polling = polling
        self.unexpected: list[object] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve_ws, daemon=True),
            threading.Thread(target=self._serve_polling, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _serve_ws(self) -> None:
        while not self._stop.is_set():
            try:
                message = self.ws.recv(timeout=0.05)
            except NoReply:
                continue
            except Closed as closed:
                self.unexpected.append(closed)
                return
            if message == "2":
                self.ws.send("3")
            else:
                self.unexpected.append(message)

    def _serve_polling(self) -> None:
        while not self._stop.is_set():
            try:
                packets = self.polling.get_packets()  # held until the next ping at the latest
            except (AssertionError, httpx.HTTPError) as exc:
                self.unexpected.append(exc)
                return
            for packet in packets:
                if packet == "2":
                    self.polling.post_ok(["3"])
                else:
                    self.unexpected.append(packet)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        assert not any(thread.is_alive() for thread in self._threads)

    def check(self) -> None:
        """Both sessions still work, and saw nothing but pings meanwhile."""
        self.stop()
        assert self.unexpected == [], f"a bystander saw {self.unexpected!r}"
        self.ws.send('42["message","still here"]')
        assert self.ws.recv_skipping_pings() == '42["message-back","still here"]'
        self.polling.post_ok(["4still here"])
        assert self.polling.collect(1) == ["4still here"]


@pytest.fixture
def bystanders(server: Target) -> Iterator[Bystanders]:
    with sio_connect(server.url) as ws, httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        polling = Polling(http, "/engine.io/")
        polling.handshake()
        bystanders = Bystanders(ws, polling)
        try:
            yield bystanders
        finally:
            bystanders.stop()


def ws_send_then_wait(server: Target, mount: str, *frames: str | bytes) -> None:
    ws, _ = open_eio_websocket(server.url, mount)
    with ws:
        if mount == "/socket.io/":
            ws.send("40")
        for frame in frames:
            ws.send(frame)
        ws.wait_closed(timeout=1.5)


def raw_bytes(server: Target, data: bytes) -> None:
    """Send ``data`` on a fresh TCP connection and read whatever comes back (bounded)."""
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=0.2) as sock:
        sock.sendall(data)
        with contextlib.suppress(OSError):
            sock.recv(65536)


def polling_abuse(server: Target, action: Callable[[httpx.Client, Polling], object]) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        victim = Polling(http, "/engine.io/")
        victim.handshake()
        action(http, victim)


def duplicate_gets(http: httpx.Client, polling: Polling) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(polling.get)
        time.sleep(0.05)
        polling.get()
        first.result(timeout=2)


def bad_upgrades(server: Target) -> None:
    for target in (
        query("/engine.io/", "websocket", sid="nope"),
        query("/engine.io/", "abc"),
        query("/socket.io/", "websocket", eio="abc"),
    ):
        with contextlib.suppress(Exception):
            open_websocket(server.url, target).close()


ABUSE: dict[str, Callable[[Target], None]] = {
    "eio-ws-parse-error": lambda s: ws_send_then_wait(s, "/engine.io/", "abc"),
    "eio-ws-client-ping": lambda s: ws_send_then_wait(s, "/engine.io/", "2"),
    "eio-ws-oversized": lambda s: ws_send_then_wait(s, "/engine.io/", bytes(MAX_PAYLOAD + 1)),
    "sio-ws-bad-type": lambda s: ws_send_then_wait(s, "/socket.io/", "4abc"),
    "sio-ws-bad-placeholder": lambda s: ws_send_then_wait(
        s, "/socket.io/", '451-["message",{"_placeholder":true,"num":9}]', b"x"
    ),
    "sio-ws-orphan-binary": lambda s: ws_send_then_wait(s, "/socket.io/", b"\x00"),
    "sio-ws-too-many-attachments": lambda s: ws_send_then_wait(
        s, "/socket.io/", f'4599-["message",{PH0}]'
    ),
    "polling-parse-error": lambda s: polling_abuse(s, lambda h, p: p.post("abc")),
    "polling-empty-post": lambda s: polling_abuse(s, lambda h, p: p.post("")),
    "polling-duplicate-get": lambda s: polling_abuse(s, duplicate_gets),
    "polling-oversized-post": lambda s: polling_abuse(
        s, lambda h, p: p.post("4" + "a" * MAX_PAYLOAD, timeout=5)
    ),
    "polling-octet-stream": lambda s: polling_abuse(
        s,
        lambda h, p: h.post(
            p.url(), content=b"\x00\x01", headers={"content-type": "application/octet-stream"}
        ),
    ),
    "bad-handshakes": lambda s: polling_abuse(
        s,
        lambda h, p: [
            h.get(query("/engine.io/", "polling", eio="abc")),
            h.post(query("/engine.io/", "polling")),
            h.get(query("/engine.io/", "polling", sid="nope")),
            h.get(query("/engine.io/", "websocket")),
        ],
    ),
    "bad-upgrades": bad_upgrades,
    "http-garbage": lambda s: raw_bytes(s, b"\x16\x03\x01\x02\x00garbage\r\n\r\n"),
    "http-bad-request-line": lambda s: raw_bytes(s, b"GET /engine.io/ HTTP/9.9 extra\r\n\r\n"),
    "http-half-request": lambda s: raw_bytes(s, b"POST /engine.io/?EIO=4&transport=polling"),
    "http-huge-header": lambda s: raw_bytes(
        s,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nhost: x\r\nx-big: "
        + b"a" * 200_000
        + b"\r\n\r\n",
    ),
}


@pytest.mark.parametrize("abuse", sorted(ABUSE))
def test_abuse_leaves_other_sessions_alone(
    server: Target, bystanders: Bystanders, abuse: str
) -> None:
    ABUSE[abuse](server)
    bystanders.check()


def test_bystander_sid_misused_by_someone_else(server: Target, http: httpx.Client) -> None:
    """Refused requests naming a live session's sid leave that session alone."""
    ws, handshake = open_eio_websocket(server.url, "/engine.io/")
    with ws:
        sid = handshake["sid"]
        assert http.get(query("/engine.io/", "polling", sid=sid)).status_code == 400
        assert http.post(query("/engine.io/", "polling", sid=sid), content="1").status_code == 400
        ws.send("4mine")
        assert ws.recv_skipping_pings() == "4mine"
