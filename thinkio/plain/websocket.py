"""A plain WebSocket endpoint on thinkio's own HTTP server: the ``ws`` type, and the
WebSocket under SockJS's ``/<server>/<session>/websocket`` transport.

:class:`WebSocketEndpoint` is a :class:`thinkio.http.Router` mount handler. Before the 101 it
checks, in order: the path (404), the origin against the server's CORS / ``allow_origin``
policy (403: a page of another origin never gets a WebSocket), that the request is an
upgrade (426), the handshake headers (400), and room for another client (503). Then the
connection becomes a :class:`PlainWebSocket`.

:class:`PlainWebSocket` is the connection after the 101: :class:`thinkio.websocket.WebSocketConnection`
(wsproto, plus its fast path) turns bytes into text messages for a
:class:`WebSocketListener`. What the peer gets wrong closes the connection with a code and a
reason, never a traceback: a message over ``max_message`` bytes 1009 (decided from the frame
header, before the payload is buffered), a binary message 1003, invalid UTF-8 1007, a
protocol error 1002; what the listener refuses (bad JSON: 1007, no envelope: 1003) too. A
client that does not read is cut once ``Limits.max_outbox_bytes`` wait in the write buffer.

Closing is a handshake (:class:`thinkio.websocket.ClosingHandshake`): after our close frame the
connection keeps reading, dropping data frames, until the client's close frame, and only then
closes TCP (cut after ``Limits.websocket_close_timeout``), so a client still sending when it is
closed (a flood closed with 1008) gets the close frame, not a reset.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..engine import Handshake
from ..errors import RemoteProtocolError
from ..http import CorsPolicy, HttpExchange, HttpRequest, TakenOver
from ..limits import Limits
from ..net import StreamProtocol, TimerService
from ..websocket import (
    ClosingHandshake,
    WebSocketClosed,
    WebSocketConnection,
    accept_token,
    data_frame,
)
from .envelope import UNSUPPORTED_DATA, Envelope, EnvelopeError
from .hub import PlainHub, PlainSocket

__all__ = ("PlainWebSocket", "WebSocketEndpoint", "WebSocketListener", "refuse", "upgrade_checks")

log = logging.getLogger("thinkio.plain")

_TEXT = (b"content-type", b"text/plain; charset=utf-8")
#: The last message framed, with its frame: server frames are unmasked, so the bytes of a
#: broadcast's text are the same for every client (compared by identity, never by value).
_last_frame: tuple[object, bytes] = (object(), b"")


def refuse(
    exchange: HttpExchange, status: int, text: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer a request that will not become a WebSocket, and close the connection."""
    exchange.respond(status, [_TEXT, *(headers or [])], text.encode(), close=True)


def upgrade_checks(
    request: HttpRequest, exchange: HttpExchange, cors: CorsPolicy, hub: PlainHub
) -> bytes | None:
    """The checks before a 101, in order; the accept token, or None once refused (answered)."""
    origin = request.headers.get("origin")
    if not cors.allows(origin):
        log.info("refused a WebSocket from %s: origin %r not allowed", request.client[0], origin)
        refuse(exchange, 403, "Origin not allowed")
        return None
    if request.method != "GET" or not request.websocket_upgrade:
        refuse(
            exchange,
            426,
            "Upgrade Required: this path speaks WebSocket",
            [(b"upgrade", b"websocket")],
        )
        return None
    try:
        accept = accept_token(request.headers)
    except RemoteProtocolError as exc:
        refuse(exchange, 400, f"Bad request: {exc}")
        return None
    if not hub.accepting:
        refuse(exchange, 503, "Server shutting down")
        return None
    if hub.full:
        log.info(
            "refused a WebSocket from %s: %d clients already", request.client[0], len(hub.sockets)
        )
        refuse(exchange, 503, "Too many connections")
        return None
    return accept


class WebSocketListener(Protocol):
    """What hears a :class:`PlainWebSocket`'s messages."""

    def message(self, text: str) -> None:
        """A whole text message arrived."""

    def ended(self, reason: str) -> None:
        """The connection is over (``reason``: why, for the ``close`` action)."""


