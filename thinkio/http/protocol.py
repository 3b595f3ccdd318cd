"""HTTP/1.1 connections on h11, driven by their transport's callbacks.

One :class:`HttpProtocol` per connection parses requests with h11 as bytes arrive, reads each
request's body (bounded by its mount's limit) and hands the whole request to the handler of
its mount (:class:`.router.Router`). The plainest requests (most long-polling ones) skip h11
when all of one arrives in a read while h11 is between requests: :mod:`.fastpath` reads them
and writes their responses, the bytes h11 would write; any other byte goes to h11. The handler answers through an
:class:`~.exchange.HttpExchange`: at once (a plain function, in the read callback: the
Engine.IO paths), later (an ``async def``, run in a task; or a long poll that parks its
exchange), or by taking the connection over (a WebSocket upgrade: the bytes h11 read past the
request go with it). Keep-alive follows h11; pipelined requests wait in h11's buffer, read
paused once it holds more than a request's worth.

Every wait is bounded (``Limits``, Node's defaults beside each): the request head must be
complete within ``header_timeout`` of its first byte (or of the connection), a request must be
answered within ``request_timeout`` unless its exchange is parked, and an idle keep-alive
connection is closed after ``keep_alive_timeout``. One timer sweeps every connection's
deadline once a second instead of a timer per request. A head larger than
``max_header_bytes`` is refused with 431 however its bytes arrive, a body larger than the
mount allows with 413 before it is read, a malformed request with h11's status; each as one
log line, never a traceback.
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Awaitable
from http import HTTPStatus
from typing import Any

import h11

from ..limits import Limits
from ..net import StreamProtocol, TaskSpawner, TimerService, detach
from .exchange import HttpExchange, TakenOver
from .fastpath import parse_plain, response_head
from .request import HttpRequest
from .router import Router

__all__ = ("HttpProtocol", "HttpServer", "TakenOver")

log = logging.getLogger("thinkio.http")

#: Seconds between two sweeps of the connections' deadlines.
SWEEP_INTERVAL = 1.0
#: How long, and how much, a connection closed for an oversized body keeps reading (and
#: dropping) what the client still sends, so that closing does not reset the 413 away.
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 4 * 1024 * 1024

_REASONS = {s.value: s.phrase.encode() for s in HTTPStatus}
_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_VERSIONS = frozenset((b"1.0", b"1.1"))
_CLOSE_15 = ((b"connection", b"close"), (b"content-length", b"15"))


class HttpServer:
    """What every HTTP connection of one server shares.

    Args:
        router: picks the handler of each request.
        limits: sizes and timeouts.
        timers: the server's timer service (its clock is the connections' clock).
        tasks: runs ``async def`` handlers.
    """

    def __init__(
        self, router: Router, limits: Limits, timers: TimerService, tasks: TaskSpawner
    ) -> None:
        self.router = router
        self.limits = limits
        self.timers = timers
        self.clock = timers.clock
        self.tasks = tasks
        #: Connections still speaking HTTP (their deadlines are swept).
        self.connections: set[HttpProtocol] = set()
        #: Open TCP connections, HTTP or taken over (compared with ``max_connections``).
        self.open = 0
        self._sweeping = False

    def __len__(self) -> int:
        return self.open

    def protocol(self, prefix: bytes = b"") -> HttpProtocol:
        """A protocol for a new connection (the accept loop's factory).

        Args:
            prefix: bytes already read off the connection elsewhere (a connection handed
                over by another process), parsed before anything the socket gives.
        """
        if not self._sweeping:
            self._sweeping = True
            self.timers.call_later(SWEEP_INTERVAL, self._sweep)
        # Counted now, not at connection_made (which the backend calls later): the accept
        # loop compares the count with max_connections for the next socket of the same batch.
        self.open += 1
        return HttpProtocol(self, prefix)

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self.connections if c.deadline <= now]:
            conn.timed_out()
        self.timers.call_later(SWEEP_INTERVAL, self._sweep)

    def release(self) -> None:
        """A connection ended."""
        self.open -= 1

    def close_idle(self) -> None:
        """Close every connection waiting for a request (for a shutdown)."""
        for conn in list(self.connections):
            conn.close_if_idle()


class HttpProtocol(StreamProtocol):
    """One HTTP/1.1 connection (see the module docstring)."""

    __slots__ = (
        "_body",
        "_body_size",
        "_bypass",
        "_client",
        "_exchange",
        "_h11",
        "_h11_idle",
        "_handler",
        "_lingering",
        "_max_body",
        "_prefix",
        "_processing",
        "_released",
        "_request",
        "_requests",
        "_server",
        "_transport",
        "deadline",
    )

    def __init__(self, server: HttpServer, prefix: bytes = b"") -> None:
        self._server = server
        self._prefix = prefix
        self._requests = 0
        self._transport: Any = None
        self._h11: h11.Connection | None = None
        #: h11 is between requests with nothing buffered: the fast path may read.
        self._h11_idle = True
        #: The open exchange's request came by the fast path (h11 never saw it).
        self._bypass = False
        self._client: tuple[str, int] = ("", 0)
        self._request: HttpRequest | None = None
        self._handler: Any = None
        self._max_body = 0
        self._body: list[bytes] = []
        self._body_size = 0
        self._exchange: HttpExchange | None = None
        self._processing = False
        self._lingering = 0
        self._released = False
        #: When the current wait times out (see :meth:`timed_out`).
        self.deadline = math.inf

    # -- transport callbacks ----------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        server = self._server
        self._transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self._client = (str(peer[0]), int(peer[1]))
        self._h11 = h11.Connection(
            h11.SERVER, max_incomplete_event_size=server.limits.max_header_bytes
        )
        server.connections.add(self)
        self.deadline = server.clock.now() + server.limits.header_timeout
        if self._prefix:
            prefix, self._prefix = self._prefix, b""
            self.data_received(prefix)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._lingering += len(data)
            if self._lingering > _LINGER_BYTES:
                self._transport.abort()
            return
        conn = self._h11
        if conn is None:
            return
        if self._h11_idle and self._exchange is None:
            plain = parse_plain(data)
            if plain is not None:
                self._serve_plain(data, *plain)
                return
        self._h11_idle = False
        conn.receive_data(data)
        if self._exchange is None:
            self._process()
        elif len(conn.trailing_data[0]) > self._server.limits.max_header_bytes:
            # Pipelined requests pile up behind an unanswered one: stop reading for now.
            self._transport.pause_reading()

    def eof_received(self) -> bool | None:
        exchange = self._exchange
        if exchange is not None and not exchange.done and not exchange.parked:
            # The request is complete; its handler still answers. Close after that.
            if self._h11 is not None:
                self._h11_idle = False  # h11 tells, after the answer
                self._h11.receive_data(b"")
            return True
        return None  # the transport closes; connection_lost aborts a parked exchange

    def connection_lost(self, exc: BaseException | None) -> None:
        self._server.connections.discard(self)
        self._release()
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.abort()
        self._h11 = None

    def _release(self) -> None:
        if not self._released:
            self._released = True
            self._server.release()

    # -- requests ---------------------------------------------------------------------------

    def _process(self) -> None:
        """Turn buffered bytes into requests until one is waiting for its answer."""
        if self._processing:
            return
        self._processing = True
        try:
            while self._exchange is None and self._h11 is not None and not self._lingering:
                conn = self._h11
                try:
                    event = conn.next_event()
                except h11.RemoteProtocolError as exc:
                    self._bad_request(exc)
                    return
                kind = type(event)
                if kind is h11.Request:
                    self._begin(
                        HttpRequest.from_h11(event, self._client),  # type: ignore[arg-type]
                        event.http_version,  # type: ignore[union-attr]
                    )
                elif kind is h11.Data:
                    self._body_chunk(event.data)  # type: ignore[union-attr]
                elif kind is h11.EndOfMessage:
                    self._dispatch()
                elif kind is h11.ConnectionClosed:
                    self._transport.close()
                    return
                else:  # NEED_DATA, or PAUSED (our answer, or a protocol switch, is due)
                    return
        finally:
            self._processing = False

    def _serve_plain(
        self,
        data: bytes,
        method: bytes,
        target: bytes,
        raw: list[tuple[bytes, bytes]],
        headers: dict[str, str],
        body: bytes,
        used: int,
    ) -> None:
        """A request the fast path read whole: served as h11's would be, h11 left idle."""
        # The size _begin counts is below the head's length plus one per header (a line
        # "name:value" is one byte shorter than counted; the request line is 13 longer).
        bound = used - len(body) + len(raw)
        if used < len(data):
            # A pipelined request behind it: h11's, after this one is answered.
            self._h11_idle = False
            assert self._h11 is not None
            self._h11.receive_data(data[used:])
        self._bypass = True
        request = HttpRequest.from_parts(method, target, raw, self._client, b"1.1", body, headers)
        if self._begin(request, b"1.1", bound):
            self._dispatch()

    def _begin(self, request: HttpRequest, http_version: bytes, head_bytes: int = -1) -> bool:
        """Check a request's head and pick its handler; False if it was refused.

        ``head_bytes``: a bound of the size checked against ``max_header_bytes`` when known
        (the fast path's); -1 to count it from the headers."""
        server = self._server
        limits = server.limits
        if head_bytes < 0 or head_bytes > limits.max_header_bytes:
            size = len(request.method) + len(request.target)
            for name, value in request.raw_headers:
                size += len(name) + len(value) + 4
        else:
            size = head_bytes
        self._request = request
        if http_version not in _VERSIONS:
            # h11 reads any "HTTP/d.d"; only 1.0 and 1.1 are served (Node: 400).
            self._refuse(400, "Bad Request")
            return False
        if size > limits.max_header_bytes:
            # h11 bounds heads that arrive in pieces; a whole one in a single read is checked
            # here (Node: 431).
            self._refuse(431, "Request Header Fields Too Large")
            return False
        self._handler, max_body = server.router.resolve(request.path)
        self._max_body = limits.max_body_bytes if max_body is None else max_body
        if self._body:
            self._body = []
        self._body_size = 0
        self.deadline = server.clock.now() + limits.request_timeout
        declared = request.headers.get("content-length")
        if declared is not None and "transfer-encoding" in request.headers:
            # Both framings: h11 would follow Transfer-Encoding, a proxy in front may have
            # followed Content-Length. Refused, and the connection closed (RFC 9112 6.3; Node).
            self._refuse(400, "Bad Request")
            return False
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            self._refuse(413, "Payload Too Large")
            return False
        return True

    def _body_chunk(self, data: bytes) -> None:
        self._body_size += len(data)
        if self._body_size > self._max_body:
            self._refuse(413, "Payload Too Large")
            return
        self._body.append(data)

    def _dispatch(self) -> None:
        request = self._request
        assert request is not None
        if self._body:
            # h11 hands out bytearrays; a handler gets immutable bytes.
            body = self._body
            request.body = bytes(body[0]) if len(body) == 1 else b"".join(body)
            self._body = []
        self._requests += 1
        exchange = self._exchange = HttpExchange(self, request, self._requests)
        try:
            result = self._handler(request, exchange)
        except Exception:
            log.exception("handler failed on %s %s", request.method, request.path)
            exchange.respond(500, [_TEXT], b"Internal Server Error", close=True)
            return
        if result is not None:
            self._server.tasks.spawn(self._run_async, result, exchange)

    async def _run_async(self, awaitable: Awaitable[None], exchange: HttpExchange) -> None:
        request = exchange.request
        try:
            await awaitable
        except Exception:
            log.exception("handler failed on %s %s", request.method, request.path)
            exchange.respond(500, [_TEXT], b"Internal Server Error", close=True)
            return
        if not (exchange.done or exchange.taken_over or exchange.aborted or exchange.parked):
            log.error("handler for %s %s returned without answering", request.method, request.path)
            exchange.respond(500, [_TEXT], b"Internal Server Error", close=True)

    # -- answering (called through HttpExchange) --------------------------------------------

    def send_response(
        self,
        exchange: HttpExchange,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        close: bool,
        content_length: int | None,
    ) -> None:
        conn = self._h11
        if conn is None or self._transport.is_closing():
            return
        if self._bypass:
            self._send_plain(exchange, status, headers, body, close, content_length)
            return
        if status in (204, 304):
            hdrs = list(headers)  # no body, and no length (RFC 9110 sections 8.6, 15.4.5)
        else:
            length = len(body) if content_length is None else content_length
            hdrs = [*headers, (b"content-length", str(length).encode())]
        if close:
            hdrs.append((b"connection", b"close"))
        try:
            data = conn.send(
                h11.Response(status_code=status, headers=hdrs, reason=_REASONS.get(status, b""))
            )
            if body and exchange.request.method != "HEAD" and status not in (204, 304):
                data += conn.send(h11.Data(data=body))
            data += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            log.info("cannot answer %s %s: %s", exchange.request.method, exchange.request.path, exc)
            self._transport.abort()
            return
        transport = self._transport
        transport.write(data)
        if exchange is self._exchange:
            self._exchange = None
        if conn.their_state is h11.SEND_BODY:
            # Answered before the body was read (an error): drop the rest, then close.
            self._linger()
            return
        if close or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            transport.close()
            return
        try:
            conn.start_next_cycle()
        except h11.LocalProtocolError:
            transport.close()
            return
        self.deadline = self._server.clock.now() + self._server.limits.keep_alive_timeout
        transport.resume_reading()
        self._process()
        self._h11_idle = self._exchange is None and self._drained()

    def _send_plain(
        self,
        exchange: HttpExchange,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        close: bool,
        content_length: int | None,
    ) -> None:
        """:meth:`send_response` for a request h11 never saw (a GET or POST: a body unless
        204/304): the bytes h11 would write."""
        self._bypass = False
        if status in (204, 304):
            length = None
            body = b""
        else:
            length = len(body) if content_length is None else content_length
        head = response_head(status, _REASONS.get(status, b""), headers, length, close)
        transport = self._transport
        if head is None:
            log.info("cannot answer %s %s: a header h11 would refuse", exchange.request.method,
                     exchange.request.path)  # fmt: skip
            transport.abort()
            return
        transport.write(head + body if body else head)
        if exchange is self._exchange:
            self._exchange = None
        if close:
            transport.close()
            return
        self.deadline = self._server.clock.now() + self._server.limits.keep_alive_timeout
        if not self._h11_idle:  # h11 holds more: a pipelined request, or the peer's EOF
            transport.resume_reading()
            self._process()
            self._h11_idle = self._exchange is None and self._drained()

    def _drained(self) -> bool:
        """h11 is between requests with nothing buffered."""
        conn = self._h11
        return (
            conn is not None
            and conn.our_state is h11.IDLE
            and conn.their_state is h11.IDLE
            and not conn.trailing_data[0]
        )

    def park(self) -> None:
        """The open exchange will be answered later by someone else (a long poll): no
        request timeout for it."""
        self.deadline = math.inf

    def hand_over(self, protocol: StreamProtocol) -> TakenOver:
        conn = self._h11
        assert conn is not None
        leftover = b"" if self._h11_idle else bytes(conn.trailing_data[0])
        self._h11 = None
        self._exchange = None
        self._server.connections.discard(self)
        transport = self._transport
        transport.set_protocol(protocol)
        self._released = True  # the new protocol calls release
        return TakenOver(transport, leftover, self._server.release)

    def detach(self) -> tuple[socket.socket, bytes]:
        conn = self._h11
        assert conn is not None
        leftover = bytes(conn.trailing_data[0])
        self._h11 = None
        self._exchange = None
        self._server.connections.discard(self)
        return detach(self._transport), leftover

    def transport_info(self, name: str) -> Any:
        return self._transport.get_extra_info(name) if self._transport is not None else None

    # -- errors and timeouts ----------------------------------------------------------------

    def _refuse(self, status: int, text: str) -> None:
        """Answer an unacceptable request with ``status`` and close the connection."""
        request = self._request
        assert request is not None
        log.info(
            "%s %s from %s: %d %s", request.method, request.path, self._client[0], status, text
        )
        exchange = self._exchange = HttpExchange(self, request, self._requests + 1)
        exchange.respond(status, [_TEXT], text.encode(), close=True)

    def _bad_request(self, exc: h11.RemoteProtocolError) -> None:
        conn = self._h11
        status = exc.error_status_hint
        log.info("bad request from %s: %s (%d)", self._client[0], exc, status)
        if conn is not None and conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            reason = _REASONS.get(status, b"Bad Request")  # 431 and 501 say so, not 400's text
            try:
                data = conn.send(
                    h11.Response(
                        status_code=status,
                        headers=[
                            _TEXT,
                            (b"connection", b"close"),
                            (b"content-length", str(len(reason)).encode()),
                        ],
                        reason=reason,
                    )
                )
                data += conn.send(h11.Data(data=reason))
                data += conn.send(h11.EndOfMessage())
            except h11.LocalProtocolError:
                data = b""
            if data:
                self._transport.write(data)
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.abort()
        self._linger()

    def _linger(self) -> None:
        """Close politely while the peer may still be sending: end our side, then read and
        drop what still comes, briefly and boundedly (closing with unread input makes the
        kernel send a reset, which can destroy the error reply before the client reads it)."""
        transport = self._transport
        self._lingering = 1
        self._h11 = None
        self.deadline = self._server.clock.now() + _LINGER_SECONDS
        transport.resume_reading()
        try:
            if transport.can_write_eof():
                transport.write_eof()
        except (OSError, RuntimeError, AttributeError):
            transport.close()

    def close_if_idle(self) -> None:
        """Close the connection if it is between requests."""
        conn = self._h11
        idle = conn is None or (conn.their_state is h11.IDLE and not conn.trailing_data[0])
        if self._exchange is None and idle:
            self._transport.close()

    def timed_out(self) -> None:
        """The current wait outlived its limit (called by the server's sweep)."""
        self.deadline = math.inf
        conn = self._h11
        if self._lingering or conn is None:
            self._transport.close()
            return
        if self._exchange is None and conn.their_state is h11.IDLE and not conn.trailing_data[0]:
            self._transport.close()  # an idle keep-alive connection: close quietly
            return
        log.info("request timeout from %s", self._client[0])
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            exchange.abort()
        if self._bypass:  # h11 never saw the request: answer as it would have
            self._bypass = False
            head = response_head(408, b"Request Timeout", [_TEXT, *_CLOSE_15], None, False)
            self._transport.write((head or b"") + b"Request Timeout")
        elif conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            try:
                data = conn.send(
                    h11.Response(
                        status_code=408,
                        headers=[_TEXT, *_CLOSE_15],
                        reason=b"Request Timeout",
                    )
                )
                data += conn.send(h11.Data(data=b"Request Timeout"))
                data += conn.send(h11.EndOfMessage())
                self._transport.write(data)
            except h11.LocalProtocolError:
                pass
        self._transport.close()
