"""Client side of the conformance suite: nothing here comes from thinkio.

* :class:`WebSocket`: a small blocking WebSocket client on a plain socket and ``wsproto``. It
  keeps **every** frame in a queue (PROTOCOL.md 5.3: frames that arrive in one TCP read must
  not be dropped), answers WebSocket-level pings, and reports how the server ended the
  connection.
* :func:`open_websocket` / :func:`refused_websocket`: the upgrade request, and its refusal.
* :class:`Polling`: one Engine.IO long-polling session over ``httpx`` (sync).
* Engine.IO payload codecs (PROTOCOL.md 1.2) and Socket.IO helpers (PROTOCOL.md 2).

Every wait is bounded: a server that stays silent fails the test with a :class:`NoReply`
(an ``AssertionError``) instead of hanging it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError as WsprotoRemoteProtocolError

#: Seconds to wait for something the server should send at once (or within one ping round).
TIMEOUT = 2.0

#: The timing every mount is configured with (PROTOCOL.md 5.2), in seconds.
PING_INTERVAL = 0.3
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000
#: Allowance for timers firing late. The official suites sleep exactly pingInterval +
#: pingTimeout and then expect the session gone; they pass against Node only because their
#: own request latency covers Node's timers, which fire 1-2 ms late (a pooled keep-alive
#: request is faster than that). 20 ms makes the same check without the race.
TIMER_SLACK = 0.02

#: Engine.IO record separator between the packets of a polling payload (PROTOCOL.md 1.2).
SEPARATOR = "\x1e"

#: A Socket.IO binary placeholder exactly as JSON.stringify writes it (PROTOCOL.md 2.1).
PH0 = '{"_placeholder":true,"num":0}'
PH1 = '{"_placeholder":true,"num":1}'

Frame = str | bytes


class NoReply(AssertionError):
    """The server did not send what was expected in time."""


class Closed(AssertionError):
    """The WebSocket is closed: nothing more will arrive on it."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"the WebSocket is closed (close code {code})")
        self.code = code


# --------------------------------------------------------------------------------------------
# Engine.IO payloads (PROTOCOL.md 1.2)


def encode_payload(packets: list[Frame]) -> str:
    """Join packets into one polling payload: text as is, bytes as ``b<base64>``."""
    parts = []
    for packet in packets:
        if isinstance(packet, bytes):
            parts.append("b" + base64.b64encode(packet).decode("ascii"))
        else:
            parts.append(packet)
    return SEPARATOR.join(parts)


def decode_payload(payload: str) -> list[Frame]:
    """Split a polling payload into packets; ``b<base64>`` packets become bytes."""
    packets: list[Frame] = []
    for part in payload.split(SEPARATOR):
        if part.startswith("b"):
            packets.append(base64.b64decode(part[1:], validate=True))
        else:
            packets.append(part)
    return packets


def parse_open(packet: Frame) -> dict[str, Any]:
    """Parse an Engine.IO ``open`` packet (``0{...}``) and return its JSON object."""
    assert isinstance(packet, str), f"expected an open packet, got binary {packet!r}"
    assert packet.startswith("0"), f"expected an open packet (0{{...}}), got {packet!r}"
    value = json.loads(packet[1:])
    assert isinstance(value, dict), f"open packet payload is not an object: {packet!r}"
    return value


def query(
    mount: str,
    transport: str | None,
    *,
    sid: str | None = None,
    eio: str | None = "4",
    extra: str = "",
) -> str:
    """Build ``<mount>?EIO=..&transport=..&sid=..`` (a parameter given as None is left out)."""
    params = []
    if eio is not None:
        params.append(f"EIO={eio}")
    if transport is not None:
        params.append(f"transport={transport}")
    if sid is not None:
        params.append(f"sid={sid}")
    if extra:
        params.append(extra)
    return f"{mount}?{'&'.join(params)}"


# --------------------------------------------------------------------------------------------
# WebSocket


