"""A server WebSocket on wsproto over an anyio stream.

wsproto parses what the client sends (frames, fragments, pings, close) and builds control
frames; data frames go out pre-built (see :mod:`.wsframe`). Received messages are bounded by
``max_message`` bytes: a larger one closes the socket with 1009, as Node's ``ws`` does.
"""

from __future__ import annotations

import contextlib
from collections import deque

import anyio
import wsproto
from anyio.abc import ByteStream
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.handshake import H11Handshake
from wsproto.utilities import LocalProtocolError as WsLocalError
from wsproto.utilities import RemoteProtocolError as WsRemoteError

from .http import HttpConnection, HttpRequest

__all__ = ("WebSocket", "accept_websocket")

_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)


class HandshakeFailed(Exception):
    """The upgrade request is not a valid WebSocket handshake."""


async def accept_websocket(
    request: HttpRequest, conn: HttpConnection, *, max_message: int
) -> WebSocket:
    """Answer the upgrade with 101 and return the WebSocket, carrying h11's leftover bytes.

    Raises:
        HandshakeFailed: the request lacks what RFC 6455 requires (key, version, ...);
            nothing was written, so the caller can still answer with an HTTP error.
    """
    handshake = H11Handshake(wsproto.ConnectionType.SERVER)
    try:
        handshake.initiate_upgrade_connection(request.raw_headers, request.target)
        if not any(isinstance(e, Request) for e in handshake.events()):
            raise HandshakeFailed("not a WebSocket upgrade request")
        data = handshake.send(AcceptConnection())
    except (WsRemoteError, WsLocalError) as exc:
        raise HandshakeFailed(str(exc)) from None
    connection = handshake.connection
    assert connection is not None
    conn.taken_over = True
    ws = WebSocket(conn.stream, connection, max_message=max_message)
    await ws.send_raw(data)
    connection.receive_data(conn.trailing_data())
    return ws


class WebSocket:
    """Receive messages and send pre-built frames on one WebSocket."""

    def __init__(self, stream: ByteStream, connection: Connection, *, max_message: int) -> None:
        self.stream = stream
        self._ws = connection
        self._max = max_message
        self._lock = anyio.Lock()
        self._parts: list[str | bytes] = []
        self._size = 0
        self._ready: deque[str | bytes] = deque()
        self.closed = False
        #: The close code the peer sent, or that we closed with.
        self.close_code: int | None = None

    async def send_raw(self, data: bytes) -> None:
        """Write bytes; a broken connection is noticed by the reader, not here."""
        if not data or self.closed:
            return
        async with self._lock:
            try:
                await self.stream.send(data)
            except _STREAM_ERRORS:
                self.closed = True

    async def send_frames(self, frames: list[bytes]) -> None:
        """Write pre-built data frames, one write each (clients read them one by one)."""
        for frame in frames:
            await self.send_raw(frame)

    def receive_nowait(self) -> str | bytes | None:
        """A message that was already read off the socket, or None (never waits)."""
        return self._ready.popleft() if self._ready else None

    async def receive(self) -> str | bytes | None:
        """The next whole message, or None once the socket is closed."""
        while not self._ready:
            if self.closed:
                return None
            try:
                data = await self.stream.receive(65536)
            except _STREAM_ERRORS:
                data = b""
            if not data:
                self._ws.receive_data(None)
            else:
                self._ws.receive_data(data)
            await self._process()
        return self._ready.popleft()

    async def _process(self) -> None:
        try:
            events = list(self._ws.events())
        except WsRemoteError:
            await self.close(1002)
            return
        for event in events:
            if isinstance(event, TextMessage | BytesMessage):
                self._size += len(event.data)
                if self._size > self._max:
                    await self.close(1009, "message too big")
                    return
                data = event.data
                self._parts.append(bytes(data) if isinstance(data, bytearray) else data)
                if event.message_finished:
                    parts, self._parts, self._size = self._parts, [], 0
                    if isinstance(event, TextMessage):
                        self._ready.append("".join(parts))  # type: ignore[arg-type]
                    else:
                        self._ready.append(b"".join(parts))  # type: ignore[arg-type]
            elif isinstance(event, Ping):
                await self.send_raw(self._ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                if self._ws.state is ConnectionState.REMOTE_CLOSING:
                    await self.send_raw(self._ws.send(event.response()))
                await self._shutdown()
                return

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (if the socket is still open) and close the connection."""
        if self.closed:
            return
        self.close_code = code
        if self._ws.state is ConnectionState.OPEN:
            try:
                data = self._ws.send(CloseConnection(code=code, reason=reason))
            except WsLocalError:
                data = b""
            await self.send_raw(data)
        await self._shutdown()

    async def _shutdown(self) -> None:
        self.closed = True
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(*_STREAM_ERRORS):
                await self.stream.aclose()