class PlainWebSocket(StreamProtocol):
    """One WebSocket connection after the 101, carrying text messages.

    Args:
        limits: the server's limits (close timeout, write buffer bound).
        timers: the server's timers (the close timeout).
        max_message: the largest message accepted, in bytes (larger: 1009).
        on_lost: called once when the connection is gone.
    """

    __slots__ = (
        "_closing",
        "_closing_handshake",
        "_conn",
        "_limits",
        "_lost",
        "_on_lost",
        "_reason",
        "_release",
        "_timers",
        "_transport",
        "listener",
    )

    def __init__(
        self,
        *,
        limits: Limits,
        timers: TimerService,
        max_message: int,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self._limits = limits
        self._timers = timers
        self._conn = WebSocketConnection(client=False, max_message=max_message)
        self._transport: Any = None
        self._release: Callable[[], None] | None = None
        self._on_lost = on_lost
        self._lost = False
        self._closing = False
        self._reason = "transport close"
        #: Set once we sent our close frame (we wait for the peer's).
        self._closing_handshake: ClosingHandshake | None = None
        #: Who hears the messages (set before :meth:`start`).
        self.listener: WebSocketListener | None = None

    def start(self, taken: TakenOver, accept: bytes) -> bytes:
        """Write the 101; returns the bytes read past the request, for the caller to feed to
        :meth:`data_received` once the listener is set."""
        self._transport = taken.transport
        self._release = taken.release
        self._transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        return taken.leftover

    # -- sending ----------------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Write one text message (dropped once closing)."""
        if self._closing or self._lost:
            return
        global _last_frame
        last_text, frame = _last_frame
        if text is not last_text:  # a broadcast: the same text, framed once for every client
            frame = data_frame(text)
            _last_frame = (text, frame)
        transport = self._transport
        transport.write(frame)
        if transport.get_write_buffer_size() > self._limits.max_outbox_bytes:
            log.info(
                "a WebSocket client does not read: %d bytes queued; cut",
                transport.get_write_buffer_size(),
            )
            self._reason = "slow consumer"
            transport.abort()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and wait for the peer's, reading (and dropping) what it still
        sends; then close (cut after ``websocket_close_timeout``)."""
        if self._closing or self._lost:
            return
        self._closing = True
        if reason:
            self._reason = reason
        self._closing_handshake = ClosingHandshake(
            self._transport,
            self._conn.close(code, reason),
            self._timers,
            self._limits.websocket_close_timeout,
        )

    # -- transport callbacks ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        items = conn.receive_data(data)
        control = conn.data_to_send()
        if control:
            self._transport.write(control)
        listener = self.listener
        for item in items:
            if type(item) is WebSocketClosed:
                self._peer_closed(item)
                return
            if self._closing:
                continue  # only the peer's close frame matters now
            if isinstance(item, bytes):
                self.close(UNSUPPORTED_DATA, "binary messages are not supported; send JSON text")
                continue
            if listener is not None:
                listener.message(item)  # type: ignore[arg-type]

    def _peer_closed(self, closed: WebSocketClosed) -> None:
        if closed.by_peer:
            if not self._closing:
                self._reason = "client close" if closed.code != 1006 else "transport close"
        else:
            log.info("WebSocket closed with %d: %s", closed.code, closed.reason)
            self._reason = closed.reason or self._reason
        self._closing = True
        control = self._conn.data_to_send()
        handshake = self._closing_handshake
        if handshake is not None:
            handshake.finish(control)
            return
        if control:
            self._transport.write(control)
        self._transport.close()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        if self._closing_handshake is not None:
            self._closing_handshake.cancel()
        if self._release is not None:
            self._release()
        if self._on_lost is not None:
            self._on_lost()
        if self.listener is not None:
            self.listener.ended(self._reason)


class _EnvelopeListener:
    """The ``ws`` type: each message is an envelope for the client's socket."""

    __slots__ = ("max_depth", "socket", "ws")

    def __init__(self, ws: PlainWebSocket, socket: PlainSocket, max_depth: int) -> None:
        self.ws = ws
        self.socket = socket
        self.max_depth = max_depth

    def message(self, text: str) -> None:
        try:
            envelope = Envelope.decode(text, max_depth=self.max_depth)
        except EnvelopeError as exc:
            log.info("%r: %s; closed with %d", self.socket, exc.reason, exc.code)
            self.ws.close(exc.code, exc.reason)
            return
        self.socket.received(envelope.event, envelope.data)

    def ended(self, reason: str) -> None:
        self.socket.ended(reason)


class WebSocketEndpoint:
    """The ``ws`` type's mount: one plain WebSocket per client, JSON envelopes both ways.

    Args:
        hub: the endpoint's clients.
        path: the exact path clients connect to (``/ws``).
        cors: the origins allowed (the server's policy).
        limits: the server's limits.
        timers: the server's timers.
        max_message: the largest client message in bytes (larger: close 1009).
    """

    def __init__(
        self,
        hub: PlainHub,
        *,
        path: str,
        cors: CorsPolicy,
        limits: Limits,
        timers: TimerService,
        max_message: int,
    ) -> None:
        self.hub = hub
        self.path = path.rstrip("/") or "/"
        self.cors = cors
        self.limits = limits
        self.timers = timers
        self.max_message = max_message

    def handle(self, request: HttpRequest, exchange: HttpExchange) -> None:
        """Serve one request for the mount."""
        if (request.path.rstrip("/") or "/") != self.path:
            refuse(exchange, 404, "Not Found")
            return
        accept = upgrade_checks(request, exchange, self.cors, self.hub)
        if accept is None:
            return
        ws = PlainWebSocket(limits=self.limits, timers=self.timers, max_message=self.max_message)
        leftover = ws.start(exchange.take_over(ws), accept)
        socket = self.hub.connect(ws, Handshake.from_request(request))
        ws.listener = _EnvelopeListener(ws, socket, self.limits.max_json_depth)
        if leftover:
            ws.data_received(leftover)
