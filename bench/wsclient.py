"""A Socket.IO client connection over WebSocket for the load generator (picows on uvloop).

picows does the WebSocket part (upgrade, frame parsing, control frames, close) in Cython; this
module answers Engine.IO/Socket.IO's own handshake and heartbeat (``0{...}`` -> ``40``,
``2`` -> ``3``) and hands every event and ack packet to the connection's ``on_packet``, which
the running scenario sets. Frames go out pre-built (:mod:`bench.wire`) through the transport's
``write``, which on uvloop tries the ``send`` syscall at once.
"""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from collections.abc import Callable
from typing import Any

from picows import WSCloseCode, WSError, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from .wire import CONNECT, PONG

__all__ = ("ConnectFailed", "Connections", "SioConnection", "connect", "connect_many")

_TEXT = WSMsgType.TEXT
_CLOSE = WSMsgType.CLOSE
_E = 0x34  # b"4": an Engine.IO message, the Socket.IO packet follows
_EVENT = 0x32  # b"2" after b"4": EVENT
_ACK = 0x33  # b"3" after b"4": ACK

#: What a scenario does with an event or ack packet (``42...`` / ``43...``) that arrived.
PacketHandler = Callable[["SioConnection", bytes], None]


def _ignore(conn: SioConnection, packet: bytes) -> None:
    conn.unexpected += 1


class ConnectFailed(Exception):
    """A client could not connect (refused, closed, CONNECT_ERROR, or too slow)."""


class SioConnection(WSListener):
    """One client on the main namespace. ``ready`` resolves once Socket.IO CONNECT is acked."""

    def __init__(self, index: int) -> None:
        super().__init__()
        loop = asyncio.get_running_loop()
        self.index = index
        self.on_packet: PacketHandler = _ignore
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.unexpected = 0
        self.transport: WSTransport | None = None
        self.send: Callable[[bytes], Any] = self._not_open

    @staticmethod
    def _not_open(frame: bytes) -> None:
        raise ConnectFailed("not connected")

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        raw = transport.underlying_transport
        sock = raw.get_extra_info("socket")
        if sock is not None:  # what browsers and socket.io-client do: no Nagle delay
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send = raw.write

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is not _TEXT:
            if frame.msg_type is _CLOSE:
                transport.send_close(WSCloseCode.OK)
                transport.disconnect()
            return
        data = frame.get_payload_as_bytes()
        if data[0] == _E and len(data) > 1 and data[1] in (_EVENT, _ACK):
            self.on_packet(self, data)  # the hot path: everything else happens rarely
        elif data == b"2":
            self.send(PONG)
        elif data[:1] == b"0":
            self.send(CONNECT)
        elif data[:2] == b"40":
            if not self.ready.done():
                self.ready.set_result(None)
        elif data[:2] == b"44":
            self._fail(f"CONNECT_ERROR {data[2:200]!r}")
        elif data[:1] == b"6":
            pass  # Engine.IO noop
        else:  # 1 (close), 41 (disconnect) or something this generator never asked for
            self.unexpected += 1

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._fail("closed by the server")
        if not self.closed.done():
            self.closed.set_result(None)

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectFailed(why))

    def close(self) -> None:
        """Close the WebSocket (the server sees a normal close); does not wait."""
        if self.transport is not None:
            self.transport.send_close(WSCloseCode.OK)
            self.transport.disconnect()


class _Inflated:
    """A received frame with its payload inflated (what :class:`SioConnection` reads)."""

    __slots__ = ("msg_type", "payload")

    def __init__(self, msg_type: WSMsgType, payload: bytes) -> None:
        self.msg_type = msg_type
        self.payload = payload

    def get_payload_as_bytes(self) -> bytes:
        return self.payload


class DeflateSioConnection(SioConnection):
    """A client that offered permessage-deflate (RFC 7692): compressed frames (RSV1) are
    inflated with the connection's one raw-deflate context (the server keeps its own context
    between messages) before :class:`SioConnection` reads them. It sends uncompressed frames,
    which the extension allows, so the server's cost measured is compressing what it sends
    and nothing more. picows has no extension support; zlib is the whole of it."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self._inflate = zlib.decompressobj(-15)
        #: Compressed frames received (the load generator checks deflate was negotiated).
        self.inflated = 0

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.rsv1:
            self.inflated += 1
            data = self._inflate.decompress(frame.get_payload_as_bytes() + b"\x00\x00\xff\xff")
            super().on_ws_frame(transport, _Inflated(frame.msg_type, data))  # type: ignore[arg-type]
        else:
            super().on_ws_frame(transport, frame)


#: The offer of a deflate client (the header Node's ws sends).
_DEFLATE_OFFER = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}


async def connect(url: str, index: int, timeout: float, deflate: bool = False) -> SioConnection:
    """A connected client (Engine.IO open + Socket.IO CONNECT done) or :class:`ConnectFailed`.

    ``deflate``: offer permessage-deflate and inflate what comes compressed.
    """
    factory = DeflateSioConnection if deflate else SioConnection
    try:
        async with asyncio.timeout(timeout):
            _, conn = await ws_connect(
                lambda: factory(index),
                url,
                extra_headers=_DEFLATE_OFFER if deflate else None,
                websocket_handshake_timeout=timeout,
                enable_auto_pong=True,
                read_buffer_init_size=4096,
                # uvloop's own create_connection: ~300 µs of generator CPU per connection
                # against ~450 through aiofastnet (picows's default when installed).
                use_aiofastnet=False,
            )
    except (OSError, TimeoutError, WSError) as exc:
        raise ConnectFailed(f"{type(exc).__name__}: {exc}") from None
    assert isinstance(conn, SioConnection)
    try:
        async with asyncio.timeout(timeout):
            await conn.ready
    except (TimeoutError, ConnectFailed) as exc:
        conn.close()
        raise ConnectFailed(f"{type(exc).__name__}: {exc}") from None
    return conn


class Connections:
    """What :func:`connect_many` got: clients by index (None where one failed) and timings."""

    def __init__(self, n: int) -> None:
        self.clients: list[SioConnection | None] = [None] * n
        self.errors = 0
        self.last_error = ""
        self.elapsed_s = 0.0

    @property
    def connected(self) -> list[SioConnection]:
        return [c for c in self.clients if c is not None]

    def close(self) -> None:
        for client in self.connected:
            client.close()


async def connect_many(
    url: str,
    n: int,
    window: int,
    seconds: float,
    timeout: float = 10.0,
    first_index: int = 0,
    deflate: bool = False,
) -> Connections:
    """Connect ``n`` clients, at most ``window`` handshakes in flight, for at most ``seconds``
    (``deflate``: clients that offer permessage-deflate)."""
    out = Connections(n)
    next_index = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        nonlocal next_index
        while next_index < n and time.perf_counter() < deadline:
            i = next_index
            next_index += 1
            try:
                out.clients[i] = await connect(url, first_index + i, timeout, deflate)
            except ConnectFailed as exc:
                out.errors += 1
                out.last_error = str(exc)

    async with asyncio.TaskGroup() as tg:
        for _ in range(max(1, min(window, n))):
            tg.create_task(worker())
    out.elapsed_s = time.perf_counter() - start
    return out
