"""What the two socket transports written against anyio share (:mod:`._epoll`,
:mod:`._sockets`): the socket, the protocol, and the buffer of what the kernel has not taken
yet, with the back-pressure callbacks it drives.

They differ only in how they wait for the socket (one epoll for every connection, or one
task per connection); the buffer's accounting is kept here once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterable
from typing import Any

from .transport import StreamProtocol

__all__ = ("IOV_MAX", "READ_SIZE", "BufferedSocketTransport")

log = logging.getLogger("thinkio.net")

#: Bytes read per ``recv``; a read that fills it is followed by another without waiting.
READ_SIZE = 65536
#: Most buffers handed to one ``sendmsg`` (Linux's IOV_MAX).
IOV_MAX = 1024
_HIGH = 64 * 1024


class BufferedSocketTransport:
    """A socket transport's state and the methods that do not depend on how it waits."""

    __slots__ = (
        "_buffer",
        "_buffered",
        "_closing",
        "_eof",
        "_high",
        "_low",
        "_protocol",
        "_sock",
        "_writing_paused",
    )

    def __init__(self, sock: socket.socket, protocol: StreamProtocol) -> None:
        self._sock = sock
        self._protocol = protocol
        #: What the kernel did not take yet, in order (a memoryview for a partly sent one).
        self._buffer: list[bytes | memoryview] = []
        self._buffered = 0
        self._high = _HIGH
        self._low = _HIGH // 4
        self._writing_paused = False
        #: close() was called (or the connection broke): nothing more is written or read.
        self._closing = False
        #: write_eof() was called: the sending side shuts once the buffer is written.
        self._eof = False

    def write(self, data: bytes) -> None:
        """Send at once what the kernel takes; buffer the rest behind what is buffered."""
        if self._closing or not data:
            return
        if self._buffer:
            self._queue(data)
            return
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._write_failed(exc)
            return
        if sent < len(data):
            self._queue(memoryview(data)[sent:])
            self._backlogged()

    def writelines(self, list_of_data: Iterable[bytes]) -> None:
        self.write(b"".join(list_of_data))

    def write_eof(self) -> None:
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
        # else: the subclass's flush shuts the sending side once the buffer is written.

    def is_closing(self) -> bool:
        return self._closing

    def tell_lost(self, error: BaseException | None) -> None:
        """Call the protocol's ``connection_lost`` (a failure there is logged, not raised)."""
        try:
            self._protocol.connection_lost(error)
        except Exception:
            log.exception("connection_lost failed")

    def _write_failed(self, exc: OSError) -> None:
        """A write found the connection broken (the subclass ends it)."""
        raise NotImplementedError

    def _backlogged(self) -> None:
        """The buffer just stopped being empty: wait for the socket to be writable."""
        raise NotImplementedError

    def _queue(self, data: bytes | memoryview) -> None:
        """Buffer ``data`` behind what is buffered; ``pause_writing`` above the high mark."""
        self._buffer.append(data)
        self._buffered += len(data)
        if not self._writing_paused and self._buffered > self._high:
            self._writing_paused = True
            self._protocol.pause_writing()

    def _send_buffered(self) -> None:
        """Send what the kernel takes of the buffer (scatter-gather: a backlog of megabytes
        is not joined, which would copy it on every pass); ``resume_writing`` once below the
        low mark.

        Raises:
            BlockingIOError: the kernel took nothing.
            OSError: the connection is broken.
        """
        buffer = self._buffer
        sent = self._sock.sendmsg(buffer[:IOV_MAX])
        self._buffered -= sent
        while sent:
            first = buffer[0]
            if sent >= len(first):
                sent -= len(first)
                del buffer[0]
            else:
                buffer[0] = first[sent:]  # a memoryview slice: no copy
                sent = 0
        if self._writing_paused and self._buffered <= self._low:
            self._writing_paused = False
            self._protocol.resume_writing()

    def _clear(self) -> None:
        self._buffer.clear()
        self._buffered = 0

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return self._buffered

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = _HIGH if high is None else high
        self._low = self._high // 4 if low is None else low

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        try:
            if name == "peername":
                return self._sock.getpeername()
            if name == "sockname":
                return self._sock.getsockname()
        except OSError:
            return default
        if name == "socket":
            return self._sock
        return default

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol

    def get_protocol(self) -> Any:
        return self._protocol
