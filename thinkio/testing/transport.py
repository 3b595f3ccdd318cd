"""An in-memory transport: drive a protocol with bytes, with no socket and no event loop.

:class:`MemoryTransport` implements :class:`thinkio.net.Transport` over two byte buffers. A
test feeds what "the client" sends (:meth:`MemoryTransport.feed`) and reads what the protocol
wrote (:meth:`MemoryTransport.take`). Its kernel buffer is finite (``capacity``): writes
beyond it stay in the transport's own buffer and pause the protocol, exactly as a real
transport does when the peer stops reading, until the test :meth:`drains <MemoryTransport.drain>`
it. So HTTP, WebSocket and Engine.IO protocols, back-pressure included, are tested
deterministically on any backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..net import StreamProtocol

__all__ = ("MemoryTransport",)


class MemoryTransport:
    """A :class:`thinkio.net.Transport` whose peer is the test.

    Args:
        protocol: the protocol to drive (``connection_made`` is called at once).
        peer: the address ``get_extra_info("peername")`` reports.
        capacity: how many written bytes "the network" holds before the rest is buffered
            here and the protocol is paused (None: unlimited).
        high: the buffered size above which the protocol is paused.
    """

    def __init__(
        self,
        protocol: StreamProtocol,
        *,
        peer: tuple[str, int] = ("127.0.0.1", 50000),
        capacity: int | None = None,
        high: int = 64 * 1024,
    ) -> None:
        self._protocol: Any = protocol
        self._peer = peer
        self._capacity = capacity
        self._high = high
        self._low = high // 4
        self._sent = bytearray()  # taken by "the network", not yet read by the test
        self._buffer = bytearray()  # waiting for room in the network
        self._writing_paused = False
        #: ``pause_reading`` is in effect.
        self.reading_paused = False
        #: ``close`` or ``abort`` was called.
        self.closing = False
        #: ``connection_lost`` was called.
        self.lost = False
        #: The protocol closed its sending side.
        self.eof_written = False
        protocol.connection_made(self)

    # -- the test's side --------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the peer."""
        if not self.lost:
            self._protocol.data_received(data)

    def feed_eof(self) -> None:
        """The peer closed its sending side."""
        if not self.lost and not self._protocol.eof_received():
            self.close()

    def take(self) -> bytes:
        """Everything written so far and not yet taken (what "the client" reads)."""
        data = bytes(self._sent)
        self._sent.clear()
        self.drain()
        return data

    def drain(self) -> None:
        """Let the network take what the transport buffered (the peer reads again)."""
        if self._buffer:
            room = (
                len(self._buffer)
                if self._capacity is None
                else max(self._capacity - len(self._sent), 0)
            )
            self._sent += self._buffer[:room]
            del self._buffer[:room]
        if self._writing_paused and len(self._buffer) <= self._low:
            self._writing_paused = False
            self._protocol.resume_writing()
        self._maybe_lost()

    def disconnect(self, exc: BaseException | None = None) -> None:
        """The connection breaks (``connection_lost(exc)``)."""
        self._lose(exc)

    # -- the Transport interface ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.closing or self.lost or not data:
            return
        if self._buffer or (
            self._capacity is not None and len(self._sent) + len(data) > self._capacity
        ):
            self._buffer += data
            self.drain()
            if not self._writing_paused and len(self._buffer) > self._high:
                self._writing_paused = True
                self._protocol.pause_writing()
            return
        self._sent += data

    def writelines(self, list_of_data: Iterable[bytes]) -> None:
        self.write(b"".join(list_of_data))

    def close(self) -> None:
        self.closing = True
        self._maybe_lost()

    def abort(self) -> None:
        self.closing = True
        self._buffer.clear()
        self._lose(None)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.eof_written = True

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.reading_paused = True

    def resume_reading(self) -> None:
        self.reading_paused = False

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = 64 * 1024 if high is None else high
        self._low = self._high // 4 if low is None else low

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._peer
        return default

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol

    def get_protocol(self) -> Any:
        return self._protocol

    # -- internals --------------------------------------------------------------------------

    def _maybe_lost(self) -> None:
        if self.closing and not self._buffer:
            self._lose(None)

    def _lose(self, exc: BaseException | None) -> None:
        if not self.lost:
            self.lost = True
            self.closing = True
            self._protocol.connection_lost(exc)
