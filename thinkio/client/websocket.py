"""A client WebSocket over an anyio stream (RFC 6455): the handshake, then whole messages.

The upgrade request and its 101 are HTTP, read with h11 (the key and the accept token from
wsproto's utilities). Everything after the 101 — the bytes h11 read past it included — goes
to :class:`thinkio.websocket.WebSocketConnection`, the message layer the server uses too
(wsproto, with a fast path for whole data frames): it masks what the client sends, reassembles
fragments, answers pings and runs the close handshake. This module only moves bytes.
Received messages are bounded by ``max_message`` bytes: a larger one closes with 1009.
"""

from __future__ import annotations

import contextlib
import ssl
from collections import deque
from collections.abc import Sequence

import anyio
import h11
from anyio.abc import ByteStream
from wsproto.utilities import generate_accept_token, generate_nonce

from ..websocket import WebSocketClosed, WebSocketConnection
from .http import RequestFailed, open_stream

__all__ = ("ClientWebSocket", "connect_websocket")

_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)
_READ_SIZE = 65536
#: How much of a refusal's body goes into the error message.
_REFUSAL_TEXT = 200


async def connect_websocket(
    host: str,
    port: int,
    target: str,
    *,
    tls: ssl.SSLContext | None = None,
    host_header: str,
    headers: list[tuple[str, str]] | None = None,
    max_message: int,
) -> ClientWebSocket:
    """Open a TCP connection and run the WebSocket handshake.

    Raises:
        OSError: the TCP connection could not be made.
        RequestFailed: the server refused the upgrade (its HTTP status and body are in the
            message) or the handshake broke.
    """
    stream = await open_stream(host, port, tls)
    try:
        leftover = await _handshake(stream, target, host_header, headers or [])
        return ClientWebSocket(stream, max_message=max_message, leftover=leftover)
    except BaseException:
        with anyio.CancelScope(shield=True), contextlib.suppress(*_STREAM_ERRORS, OSError):
            await stream.aclose()
        raise


async def _handshake(
    stream: ByteStream, target: str, host_header: str, headers: list[tuple[str, str]]
) -> bytes:
    """Send the upgrade request and read its answer (RFC 6455 4.1); returns the bytes that
    came after the 101."""
    conn = h11.Connection(h11.CLIENT)
    key = generate_nonce()
    request = h11.Request(
        method="GET",
        target=target,
        headers=[
            (b"host", host_header.encode("idna" if not host_header.isascii() else "ascii")),
            (b"upgrade", b"websocket"),
            (b"connection", b"Upgrade"),
            (b"sec-websocket-key", key),
            (b"sec-websocket-version", b"13"),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers),
        ],
    )
    try:
        await stream.send((conn.send(request) or b"") + (conn.send(h11.EndOfMessage()) or b""))
    except _STREAM_ERRORS:
        raise RequestFailed("the server closed the connection during the handshake") from None
    status: int | None = None
    body = b""
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise RequestFailed(f"malformed handshake response: {exc}") from None
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive(_READ_SIZE)
            except _STREAM_ERRORS:
                data = b""
            if not data and status is None:
                raise RequestFailed("the server closed the connection during the handshake")
            conn.receive_data(data)
        elif isinstance(event, h11.InformationalResponse):
            if event.status_code != 101:
                raise RequestFailed(f"WebSocket upgrade refused: HTTP {event.status_code}")
            _check_accept(event.headers, key)
            return conn.trailing_data[0]
        elif isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body = (body + event.data)[:_REFUSAL_TEXT]
        else:  # EndOfMessage, or ConnectionClosed mid-body
            text = body.decode("utf-8", "replace")
            raise RequestFailed(f"WebSocket upgrade refused: HTTP {status} {text}".rstrip())


def _check_accept(headers: Sequence[tuple[bytes, bytes]], key: bytes) -> None:
    """Whether a 101 completes our upgrade (RFC 6455 4.1, the client's checks 1-6)."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        found[name] = value if name not in found else found[name] + b"," + value
    connection = {token.strip().lower() for token in found.get(b"connection", b"").split(b",")}
    if found.get(b"upgrade", b"").lower() != b"websocket" or b"upgrade" not in connection:
        raise RequestFailed("the 101 does not upgrade to websocket")
    if found.get(b"sec-websocket-accept") != generate_accept_token(key):
        raise RequestFailed("the 101 has a wrong Sec-WebSocket-Accept")
    # We offer no extension and no subprotocol, so the server may not pick one.
    for name in (b"sec-websocket-extensions", b"sec-websocket-protocol"):
        if name in found:
            raise RequestFailed(f"the 101 picks a {name.decode()} the client did not offer")


class ClientWebSocket:
    """Send and receive whole messages on an open client WebSocket.

    Args:
        stream: the connection, past the 101.
        max_message: the largest message taken, in bytes.
        leftover: bytes read past the 101 (the first frames).
    """

    def __init__(self, stream: ByteStream, *, max_message: int, leftover: bytes = b"") -> None:
        self._stream = stream
        self._conn = WebSocketConnection(client=True, max_message=max_message)
        self._lock = anyio.Lock()
        self._ready: deque[str | bytes] = deque()
        self._stream_dead = False
        if leftover:
            self._feed(leftover)  # what they call for is written by the first receive()

    def _feed(self, data: bytes | None) -> None:
        for item in self._conn.receive_data(data):
            if type(item) is not WebSocketClosed:
                self._ready.append(item)  # type: ignore[arg-type]

    async def _write(self, data: bytes) -> None:
        if not data or self._stream_dead:
            return
        async with self._lock:
            try:
                await self._stream.send(data)
            except _STREAM_ERRORS:
                self._stream_dead = True

    async def send(self, message: str | bytes) -> None:
        """Send one message: ``str`` as a text frame, ``bytes`` as a binary frame.

        A broken or closing connection is not raised here: :meth:`receive` returns None.
        """
        await self._write(self._conn.send(message))

    async def receive(self) -> str | bytes | None:
        """The next whole message, or None once the socket is closed."""
        conn = self._conn
        while True:
            await self._write(conn.data_to_send())  # pongs, the close reply
            if self._ready:
                return self._ready.popleft()
            if conn.closed:
                await self._shutdown()
                return None
            try:
                data = await self._stream.receive(_READ_SIZE)
            except _STREAM_ERRORS:
                data = b""
            self._feed(data or None)

    async def close(self, code: int = 1000) -> None:
        """Send a close frame (if still open) and close the connection."""
        if not self._conn.closed:
            with anyio.move_on_after(1.0, shield=True):
                await self._write(self._conn.close(code))
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._stream_dead = True
        with anyio.CancelScope(shield=True), contextlib.suppress(*_STREAM_ERRORS, OSError):
            await self._stream.aclose()
