"""A :class:`~.transport.Transport` over a non-blocking socket, written once against anyio.

Used on trio where ``select.epoll`` does not exist (on Linux :mod:`._epoll` serves every
connection from one task), and on asyncio only in the transport contract tests (asyncio has
faster transports of its own, see :mod:`._asyncio`). One task per connection waits for the
socket to be readable, then reads and calls ``data_received`` — trio keeps the fd registered
between waits cheaply, and reading after the wait avoids an ``EAGAIN`` per message (measured
in ``../shared/perf``). Writes are tried at once from whoever writes; only what the kernel does
not take is buffered, and a flusher task (started only then) waits for the socket to become
writable.

Hand-written because anyio's ``SocketStream`` re-arms the poller and takes a scheduler
checkpoint on every ``receive``/``send``, which is most of a message's cost.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

import anyio

from ._buffered import READ_SIZE, BufferedSocketTransport
from .transport import StreamProtocol

log = logging.getLogger("thinkio.net")

__all__ = ("SocketTransport",)

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


class SocketTransport(BufferedSocketTransport):
    """A transport driven by :meth:`run`, which the backend runs as the connection's task."""

    __slots__ = (
        "_detached",
        "_flushing",
        "_lost",
        "_paused",
        "_resume",
        "_scope",
        "_spawn",
    )

    def __init__(self, sock: socket.socket, protocol: StreamProtocol, spawn: Spawn) -> None:
        super().__init__(sock, protocol)
        self._spawn = spawn
        self._flushing = False
        self._lost = False
        self._detached = False
        self._paused = False
        self._resume: anyio.Event | None = None
        self._scope: anyio.CancelScope | None = None

    # -- the connection's task --------------------------------------------------------------

    async def run(self) -> None:
        """Read until the connection ends, calling the protocol; then close the socket."""
        sock = self._sock
        error: BaseException | None = None
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                self._protocol.connection_made(self)
                while not self._closing:
                    if self._paused:
                        self._resume = anyio.Event()
                        await self._resume.wait()
                        continue
                    await anyio.wait_readable(sock)
                    while not self._closing and not self._paused:
                        try:
                            data = sock.recv(READ_SIZE)
                        except BlockingIOError:
                            break
                        if not data:
                            if not self._protocol.eof_received():
                                self.close()
                            else:
                                self._paused = True  # nothing more to read; wait for close
                            break
                        self._protocol.data_received(data)
                        if len(data) < READ_SIZE:
                            break
        except (OSError, anyio.ClosedResourceError) as exc:
            error = exc
        except Exception:
            # A protocol bug must not take the server's task group down: this connection
            # ends, the others go on (asyncio's transports do the same).
            log.exception("protocol callback failed; closing the connection")
        finally:
            self._closing = True
            self._finish(error)

    def _finish(self, error: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._clear()
        if not self._detached:
            anyio.notify_closing(self._sock)
            with contextlib.suppress(OSError):
                self._sock.close()
        self.tell_lost(error)

    # -- writing ----------------------------------------------------------------------------

    def _write_failed(self, exc: OSError) -> None:
        self._broken(exc)

    def _backlogged(self) -> None:
        if not self._flushing:
            self._flushing = True
            self._spawn(self._flush)

    async def _flush(self) -> None:
        sock = self._sock
        buffer = self._buffer
        try:
            while buffer and not self._lost:
                try:
                    await anyio.wait_writable(sock)
                except (OSError, anyio.ClosedResourceError):
                    return
                try:
                    self._send_buffered()
                except BlockingIOError:
                    continue
                except OSError as exc:
                    self._broken(exc)
                    return
        finally:
            self._flushing = False
        if self._eof and not self._buffer:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        if self._closing and self._scope is not None:
            self._scope.cancel()

    def _broken(self, exc: OSError) -> None:
        self._clear()
        self._closing = True
        if self._scope is not None:
            self._scope.cancel()

    # -- control ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if not self._buffer and self._scope is not None:
            self._scope.cancel()
        # else: the flusher cancels the reader once the buffer is written.

    def abort(self) -> None:
        self._clear()
        self._closing = True
        if self._scope is not None:
            self._scope.cancel()

    def detach(self) -> socket.socket:
        """Stop serving the socket without closing it, and return it (``connection_lost``
        still follows)."""
        self._detached = True
        self.abort()
        return self._sock

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            if self._resume is not None:
                self._resume.set()
                self._resume = None
