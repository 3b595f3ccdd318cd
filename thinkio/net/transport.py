"""The byte transport every protocol of thinkio runs on, and the callbacks it drives.

The interface is asyncio's ``Transport``/``Protocol`` pair, on purpose: on asyncio and uvloop
the event loop's own transports are used as they are (the fd stays registered with the
poller, data is handed to :meth:`StreamProtocol.data_received` in the read callback, and
``write`` tries the syscall at once and buffers only what the kernel does not take), so the
hot path has no task, no wake-up and no lock per message. On other backends one anyio task
reads every ready connection of an epoll (:mod:`._epoll`, Linux) or one task per connection
reads its socket (:mod:`._sockets`), and calls the same callbacks. Nothing above this package
knows which it got.

Theory of operation::

    accept loop (listen.py) --socket--> backend.start(sock, protocol)
    transport --connection_made(transport)--> protocol
    transport --data_received(bytes)------->  protocol   (parse, dispatch, write)
    protocol  --write(bytes)---------------> transport  (try now; buffer the rest)
    transport --pause_writing()------------> protocol   (buffer above the high mark)
    transport --resume_writing()-----------> protocol   (buffer drained below the low mark)
    transport --connection_lost(exc)-------> protocol   (exactly once, last)

A protocol may replace itself (``transport.set_protocol``) when a connection changes what it
speaks, as an HTTP connection does when it becomes a WebSocket.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ("StreamProtocol", "Transport", "set_nodelay")


class Transport(Protocol):
    """What a protocol may do with its connection (a subset of asyncio's ``Transport``)."""

    def write(self, data: bytes) -> None:
        """Send bytes now if the kernel takes them; buffer what it does not. Never blocks."""

    def writelines(self, list_of_data: Iterable[bytes]) -> None:
        """Write several buffers, as one write where possible."""

    def close(self) -> None:
        """Close once the buffered bytes are written; ``connection_lost`` follows."""

    def abort(self) -> None:
        """Close now, dropping buffered bytes."""

    def can_write_eof(self) -> bool:
        """Whether :meth:`write_eof` is supported."""

    def write_eof(self) -> None:
        """Close our sending side once the buffered bytes are written (keep reading)."""

    def is_closing(self) -> bool:
        """The transport is closing or closed."""

    def pause_reading(self) -> None:
        """Stop calling ``data_received`` until :meth:`resume_reading`."""

    def resume_reading(self) -> None:
        """Undo :meth:`pause_reading`."""

    def get_write_buffer_size(self) -> int:
        """Bytes written but not yet taken by the kernel."""

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        """Buffer sizes at which ``pause_writing`` / ``resume_writing`` are called."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """``"peername"``, ``"sockname"`` or ``"socket"``."""

    def set_protocol(self, protocol: Any) -> None:
        """Send the next callbacks to another protocol."""

    def get_protocol(self) -> Any:
        """The protocol the callbacks go to."""


class StreamProtocol:
    """Base class for protocols: every callback does nothing until overridden.

    Callbacks run in the event loop's reading context: they must not block, and they may not
    await. Work that must wait is handed to a task (see :class:`thinkio.net.TaskSpawner`).
    """

    __slots__ = ()

    def connection_made(self, transport: Any) -> None:
        """The connection is up; ``transport`` is its :class:`Transport`."""

    def data_received(self, data: bytes) -> None:
        """Bytes arrived."""

    def eof_received(self) -> bool | None:
        """The peer closed its sending side. Return True to keep the transport open (to
        finish writing); anything else closes it."""
        return None

    def connection_lost(self, exc: BaseException | None) -> None:
        """The connection is closed (``exc``: why, if it broke). Always called once, last;
        also, without ``connection_made``, for an accepted socket that could not be served."""

    def pause_writing(self) -> None:
        """The transport's write buffer went above its high mark: stop producing."""

    def resume_writing(self) -> None:
        """The write buffer drained below its low mark."""


def set_nodelay(sock: socket.socket) -> None:
    """Send every write at once (``TCP_NODELAY``); nothing if ``sock`` is not TCP, or gone."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
