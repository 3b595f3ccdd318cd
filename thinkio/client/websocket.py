"""A client WebSocket on wsproto over an anyio stream (RFC 6455).

wsproto does the handshake, the masking every client frame needs, fragment reassembly,
answering pings and the close handshake; this module only moves bytes. Received messages
are bounded by ``max_message`` bytes: a larger one closes the socket with 1009.
"""

from __future__ import annotations

import contextlib
import ssl
from collections import deque

import anyio
from anyio.abc import ByteStream
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError as WsLocalError
from wsproto.utilities import RemoteProtocolError as WsRemoteError

from .http import RequestFailed, open_stream

__all__ = ("ClientWebSocket", "connect_websocket")

_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)
_READ_SIZE = 65536


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
    ws = WSConnection(ConnectionType.CLIENT)
    extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers or []]
    try:
        await stream.send(ws.send(Request(host=host_header, target=target, extra_headers=extra)))
        status: int | None = None
        body = b""
        while True:
            try:
                data = await stream.receive(_READ_SIZE)
            except _STREAM_ERRORS:
                data = b""
            if not data:
                raise RequestFailed("the server closed the connection during the handshake")
            ws.receive_data(data)
            for event in ws.events():
                if isinstance(event, AcceptConnection):
                    # wsproto keeps the bytes read past the 101 and parses them as frames.
                    return ClientWebSocket(stream, ws, max_message=max_message)
                if isinstance(event, RejectConnection):
                    status = event.status_code
                    if not event.has_body:
                        raise RequestFailed(f"WebSocket upgrade refused: HTTP {status}")
                elif isinstance(event, RejectData):
                    body += event.data
                    if event.body_finished:
                        text = body[:200].decode("utf-8", "replace")
                        raise RequestFailed(f"WebSocket upgrade refused: HTTP {status} {text}")
    except BaseException:
        with anyio.CancelScope(shield=True), contextlib.suppress(*_STREAM_ERRORS, OSError):
            await stream.aclose()
        raise


class ClientWebSocket:
    """Send and receive whole messages on an open client WebSocket."""

    def __init__(self, stream: ByteStream, connection: WSConnection, *, max_message: int) -> None:
        self._stream = stream
        self._ws = connection
        self._max = max_message
        self._lock = anyio.Lock()
        self._parts: list[str | bytes] = []
        self._size = 0
        self._ready: deque[str | bytes] = deque()
        #: No more messages will come (the close handshake ran or the connection broke).
        self.closed = False
        self._stream_dead = False
        #: The close code the server sent, or that we closed with.
        self.close_code: int | None = None
        # Frames wsproto already parsed from the bytes that followed the 101.
        self._process_nowait()

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

        A broken connection is not raised here: :meth:`receive` returns None for it.
        """
        if self.closed:
            return
        event = TextMessage(data=message) if isinstance(message, str) else BytesMessage(message)
        try:
            data = self._ws.send(event)
        except WsLocalError:
            self.closed = True
            return
        await self._write(data)

    async def receive(self) -> str | bytes | None:
        """The next whole message, or None once the socket is closed."""
        while not self._ready:
            if self.closed:
                return None
            try:
                data = await self._stream.receive(_READ_SIZE)
            except _STREAM_ERRORS:
                data = b""
            self._ws.receive_data(data or None)
            replies = self._process_nowait()
            for reply in replies:
                await self._write(reply)
            if self.closed:
                await self._shutdown()
        return self._ready.popleft()

    def _process_nowait(self) -> list[bytes]:
        """Turn parsed events into messages; return control frames to write."""
        replies: list[bytes] = []
        try:
            events = list(self._ws.events())
        except WsRemoteError:
            self.close_code = 1002
            self.closed = True
            return replies
        for event in events:
            if isinstance(event, TextMessage | BytesMessage):
                self._size += len(event.data)
                if self._size > self._max:
                    self.close_code = 1009
                    with contextlib.suppress(WsLocalError):
                        replies.append(self._ws.send(CloseConnection(code=1009)))
                    self.closed = True
                    return replies
                data = event.data
                self._parts.append(bytes(data) if isinstance(data, bytearray) else data)
                if event.message_finished:
                    parts, self._parts, self._size = self._parts, [], 0
                    if isinstance(event, TextMessage):
                        self._ready.append("".join(p for p in parts if isinstance(p, str)))
                    else:
                        blobs = [bytes(p) for p in parts if not isinstance(p, str)]
                        self._ready.append(b"".join(blobs))
            elif isinstance(event, Ping):
                replies.append(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                if self._ws.state is ConnectionState.REMOTE_CLOSING:
                    replies.append(self._ws.send(event.response()))
                self.closed = True
        return replies

    async def close(self, code: int = 1000) -> None:
        """Send a close frame (if still open) and close the connection."""
        if self._ws.state is ConnectionState.OPEN and not self.closed:
            self.close_code = code
            try:
                data = self._ws.send(CloseConnection(code=code))
            except WsLocalError:
                data = b""
            with anyio.move_on_after(1.0, shield=True):
                await self._write(data)
        self.closed = True
        await self._shutdown()

    async def _shutdown(self) -> None:
        self.closed = True
        self._stream_dead = True
        with anyio.CancelScope(shield=True), contextlib.suppress(*_STREAM_ERRORS, OSError):
            await self._stream.aclose()