@dataclass
class UpgradeRefused(Exception):
    """The server answered the upgrade request with something other than 101."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def __str__(self) -> str:
        return f"upgrade refused with HTTP {self.status}: {self.body[:200]!r}"


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname is not None, f"bad server URL {base_url!r}"
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def open_websocket(
    base_url: str,
    target: str,
    *,
    origin: str | None = None,
    timeout: float = TIMEOUT,
) -> WebSocket:
    """Open a WebSocket to ``target`` (path and query) on the server at ``base_url``.

    Raises:
        UpgradeRefused: the server answered with an HTTP status other than 101.
        NoReply: the server closed the connection or stayed silent without answering.
    """
    host, port = _address(base_url)
    sock = socket.create_connection((host, port), timeout=timeout)
    ws = WSConnection(ConnectionType.CLIENT)
    extra = [(b"origin", origin.encode("latin-1"))] if origin is not None else []
    try:
        sock.sendall(ws.send(Request(host=f"{host}:{port}", target=target, extra_headers=extra)))
        deadline = time.monotonic() + timeout
        refused: UpgradeRefused | None = None
        while True:
            data = _recv_until(sock, deadline, what=f"an answer to the upgrade of {target}")
            try:
                ws.receive_data(data or None)
            except WsprotoRemoteProtocolError as exc:
                raise NoReply(f"bad HTTP answer to the upgrade of {target}: {exc}") from exc
            events = list(ws.events())
            for i, event in enumerate(events):
                if isinstance(event, AcceptConnection):
                    client = WebSocket(sock, ws)
                    for later in events[i + 1 :]:
                        client._handle(later)
                    return client
                if isinstance(event, RejectConnection):
                    refused = UpgradeRefused(event.status_code, list(event.headers))
                    if not event.has_body:
                        raise refused
                elif isinstance(event, RejectData) and refused is not None:
                    refused.body += event.data
                    if event.body_finished:
                        raise refused
            if not data:
                if refused is not None:
                    raise refused
                raise NoReply(
                    f"the server closed the connection without answering the upgrade of {target}"
                )
    except BaseException:
        sock.close()
        raise


def refused_websocket(base_url: str, target: str, *, origin: str | None = None) -> UpgradeRefused:
    """Try to open a WebSocket that the server must refuse before upgrading.

    Returns:
        The refusal (its HTTP status, headers and body).

    Raises:
        AssertionError: the server accepted the upgrade (answered 101).
    """
    try:
        ws = open_websocket(base_url, target, origin=origin)
    except UpgradeRefused as refusal:
        return refusal
    ws.close()
    raise AssertionError(f"the server upgraded {target} (HTTP 101) instead of refusing it")


def _recv_until(sock: socket.socket, deadline: float, *, what: str) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise NoReply(f"no {what} in time")
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except TimeoutError:
        raise NoReply(f"no {what} in time") from None
    except ConnectionResetError:
        return b""


class WebSocket:
    """A blocking WebSocket client that queues every message it receives.

    Text frames come out of :meth:`recv` as ``str``, binary frames as ``bytes``.
    """

    def __init__(self, sock: socket.socket, ws: WSConnection) -> None:
        self._sock = sock
        self._ws = ws
        self._messages: deque[Frame] = deque()
        self._text: list[str] = []
        self._bytes = bytearray()
        #: The close code the server sent (1006 if the TCP connection just ended), once closed.
        self.close_code: int | None = None
        self.closed = False

    # sending

    def send(self, message: Frame) -> None:
        """Send one text (``str``) or binary (``bytes``) message.

        A send the server cut short (it may close while a large message is still in flight)
        is not an error here: what the server did shows up on the next :meth:`recv`.
        """
        if self.closed:
            raise Closed(self.close_code)
        with contextlib.suppress(OSError):
            event = (
                TextMessage(data=message)
                if isinstance(message, str)
                else BytesMessage(data=message)
            )
            self._sock.sendall(self._ws.send(event))

    # receiving

    def recv(self, timeout: float = TIMEOUT) -> Frame:
        """Return the next message.

        Raises:
            Closed: the connection closed and every message before the close was read.
            NoReply: nothing arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self._messages:
            if self.closed:
                raise Closed(self.close_code)
            self._read(deadline)
        return self._messages.popleft()

    def recv_text(self, timeout: float = TIMEOUT) -> str:
        """Return the next message, which must be a text frame."""
        message = self.recv(timeout)
        assert isinstance(message, str), f"expected a text frame, got binary {message!r}"
        return message

    def recv_skipping_pings(self, timeout: float = TIMEOUT, *, pong: bool = True) -> Frame:
        """Return the next message that is not an Engine.IO ping (``2``).

        Pings met on the way are answered with ``3`` if ``pong`` is true.
        """
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(deadline - time.monotonic(), 0.001))
            if message != "2":
                return message
            if pong:
                self.send("3")

    def wait_closed(self, timeout: float = TIMEOUT, *, pong: bool = False) -> list[Frame]:
        """Wait until the server closes the connection.

        Returns:
            The messages that arrived before the close. Pings are answered if ``pong``.

        Raises:
            NoReply: the connection was still open after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        seen: list[Frame] = []
        while True:
            try:
                message = self.recv(max(deadline - time.monotonic(), 0.001))
            except Closed:
                return seen
            except NoReply:
                raise NoReply(
                    f"the server did not close the WebSocket within {timeout} s "
                    f"(received meanwhile: {seen!r})"
                ) from None
            seen.append(message)
            if pong and message == "2":
                self.send("3")

    def send_raw(self, data: bytes) -> None:
        """Write ``data`` as it is (hand-made frames, broken ones included) to the socket.

        As with :meth:`send`, a write the server cut short is not an error here.
        """
        with contextlib.suppress(OSError):
            self._sock.sendall(data)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a client that just goes away)."""
        self.closed = True
        self._sock.close()

    def close(self) -> None:
        """Close the connection (politely if it is still open) and the socket."""
        if not self.closed and self._ws.state is ConnectionState.OPEN:
            with contextlib.suppress(OSError):
                self._sock.sendall(self._ws.send(CloseConnection(code=1000)))
        self.closed = True
        self._sock.close()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # internals

    def _read(self, deadline: float) -> None:
        data = _recv_until(self._sock, deadline, what="WebSocket frame")
        self._ws.receive_data(data or None)
        for event in self._ws.events():
            self._handle(event)
        if not data and not self.closed:
            self._mark_closed(1006)

    def _handle(self, event: Event) -> None:
        if isinstance(event, TextMessage):
            self._text.append(event.data)
            if event.message_finished:
                self._messages.append("".join(self._text))
                self._text.clear()
        elif isinstance(event, BytesMessage):
            self._bytes += event.data
            if event.message_finished:
                self._messages.append(bytes(self._bytes))
                self._bytes.clear()
        elif isinstance(event, Ping):
            self._sock.sendall(self._ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                with contextlib.suppress(OSError):
                    self._sock.sendall(self._ws.send(event.response()))
            self._mark_closed(event.code)

    def _mark_closed(self, code: int) -> None:
        self.closed = True
        if self.close_code is None:
            self.close_code = code
        self._sock.close()


# --------------------------------------------------------------------------------------------
# Engine.IO long-polling over httpx


class Polling:
    """One Engine.IO long-polling session on ``mount`` (e.g. ``/engine.io/``)."""

    def __init__(self, http: httpx.Client, mount: str) -> None:
        self.http = http
        self.mount = mount
        self.sid: str | None = None

    def handshake(self, *, origin: str | None = None) -> dict[str, Any]:
        """Open the session (GET without sid) and return the open packet's JSON."""
        headers = {"origin": origin} if origin is not None else {}
        response = self.http.get(query(self.mount, "polling"), headers=headers)
        assert response.status_code == 200, (
            f"handshake refused: HTTP {response.status_code} {response.text!r}"
        )
        value = parse_open(response.text)
        self.sid = value["sid"]
        return value

    def url(self) -> str:
        """Path and query of this session's polling requests."""
        assert self.sid is not None, "no session yet"
        return query(self.mount, "polling", sid=self.sid)

    def get(self, timeout: float = TIMEOUT) -> httpx.Response:
        """One polling GET (it may be held by the server until something is sent)."""
        return self.http.get(self.url(), timeout=timeout)

    def post(self, body: str | bytes, timeout: float = TIMEOUT) -> httpx.Response:
        """One polling POST with ``body`` as the payload."""
        return self.http.post(
            self.url(),
            content=body,
            timeout=timeout,
            headers={"content-type": "text/plain;charset=UTF-8"},
        )

    def get_packets(self, timeout: float = TIMEOUT) -> list[Frame]:
        """GET and decode the payload; the GET must succeed."""
        response = self.get(timeout)
        assert response.status_code == 200, (
            f"GET failed: HTTP {response.status_code} {response.text!r}"
        )
        return decode_payload(response.text)

    def post_ok(self, packets: list[Frame]) -> None:
        """POST ``packets`` as one payload; the server must answer ``200 ok``."""
        response = self.post(encode_payload(packets))
        assert response.status_code == 200, (
            f"POST failed: HTTP {response.status_code} {response.text!r}"
        )
        assert response.text == "ok", f"POST answered {response.text!r} instead of 'ok'"

    def collect(self, count: int, timeout: float = TIMEOUT, *, pong: bool = True) -> list[Frame]:
        """GET until ``count`` packets other than pings have arrived; answer pings if ``pong``.

        Raises:
            NoReply: fewer than ``count`` packets arrived within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        packets: list[Frame] = []
        while len(packets) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoReply(f"expected {count} packets, got only {packets!r}")
            try:
                received = self.get_packets(timeout=remaining)
            except httpx.TimeoutException:
                raise NoReply(f"expected {count} packets, got only {packets!r}") from None
            for packet in received:
                if packet == "2":
                    if pong:
                        self.post_ok(["3"])
                else:
                    packets.append(packet)
        assert len(packets) == count, f"expected {count} packets, got {packets!r}"
        return packets


def assert_polling_closes(polling: Polling, *, tries: int = 4) -> list[Frame]:
    """The server ends ``polling``'s session now, not at a later ping timeout.

    A server may hand out what it had queued and a close packet (``1``) first; the session
    must then be unknown (400). Meeting a ping on the way means the server did not close.

    Returns:
        The packets handed out before the end.
    """
    seen: list[Frame] = []
    for _ in range(tries):
        try:
            response = polling.get(timeout=PING_INTERVAL * 0.8)
        except httpx.TimeoutException:
            raise AssertionError(f"the session is still open (GET held); got {seen!r}") from None
        if response.status_code == 400:
            return seen
        assert response.status_code == 200, f"unexpected HTTP {response.status_code}"
        packets = decode_payload(response.text)
        assert "2" not in packets, f"the session is still alive (got a ping): {seen + packets!r}"
        seen += packets
    raise AssertionError(f"the session did not end; received {seen!r}")


# --------------------------------------------------------------------------------------------
# Engine.IO / Socket.IO over WebSocket


def open_eio_websocket(
    base_url: str, mount: str, *, origin: str | None = None
) -> tuple[WebSocket, dict[str, Any]]:
    """Open a WebSocket-only Engine.IO session; return it and its open packet's JSON."""
    ws = open_websocket(base_url, query(mount, "websocket"), origin=origin)
    try:
        handshake = parse_open(ws.recv())
    except BaseException:
        ws.close()
        raise
    return ws, handshake


def connect_reply_sid(packet: Frame, prefix: str) -> str:
    """Check a Socket.IO CONNECT reply (``<prefix>{"sid":...}``) and return the sid."""
    assert isinstance(packet, str), f"expected a CONNECT reply, got binary {packet!r}"
    assert packet.startswith(prefix), f'expected {prefix}{{"sid":...}}, got {packet!r}'
    value = json.loads(packet[len(prefix) :])
    assert isinstance(value, dict) and set(value) == {"sid"}, (
        f"CONNECT reply must hold exactly the key 'sid': {packet!r}"
    )
    assert isinstance(value["sid"], str) and value["sid"], f"bad sid in {packet!r}"
    return value["sid"]


def sio_connect(base_url: str, mount: str = "/socket.io/") -> WebSocket:
    """Open a WebSocket, join ``/`` (``40``) and read the CONNECT reply and the ``auth`` event."""
    ws, _ = open_eio_websocket(base_url, mount)
    try:
        ws.send("40")
        connect_reply_sid(ws.recv_skipping_pings(), "40")
        assert ws.recv_skipping_pings() == '42["auth",{}]'
    except BaseException:
        ws.close()
        raise
    return ws
