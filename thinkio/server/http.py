"""HTTP/1.1 connections on h11: keep-alive, bounded heads and bodies, routing by path.

One task serves one TCP connection. It parses requests with h11, hands each to the handler of
the first mount whose path matches (or the fallback), and loops for the next request while the
connection stays reusable. A handler may also *take over* the connection (a WebSocket
upgrade); then the leftover bytes h11 had already read past the request are handed on with it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

import anyio
import h11
from anyio.abc import ByteStream

from ..limits import Limits

__all__ = ("HttpConnection", "HttpRequest", "Router", "serve_http")

log = logging.getLogger("thinkio.http")

_READ_SIZE = 65536
#: How long, and how much, a closing connection keeps reading what the peer still sends.
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 4 * 1024 * 1024


@dataclass(slots=True)
class HttpRequest:
    """A parsed request head."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    #: Header names lower-cased; repeated headers joined with ", ".
    headers: dict[str, str]
    raw_headers: list[tuple[bytes, bytes]]
    client: tuple[str, int]
    http_version: str = "1.1"
    extras: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_h11(cls, event: h11.Request, client: tuple[str, int]) -> HttpRequest:
        target = event.target.decode("latin-1")
        parts = urlsplit(target)
        headers: dict[str, str] = {}
        raw = list(event.headers)
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return cls(
            method=event.method.decode("ascii", "replace"),
            target=target,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            raw_headers=raw,
            client=client,
            http_version=event.http_version.decode("ascii", "replace"),
        )

    @property
    def websocket_upgrade(self) -> bool:
        """The request asks to switch to WebSocket."""
        return (
            self.headers.get("upgrade", "").lower() == "websocket"
            and "upgrade" in self.headers.get("connection", "").lower()
        )


class BodyTooLarge(Exception):
    """The request body is larger than allowed; the connection cannot be reused."""


class HttpConnection:
    """One HTTP/1.1 connection: reading requests and bodies, writing responses."""

    def __init__(self, stream: ByteStream, limits: Limits, client: tuple[str, int]) -> None:
        self.stream = stream
        self.client = client
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self.taken_over = False
        self._eof = False

    async def _receive(self) -> None:
        try:
            data = await self.stream.receive(_READ_SIZE)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            data = b""
        if not data:
            self._eof = True
        self.h11.receive_data(data)

    async def next_event(self) -> object:
        """The next h11 event, reading from the socket as needed."""
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                if self._eof:
                    return h11.ConnectionClosed()
                await self._receive()
                continue
            return event

    async def read_body(self, limit: int) -> bytes:
        """The whole request body.

        Raises:
            BodyTooLarge: it is longer than ``limit`` bytes (checked against Content-Length
                first, so an honest client is refused before it sends the body).
        """
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self.next_event()
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            else:
                raise BodyTooLarge  # the connection ended mid-body: unusable

    async def wait_closed(self) -> None:
        """Return when the peer closes the connection (used while a long poll waits).

        Bytes that arrive meanwhile (a pipelined request) stay buffered in h11.
        """
        while not self._eof:
            await self._receive()

    async def respond(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
        *,
        close: bool = False,
    ) -> None:
        """Write a complete response."""
        hdrs = [*headers, (b"content-length", str(len(body)).encode())]
        if close:
            hdrs.append((b"connection", b"close"))
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
        try:
            data = self.h11.send(h11.Response(status_code=status, headers=hdrs, reason=reason))
            data = (data or b"") + (self.h11.send(h11.Data(data=body)) or b"") if body else data
            data = (data or b"") + (self.h11.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            # The request could not take a response any more (e.g. the peer already went).
            return
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self.stream.send(data)

    async def respond_head(
        self, status: int, headers: list[tuple[bytes, bytes]], length: int | None = None
    ) -> None:
        """A response without a body: to a HEAD (``length``: what a GET would send) or a 304."""
        hdrs = list(headers)
        if length is not None:
            hdrs.append((b"content-length", str(length).encode()))
        try:
            reason = HTTPStatus(status).phrase.encode()
            data = self.h11.send(h11.Response(status_code=status, headers=hdrs, reason=reason))
            data = (data or b"") + (self.h11.send(h11.EndOfMessage()) or b"")
        except h11.LocalProtocolError:
            return
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self.stream.send(data)

    def trailing_data(self) -> bytes:
        """Bytes h11 read past the current request (the start of a WebSocket stream)."""
        return bytes(self.h11.trailing_data[0])


Handler = Callable[[HttpRequest, HttpConnection], Awaitable[None]]


class Router:
    """Mounts: the first whose path matches a request's path serves it."""

    def __init__(self, fallback: Handler | None = None) -> None:
        self._mounts: list[tuple[str, Handler]] = []
        self.fallback = fallback or not_found

    def mount(self, path: str, handler: Handler) -> None:
        """Serve ``path`` and ``path/`` (and anything below it) with ``handler``.

        The longest matching mount wins, whatever the order of mounting: a file mounted at
        ``/socket.io/socket.io.js`` is served before the Engine.IO mount at ``/socket.io``.
        """
        self._mounts.append((path.rstrip("/"), handler))
        self._mounts.sort(key=lambda mount: len(mount[0]), reverse=True)

    def resolve(self, path: str) -> Handler:
        """The handler for a request path (the fallback when no mount matches)."""
        for prefix, handler in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                return handler
        return self.fallback


async def not_found(request: HttpRequest, conn: HttpConnection) -> None:
    """The default fallback: 404."""
    await conn.respond(404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")


async def serve_http(
    stream: ByteStream, router: Router, limits: Limits, client: tuple[str, int]
) -> None:
    """Serve HTTP requests on one connection until it closes or is taken over."""
    conn = HttpConnection(stream, limits, client)
    lingering = False
    try:
        while True:
            try:
                event = await conn.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                if conn.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    # h11 still lets us answer a request it could not parse.
                    body = f"Bad request: {exc}".encode()
                    await conn.respond(status, [(b"content-type", b"text/plain")], body, close=True)
                return
            if not isinstance(event, h11.Request):
                return
            request = HttpRequest.from_h11(event, client)
            try:
                await router.resolve(request.path)(request, conn)
            except BodyTooLarge:
                lingering = True
                return
            if conn.taken_over:
                return
            if conn.h11.their_state is h11.SEND_BODY:
                # Answered without reading the body (an error reply): read and drop it, so the
                # connection stays usable and closing it never resets the reply away.
                try:
                    await conn.read_body(limits.max_payload_bytes)
                except BodyTooLarge:
                    lingering = True
                    return
            if conn.h11.our_state is not h11.DONE or conn.h11.their_state is not h11.DONE:
                return
            try:
                conn.h11.start_next_cycle()
            except h11.LocalProtocolError:
                return
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        pass
    finally:
        if not conn.taken_over:
            with anyio.CancelScope(shield=True):
                if lingering:
                    await _linger(stream)
                await stream.aclose()


async def _linger(stream: ByteStream) -> None:
    """Close politely while the peer may still be sending (a refused, oversized body).

    Closing a socket with unread input makes the kernel send a reset, which can destroy the
    error reply before the client reads it. So: end our side, then read and drop what still
    comes, briefly and boundedly.
    """
    with contextlib.suppress(Exception):
        await stream.send_eof()
    with anyio.move_on_after(_LINGER_SECONDS), contextlib.suppress(Exception):
        dropped = 0
        while dropped < _LINGER_BYTES:
            dropped += len(await stream.receive(_READ_SIZE))
