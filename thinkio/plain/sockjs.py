"""The ``sockjs`` type: the server side of the SockJS protocol, on thinkio's own HTTP server.

Hand-written: the Python SockJS servers (sockjs-tornado, sockjs-twisted, aiohttp's
sockjs) each run on their own framework's loop, and none on anyio, so none serves both
asyncio and trio; the protocol is small. Read against sockjs-node and sockjs-client, never
copied. The frames are :mod:`.sockjs_frames` (sans-IO); this module moves them.

Served under ``path`` (sockjs-node's ``prefix``):

* ``GET {path}`` -- ``Welcome to SockJS!``; ``GET|OPTIONS {path}/info`` -- what the client
  needs to choose a transport (``websocket``, ``origins``, ``cookie_needed``, ``entropy``);
* ``{path}/<server>/<session>/websocket`` -- the WebSocket transport;
* ``{path}/websocket`` -- a WebSocket without SockJS framing (sockjs-node's
  ``websocket-raw``): one envelope per message, as the ``ws`` type;
* ``POST {path}/<server>/<session>/xhr`` (long polling) and ``.../xhr_streaming`` (one
  chunked response carrying frames, ended after ``response_limit`` bytes), with
  ``POST .../xhr_send`` for the client's messages; ``OPTIONS`` on each (CORS preflight).

A session (:class:`SockJSSession`) is a :class:`~thinkio.plain.PlainTransport`: its
:class:`~thinkio.plain.PlainSocket` sends envelopes, which wait in the session's outbox until a
receiving request (a poll, the stream, the WebSocket) takes them as one ``a[...]`` frame. A
session has at most one receiver (a second gets ``c[2010,"Another connection still open"]``),
gets a heartbeat ``h`` every ``heartbeat_delay`` while one is attached, and ends
``disconnect_delay`` after the last one left (at once when a WebSocket or a request is lost).
A closed session answers ``c[code,reason]`` until it is forgotten.

Origins: the server's CORS / ``allow_origin`` policy. A refused origin gets 403 on every route
(a WebSocket before the 101); allowed ones get the policy's CORS headers.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from ..engine import Handshake
from ..errors import RemoteProtocolError
from ..http import CorsPolicy, HttpExchange, HttpRequest, TakenOver
from ..limits import Limits
from ..net import StreamProtocol, Timer, TimerService
from .envelope import Envelope, EnvelopeError
from .hub import PlainHub, PlainSocket
from .sockjs_frames import HEARTBEAT, OPEN, close_frame, decode_messages, message_frame
from .websocket import PlainWebSocket, WebSocketEndpoint, refuse, upgrade_checks

__all__ = ("SockJSEndpoint", "SockJSSession")

log = logging.getLogger("thinkio.plain")

_SESSION_ROUTE = re.compile(r"/([^/.]+)/([^/.]+)/([a-z_]+)/?\Z")
_JS = (b"content-type", b"application/javascript; charset=UTF-8")
_TEXT = (b"content-type", b"text/plain; charset=UTF-8")
_NO_CACHE = (b"cache-control", b"no-store, no-cache, no-transform, must-revalidate, max-age=0")
_YEAR = 365 * 24 * 3600
_CACHE_YEAR = [
    (b"cache-control", b"public, max-age=%d" % _YEAR),
    (b"access-control-max-age", b"%d" % _YEAR),
]
#: The 2 KiB prelude of a streaming response (old browsers show nothing before it).
_PRELUDE = "h" * 2048 + "\n"
#: The close code of a session whose client does not take its messages (policy violation).
SLOW_CONSUMER = 1008


class _Receiver:
    """Where a session's frames go: a poll, a stream, or a WebSocket."""

    #: The session waits ``disconnect_delay`` after this receiver leaves (False: ends at once).
    delay_disconnect = True

    def send_frame(self, frame: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SockJSSession:
    """One SockJS session: a :class:`~thinkio.plain.PlainTransport` for its socket.

    Args:
        endpoint: the endpoint it belongs to.
        sid: the session id from the URL (None for a WebSocket, which is its own session).
    """

    def __init__(self, endpoint: SockJSEndpoint, sid: str | None) -> None:
        self.endpoint = endpoint
        self.sid = sid
        self.state = "connecting"  # -> "open" -> "closing" -> "closed"
        self.receiver: _Receiver | None = None
        self.socket: PlainSocket | None = None
        self._outbox: list[str] = []
        self._outbox_size = 0
        self._closing_frame = ""
        self._timer: Timer | None = None

    def __repr__(self) -> str:
        return f"<SockJSSession {self.sid} {self.state}>"

    # -- PlainTransport ---------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        if self.state != "open":
            return
        self._outbox.append(text)
        self._outbox_size += len(text)
        if self._outbox_size > self.endpoint.limits.max_outbox_bytes:
            # Nobody takes the messages (no request comes, or the stream is not read).
            log.info("%r: %d bytes wait for the client; closed", self, self._outbox_size)
            self._outbox, self._outbox_size = [], 0
            self.close(SLOW_CONSUMER, "slow consumer")
            return
        if self.receiver is not None:
            self._flush()

    def close(self, code: int, reason: str) -> None:
        """Close the session: ``c[code,reason]`` now (or to the next request)."""
        if self.state not in ("connecting", "open"):
            return
        self.state = "closing"
        self._closing_frame = close_frame(code, reason)
        receiver = self.receiver
        if receiver is not None:
            self._flush()
            receiver.send_frame(self._closing_frame)
            receiver.close()
            self.detach(receiver)
        else:  # the next request hears the close frame, then the session is forgotten
            self._cancel_timer()
            self._timer = self.endpoint.timers.call_later(
                self.endpoint.disconnect_delay, self._forget
            )
        self._end(reason)

    # -- receivers --------------------------------------------------------------------------

    def attach(self, receiver: _Receiver, handshake: Handshake) -> None:
        """A receiving request (or the WebSocket) arrived."""
        if self.receiver is not None:
            receiver.send_frame(close_frame(2010, "Another connection still open"))
            receiver.close()
            return
        self._cancel_timer()
        if self.state in ("closing", "closed"):
            self._flush_to(receiver)
            receiver.send_frame(self._closing_frame)
            receiver.close()
            self._timer = self.endpoint.timers.call_later(
                self.endpoint.disconnect_delay, self._forget
            )
            return
        self.receiver = receiver
        if self.state == "connecting":
            self.state = "open"
            receiver.send_frame(OPEN)
            self.socket = self.endpoint.hub.connect(self, handshake, self.sid)
        if self.receiver is receiver:  # a poll answered with "o" is gone already
            self._flush()
            if self.receiver is receiver:
                self._timer = self.endpoint.timers.call_later(
                    self.endpoint.heartbeat_delay, self._heartbeat
                )

    def detach(self, receiver: _Receiver, *, lost: bool = False) -> None:
        """A receiver is done (answered, full, closed, or ``lost``: its connection died)."""
        if self.receiver is not receiver:
            return
        self.receiver = None
        self._cancel_timer()
        if lost or not receiver.delay_disconnect:
            self._timeout(0.0)
        else:
            self._timer = self.endpoint.timers.call_later(
                self.endpoint.disconnect_delay, self._timeout
            )

    def _flush(self) -> None:
        receiver = self.receiver
        if receiver is not None:
            self._flush_to(receiver)

    def _flush_to(self, receiver: _Receiver) -> None:
        if self._outbox:
            frame, self._outbox, self._outbox_size = message_frame(self._outbox), [], 0
            receiver.send_frame(frame)

    def _heartbeat(self, now: float) -> None:
        self._timer = None
        receiver = self.receiver
        if receiver is not None:
            receiver.send_frame(HEARTBEAT)
            if self.receiver is receiver:
                self._timer = self.endpoint.timers.call_later(
                    self.endpoint.heartbeat_delay, self._heartbeat
                )

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- the client's messages ------------------------------------------------------------------

    def received(self, messages: list[str]) -> None:
        """Messages from the client: each an envelope for the socket."""
        socket = self.socket
        for text in messages:
            if self.state != "open" or socket is None:
                return
            try:
                envelope = Envelope.decode(text, max_depth=self.endpoint.limits.max_json_depth)
            except EnvelopeError as exc:
                log.info("%r: %s; closed with %d", self, exc.reason, exc.code)
                self.close(exc.code, exc.reason)
                return
            socket.received(envelope.event, envelope.data)

    # -- ending ---------------------------------------------------------------------------------

    def _timeout(self, now: float) -> None:
        """No receiver came back in time (or the connection was lost): the session ends."""
        self._timer = None
        if self.state in ("connecting", "open"):
            self.state = "closing"
            self._closing_frame = close_frame(3000, "Go away!")
            self._end("transport close")
        self._forget(now)

    def _end(self, reason: str) -> None:
        if self.socket is not None:
            self.socket.ended(reason)

    def _forget(self, now: float) -> None:
        self._timer = None
        if self.receiver is not None:
            return
        self.state = "closed"
        self.endpoint.forget(self)


class _PollReceiver(_Receiver):
    """``xhr``: one parked request, answered with the first frame."""

    def __init__(
        self, session: SockJSSession, exchange: HttpExchange, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.session = session
        self.exchange = exchange
        self.headers = headers
        self.done = False

    def send_frame(self, frame: str) -> None:
        if self.done:
            return
        self.done = True
        self.exchange.respond(200, self.headers, (frame + "\n").encode())
        self.session.detach(self)

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.exchange.respond(200, self.headers, b"")
            self.session.detach(self)

    def lost(self) -> None:
        if not self.done:
            self.done = True
            self.session.detach(self, lost=True)


class _StreamReceiver(_Receiver, StreamProtocol):
    """``xhr_streaming``: one chunked response, a frame per line, until ``response_limit``."""

    def __init__(self, session: SockJSSession, limit: int) -> None:
        self.session = session
        self.limit = limit
        self.sent = 0
        self.done = False
        self.transport: Any = None
        self.release: Callable[[], None] | None = None

    def start(self, taken: TakenOver, headers: list[tuple[bytes, bytes]]) -> None:
        self.transport = taken.transport
        self.release = taken.release
        head = [b"HTTP/1.1 200 OK", *(name + b": " + value for name, value in headers)]
        head += [b"transfer-encoding: chunked", b"connection: close", b"", b""]
        self.transport.write(b"\r\n".join(head))
        self._chunk(_PRELUDE)

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.transport.write(b"%x\r\n%s\r\n" % (len(data), data))

    def send_frame(self, frame: str) -> None:
        if self.done:
            return
        self._chunk(frame + "\n")
        self.sent += len(frame) + 1
        if self.sent >= self.limit:
            self.close()  # the client opens the next stream
        elif self.transport.get_write_buffer_size() > self.session.endpoint.limits.max_outbox_bytes:
            log.info("%r: the stream is not read; cut", self.session)
            self.done = True
            self.transport.abort()
            self.session.detach(self, lost=True)

    def close(self) -> None:
        if self.done:
            return
        self.done = True
        self.transport.write(b"0\r\n\r\n")
        self.transport.close()
        self.session.detach(self)

    def data_received(self, data: bytes) -> None:
        pass  # nothing is expected after the request

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.release is not None:
            self.release()
            self.release = None
        if not self.done:
            self.done = True
            self.session.detach(self, lost=True)


class _WebSocketReceiver(_Receiver):
    """The WebSocket transport: each frame is a WebSocket message; a session of its own."""

    delay_disconnect = False

    def __init__(self, session: SockJSSession, ws: PlainWebSocket, max_depth: int) -> None:
        self.session = session
        self.ws = ws
        self.max_depth = max_depth
        self.done = False

    def send_frame(self, frame: str) -> None:
        self.ws.send_text(frame)

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.ws.close(1000, "Normal closure")

    # WebSocketListener
    def message(self, text: str) -> None:
        if not text:
            return  # empty frames are ignored (sockjs-node)
        try:
            messages = decode_messages(text, max_depth=self.max_depth, single=True)
        except RemoteProtocolError:
            self.done = True
            self.ws.close(3000, "Broken framing.")
            return
        self.session.received(messages)

    def ended(self, reason: str) -> None:
        self.done = True
        self.session.detach(self, lost=True)


class SockJSEndpoint:
    """The ``sockjs`` type's mount (see the module docstring).

    Args:
        hub: the endpoint's clients.
        path: the prefix (``/sockjs``).
        cors: the origins allowed, and the CORS headers for them.
        limits: the server's limits.
        timers: the server's timers.
        max_message: the largest WebSocket message / ``xhr_send`` body, in bytes.
        heartbeat_delay: seconds between heartbeats.
        disconnect_delay: seconds a session outlives its last receiver.
        response_limit: bytes one streaming response carries.
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
        heartbeat_delay: float = 25.0,
        disconnect_delay: float = 5.0,
        response_limit: int = 128 * 1024,
    ) -> None:
        self.hub = hub
        self.path = path.rstrip("/")
        self.cors = cors
        self.limits = limits
        self.timers = timers
        self.max_message = max_message
        self.heartbeat_delay = heartbeat_delay
        self.disconnect_delay = disconnect_delay
        self.response_limit = response_limit
        #: Sessions by id (the XHR transports'; a WebSocket has none).
        self.sessions: dict[str, SockJSSession] = {}
        #: ``{path}/websocket``: a plain WebSocket of envelopes, as the ``ws`` type serves.
        self.raw = WebSocketEndpoint(
            hub,
            path=f"{self.path}/websocket",
            cors=cors,
            limits=limits,
            timers=timers,
            max_message=max_message,
        )

    def forget(self, session: SockJSSession) -> None:
        """A session is over and answers no more."""
        if session.sid is not None and self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]

    def _preflight(
        self, origin: str | None, request_headers: str | None
    ) -> list[tuple[bytes, bytes]]:
        """The policy's preflight headers, without its methods (each route says its own)."""
        headers = self.cors.preflight_headers(origin, request_headers)
        return [h for h in headers if h[0] != b"access-control-allow-methods"]

    # -- routing ------------------------------------------------------------------------------

    def handle(self, request: HttpRequest, exchange: HttpExchange) -> None:
        """Serve one request under the prefix."""
        origin = request.headers.get("origin")
        if not self.cors.allows(origin):
            log.info(
                "refused %s %s from %s: origin %r not allowed",
                request.method,
                request.path,
                request.client[0],
                origin,
            )
            refuse(exchange, 403, "Origin not allowed")
            return
        cors = self.cors.headers(origin)
        rest = request.path[len(self.path) :]
        method = request.method
        if rest in ("", "/"):
            if method in ("GET", "HEAD"):
                exchange.respond(200, [_TEXT], b"Welcome to SockJS!\n")
            else:
                exchange.respond(405, [(b"allow", b"GET, HEAD")])
            return
        if rest.rstrip("/") == "/websocket":
            self.raw.handle(request, exchange)  # sockjs-node's websocket-raw: no SockJS framing
            return
        if rest.rstrip("/") == "/info":
            self._info(request, exchange, cors)
            return
        match = _SESSION_ROUTE.match(rest)
        if match is None:
            exchange.respond(404, [_TEXT], b"404 Error: Page not found\n")
            return
        sid, transport = match.group(2), match.group(3)
        if transport == "websocket":
            self._websocket(request, exchange)
        elif transport in ("xhr", "xhr_streaming", "xhr_send"):
            if method == "OPTIONS":
                preflight = self._preflight(
                    origin, request.headers.get("access-control-request-headers")
                )
                exchange.respond(
                    204,
                    [*preflight, *_CACHE_YEAR, (b"access-control-allow-methods", b"OPTIONS, POST")],
                )
            elif method != "POST":
                exchange.respond(405, [(b"allow", b"OPTIONS, POST")])
            elif transport == "xhr_send":
                self._xhr_send(request, exchange, sid, cors)
            else:
                self._receive(request, exchange, sid, transport, cors)
        else:
            exchange.respond(404, [_TEXT], b"404 Error: Page not found\n")

    def _info(
        self, request: HttpRequest, exchange: HttpExchange, cors: list[tuple[bytes, bytes]]
    ) -> None:
        if request.method == "OPTIONS":
            preflight = self._preflight(
                request.headers.get("origin"), request.headers.get("access-control-request-headers")
            )
            exchange.respond(
                204, [*preflight, *_CACHE_YEAR, (b"access-control-allow-methods", b"OPTIONS, GET")]
            )
            return
        if request.method not in ("GET", "HEAD"):
            exchange.respond(405, [(b"allow", b"OPTIONS, GET")])
            return
        info = {
            "websocket": True,
            "transports": ["websocket", "xhr-polling", "xhr-streaming"],
            "origins": ["*:*"],
            "cookie_needed": False,
            "entropy": int.from_bytes(os.urandom(4), "big"),
        }
        body = json.dumps(info).encode()
        exchange.respond(
            200, [(b"content-type", b"application/json; charset=UTF-8"), _NO_CACHE, *cors], body
        )

    # -- transports ---------------------------------------------------------------------------

    def _session_for(
        self, sid: str, exchange: HttpExchange, headers: list[tuple[bytes, bytes]]
    ) -> SockJSSession | None:
        session = self.sessions.get(sid)
        if session is not None:
            return session
        if not self.hub.accepting:
            exchange.respond(503, [_TEXT, *headers], b"Server shutting down")
            return None
        if self.hub.full:
            exchange.respond(503, [_TEXT, *headers], b"Too many connections")
            return None
        session = self.sessions[sid] = SockJSSession(self, sid)
        return session

    def _receive(
        self,
        request: HttpRequest,
        exchange: HttpExchange,
        sid: str,
        transport: str,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        headers = [_JS, _NO_CACHE, *cors]
        session = self._session_for(sid, exchange, headers)
        if session is None:
            return
        receiver: _Receiver
        if transport == "xhr":
            poll = _PollReceiver(session, exchange, headers)
            exchange.park(poll.lost)
            receiver = poll
        else:
            stream = _StreamReceiver(session, self.response_limit)
            stream.start(
                exchange.take_over(stream),
                [(b"content-type", b"application/javascript; charset=UTF-8"), _NO_CACHE, *cors],
            )
            receiver = stream
        session.attach(receiver, Handshake.from_request(request))

    def _xhr_send(
        self,
        request: HttpRequest,
        exchange: HttpExchange,
        sid: str,
        cors: list[tuple[bytes, bytes]],
    ) -> None:
        headers = [_TEXT, _NO_CACHE, *cors]
        if not request.body:
            exchange.respond(500, headers, b"Payload expected.")
            return
        try:
            text = request.body.decode("utf-8")
            messages = decode_messages(text, max_depth=self.limits.max_json_depth, single=False)
        except UnicodeDecodeError:
            exchange.respond(500, headers, b"Broken JSON encoding.")
            return
        except RemoteProtocolError as exc:
            exchange.respond(500, headers, str(exc).encode())
            return
        session = self.sessions.get(sid)
        if session is None:
            exchange.respond(404, headers, b"")
            return
        session.received(messages)
        exchange.respond(204, headers)

    def _websocket(self, request: HttpRequest, exchange: HttpExchange) -> None:
        accept = upgrade_checks(request, exchange, self.cors, self.hub)
        if accept is None:
            return
        ws = PlainWebSocket(limits=self.limits, timers=self.timers, max_message=self.max_message)
        leftover = ws.start(exchange.take_over(ws), accept)
        session = SockJSSession(self, None)
        receiver = _WebSocketReceiver(session, ws, self.limits.max_json_depth)
        ws.listener = receiver
        session.attach(receiver, Handshake.from_request(request))
        if leftover:
            ws.data_received(leftover)
