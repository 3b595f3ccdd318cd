"""A connection-only client for the storm and idle scenarios: the upgrade, Engine.IO open and
Socket.IO CONNECT over a plain asyncio protocol, without picows.

Those scenarios measure connections, not messages, and picows's ``ws_connect`` costs the
generator about as much CPU per connection as the fastest server spends on one (~300 µs on
uvloop, most of it in its Python-level handshake), so the generator, not the server, set the
storm's pace. This client writes one pre-built upgrade request, checks for a 101, then reads
the few frames that follow with a minimal parser (server frames are unmasked; RFC 6455 §5.2):
it answers the open with CONNECT, Engine.IO pings with pongs, and resolves ``ready`` on the
CONNECT's reply. Every server sees the same bytes from it as from a browser: a GET with the
WebSocket headers, then masked text frames. No WebSocket library exposes a handshake this
lean, hence the module.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from urllib.parse import urlsplit

from .wire import CONNECT, PONG
from .wsclient import ConnectFailed, Connections

__all__ = ("connect_many_raw",)

_KEY = base64.b64encode(os.urandom(16))
#: A masked close frame with code 1000 (the mask is all zero bytes: the code reads as is).
_CLOSE_FRAME = b"\x88\x82\x00\x00\x00\x00\x03\xe8"


class RawConnection(asyncio.Protocol):
    """One client on the main namespace; the surface storm and idle use of
    :class:`~bench.wsclient.SioConnection` (``ready``, ``closed``, ``close()``)."""

    def __init__(self, index: int, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.index = index
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.unexpected = 0
        self._request = request
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's: no subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:  # what browsers and socket.io-client do: no Nagle delay
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._fail(f"upgrade refused: {buffer[:200]!r}")
                return
            self._upgraded = True
            buffer = buffer[end + 4 :]
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            size = buffer[1] & 0x7F
            start = 2
            if size == 126:
                if len(buffer) < 4:
                    break
                size, start = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    break
                size, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + size:
                break
            self._frame(opcode, buffer[start : start + size])
            buffer = buffer[start + size :]
        self._buffer = buffer

    def _frame(self, opcode: int, payload: bytes) -> None:
        transport = self._transport
        assert transport is not None
        if opcode == 8:
            transport.close()
        elif opcode != 1:
            return  # binary, ping (thinkio and Node use Engine.IO pings), pong
        elif payload == b"2":
            transport.write(PONG)
        elif payload[:1] == b"0":
            transport.write(CONNECT)
        elif payload[:2] == b"40":
            if not self.ready.done():
                self.ready.set_result(None)
        elif payload[:2] == b"44":
            self._fail(f"CONNECT_ERROR {payload[2:200]!r}")
        elif payload[:1] != b"6":
            self.unexpected += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail("closed by the server")
        if not self.closed.done():
            self.closed.set_result(None)

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectFailed(why))

    def close(self) -> None:
        """Close the WebSocket (the server sees a normal close); does not wait."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_CLOSE_FRAME)
            self._transport.close()


async def connect_many_raw(url: str, n: int, window: int, seconds: float,
                           timeout: float = 10.0) -> Connections:  # fmt: skip
    """Connect ``n`` clients, at most ``window`` handshakes in flight, for at most ``seconds``
    (what :func:`bench.wsclient.connect_many` does, with :class:`RawConnection`)."""
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {_KEY.decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    out = Connections(n)
    next_index = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def one(i: int) -> None:
        conn = RawConnection(i, request)
        try:
            async with asyncio.timeout(timeout):
                await loop.create_connection(lambda: conn, host, port)
                await conn.ready
        except (OSError, TimeoutError, ConnectFailed) as exc:
            conn.close()
            out.errors += 1
            out.last_error = f"{type(exc).__name__}: {exc}"
            return
        out.clients[i] = conn  # type: ignore[call-overload]

    async def worker() -> None:
        nonlocal next_index
        while next_index < n and time.perf_counter() < deadline:
            i = next_index
            next_index += 1
            await one(i)

    async with asyncio.TaskGroup() as tg:
        for _ in range(max(1, min(window, n))):
            tg.create_task(worker())
    out.elapsed_s = time.perf_counter() - start
    return out
