"""A :class:`~.transport.Transport` for every connection of a server from one task and one
``epoll`` object (Linux; used on trio).

Each connection's fd is registered once in an ``epoll`` object of our own, level-triggered,
for what the connection waits for (``EPOLLIN`` while it reads, ``EPOLLOUT`` while the kernel
refused part of a write). One task waits for that epoll's own fd to become readable — a
single ``wait_readable`` however many connections there are — then takes every ready fd
from ``epoll.poll(0)`` and, in that same task, reads each one and calls its protocol's
``data_received`` (or writes what it had buffered). Writes are tried at once from whoever
writes; only what the kernel refuses waits for ``EPOLLOUT``.

Why hand-written, and why not :mod:`._sockets` (one task per connection): trio's poller
re-arms an fd with ``epoll_ctl`` on every ``wait_readable``, and every wait parks and
reschedules a task. Per message that was most of a round trip's CPU on trio (profiled:
~40% in syscalls and epoll, ~8.5% in trio's ``_update_registrations``). Here a wake-up costs
one re-arm of one fd and one task switch for all the connections that are ready, and the
registrations of the connections change only when what they wait for does (pausing,
a backlog of writes, EOF). :mod:`._sockets` stays the path where ``select.epoll`` does not
exist.

The task exits once no connection is left (so a server that waits for its tasks to finish is
not held up by it), and a new one starts with the next connection. Cancelling it (the
server stopping) loses every connection it serves. ``connection_lost`` is always called from
that task, never from inside ``close()``/``abort()``: a close from another task wakes it
through an ``eventfd`` registered in the same epoll.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
from collections.abc import Awaitable, Callable

import anyio

from ._buffered import READ_SIZE, BufferedSocketTransport
from .transport import StreamProtocol, set_nodelay

log = logging.getLogger("thinkio.net")

__all__ = ("AVAILABLE", "EpollBackend", "EpollTransport")

#: This platform has ``epoll`` (and ``eventfd``): Linux.
AVAILABLE = hasattr(select, "epoll") and hasattr(os, "eventfd")

#: Full reads of one connection per wake-up, so that one sender cannot hold the others up
#: (level-triggered: what is left is reported again at the next wake-up).
_READS_PER_TURN = 16
_IN = getattr(select, "EPOLLIN", 1)
_OUT = getattr(select, "EPOLLOUT", 4)
#: Reported whether asked for or not: the connection is broken, a read or write tells how.
_TROUBLE = getattr(select, "EPOLLERR", 8) | getattr(select, "EPOLLHUP", 16)

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


class EpollBackend:
    """Serves accepted sockets from one reactor task (:class:`_Reactor`) per backend."""

    name = "epoll"

    def __init__(self, spawn: Spawn) -> None:
        self._reactor = _Reactor(spawn)

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None:
        """Serve ``sock`` with ``protocol``; ``connection_made`` is called now."""
        set_nodelay(sock)
        self._reactor.add(EpollTransport(sock, protocol, self._reactor))


class _Reactor:
    """The epoll, the task that waits on it, and the connections registered in it."""

    __slots__ = ("_dispatching", "_epoll", "_lost", "_spawn", "_waker", "_woken", "conns")

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn
        self._epoll: select.epoll | None = None
        self._waker = -1
        self._woken = False
        #: The reactor task is handling ready fds: what it does next includes ``_lost``.
        self._dispatching = False
        #: Connections closed and not yet told (``connection_lost``), with the error.
        self._lost: list[tuple[EpollTransport, BaseException | None]] = []
        #: Every live connection by fd (registered in the epoll or not: paused ones are not).
        self.conns: dict[int, EpollTransport] = {}

    @property
    def epoll(self) -> select.epoll:
        assert self._epoll is not None
        return self._epoll

    def add(self, transport: EpollTransport) -> None:
        if self._epoll is None:
            self._epoll = select.epoll()
            self._waker = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._epoll.register(self._waker, _IN)
            try:
                self._spawn(self._run)
            except BaseException:
                self._close_epoll()
                transport.get_extra_info("socket").close()
                raise
        self.conns[transport.fd] = transport
        transport.made()

    def lose(self, transport: EpollTransport, error: BaseException | None) -> None:
        """``transport`` is done: drop it now, tell its protocol from the reactor task."""
        self.conns.pop(transport.fd, None)
        self._lost.append((transport, error))
        if not self._dispatching and not self._woken:
            self._woken = True
            with contextlib.suppress(OSError):
                os.eventfd_write(self._waker, 1)

    async def _run(self) -> None:
        epoll = self.epoll
        epfd = epoll.fileno()
        waker = self._waker
        conns = self.conns
        wait_readable = anyio.wait_readable
        try:
            while True:
                if self._lost:
                    self._tell_lost()
                if not conns:
                    break
                await wait_readable(epfd)
                self._dispatching = True
                try:
                    for fd, events in epoll.poll(0):
                        transport = conns.get(fd)
                        if transport is None:
                            if fd == waker:
                                with contextlib.suppress(OSError):
                                    os.eventfd_read(waker)
                                self._woken = False
                            continue
                        try:
                            transport.ready(events)
                        except OSError as exc:
                            transport.drop(exc)
                        except Exception:
                            # A protocol bug must not take the server down: this connection
                            # ends, the others go on (asyncio's transports do the same).
                            log.exception("protocol callback failed; closing the connection")
                            transport.drop(None)
                finally:
                    self._dispatching = False
        finally:
            # Cancelled (the server stops) or done: every connection left is lost.
            for transport in list(conns.values()):
                transport.drop(None)
            self._tell_lost()
            self._close_epoll()

    def _tell_lost(self) -> None:
        while self._lost:
            lost, self._lost = self._lost, []
            for transport, error in lost:
                transport.tell_lost(error)

    def _close_epoll(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
            self._epoll = None
            os.close(self._waker)
            self._waker = -1
            self._woken = False


class EpollTransport(BufferedSocketTransport):
    """One connection served by a :class:`_Reactor`."""

    __slots__ = (
        "_detached",
        "_done",
        "_mask",
        "_paused",
        "_reactor",
        "_read_eof",
        "fd",
    )

    def __init__(self, sock: socket.socket, protocol: StreamProtocol, reactor: _Reactor) -> None:
        super().__init__(sock, protocol)
        self.fd = sock.fileno()
        self._reactor = reactor
        self._done = False
        self._detached = False
        self._read_eof = False
        self._paused = False
        #: What the fd is registered for in the epoll (0: not registered).
        self._mask = 0

    # -- called by the reactor --------------------------------------------------------------

    def made(self) -> None:
        try:
            self._protocol.connection_made(self)
        except Exception:
            log.exception("connection_made failed; closing the connection")
            self.drop(None)
            return
        self._rearm()

    def ready(self, events: int) -> None:
        """The epoll reported ``events`` for this fd: write what waits, read what came."""
        if self._buffer and events & (_OUT | _TROUBLE):
            self._flush()
        if self._mask & _IN and events & (_IN | _TROUBLE) and not self._done:
            self._read()

    def _read(self) -> None:
        sock = self._sock
        for _ in range(_READS_PER_TURN):
            if self._closing or self._paused:
                return
            try:
                data = sock.recv(READ_SIZE)
            except BlockingIOError:
                return
            if not data:
                self._read_eof = True
                if not self._protocol.eof_received():
                    self.close()
                else:
                    self._rearm()  # nothing more to read; wait for close
                return
            self._protocol.data_received(data)
            if len(data) < READ_SIZE:
                return

    def _rearm(self) -> None:
        """Register the fd for what the connection waits for now (a syscall only on change)."""
        if self._done:
            return
        mask = _OUT if self._buffer else 0
        if not (self._closing or self._paused or self._read_eof):
            mask |= _IN
        if mask == self._mask:
            return
        epoll = self._reactor.epoll
        if not self._mask:
            epoll.register(self.fd, mask)
        elif not mask:
            epoll.unregister(self.fd)
        else:
            epoll.modify(self.fd, mask)
        self._mask = mask

    def drop(self, error: BaseException | None) -> None:
        """Stop serving the connection and close the socket now; the protocol hears of it
        (``connection_lost``) from the reactor task."""
        if self._done:
            return
        self._done = True
        self._closing = True
        self._clear()
        if self._mask:
            with contextlib.suppress(OSError, ValueError):
                self._reactor.epoll.unregister(self.fd)
            self._mask = 0
        if not self._detached:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._reactor.lose(self, error)

    # -- writing ----------------------------------------------------------------------------

    def _write_failed(self, exc: OSError) -> None:
        self.drop(exc)

    def _backlogged(self) -> None:
        self._rearm()

    def _flush(self) -> None:
        try:
            self._send_buffered()
        except BlockingIOError:
            return
        if self._buffer:
            return
        if self._closing:
            self.drop(None)
            return
        if self._eof:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
        self._rearm()

    # -- control ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self._buffer:
            self._rearm()  # stop reading; the flush drops the connection once written
        else:
            self.drop(None)

    def abort(self) -> None:
        self.drop(None)

    def detach(self) -> socket.socket:
        """Stop serving the socket without closing it, and return it (``connection_lost``
        still follows)."""
        self._detached = True
        self.drop(None)
        return self._sock

    def pause_reading(self) -> None:
        if not self._paused:
            self._paused = True
            self._rearm()

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            self._rearm()  # level-triggered: data already waiting wakes the reactor
