"""Listening sockets and the accept loop, written once against anyio for every backend.

The loop waits until the listening socket is readable, then accepts in a batch until the
kernel's queue is empty, so a connection storm costs one poller wake-up per batch. Each
accepted socket goes to the backend (:mod:`.backend`) with a fresh protocol.

Two resources are bounded here (``Limits.max_connections``, and the process's descriptors):

* Beyond ``max_connections`` live connections a new one is closed at once and logged (at
  most one line per 10 s), so an overload costs the server one ``accept`` + ``close`` per
  excess connection and never a crash.
* When ``accept`` fails for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM)
  the loop logs it and waits before trying again, doubling the wait up to a second: the
  pending connections stay in the kernel's queue until descriptors are free again.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sized
from dataclasses import dataclass

import anyio
from anyio.abc import TaskStatus

from .._backoff import Backoff
from ..errors import ThinkioError
from .backend import Generic, current_backend
from .transport import StreamProtocol

__all__ = ("BoundAddress", "PortInUse", "listen", "serve_listener")

log = logging.getLogger("thinkio.server")

#: ``accept`` errors that mean "out of a resource right now": wait, then try again.
_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: ``accept`` errors about one connection only (it died in the queue): skip it.
_CONNECTION_ERRNOS = frozenset(
    {errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENOPROTOOPT, errno.EINTR}
)
#: Connections accepted per wake-up before other work gets a turn.
_ACCEPT_BATCH = 128
#: Waiting for descriptors after EMFILE & co.: 50 ms, doubling up to 1 s.
_STARVED_BACKOFF = Backoff(0.05, 1.0)
_LOG_EVERY = 10.0

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


class PortInUse(ThinkioError):
    """The address to listen on is taken by another program."""


@dataclass(frozen=True, slots=True)
class BoundAddress:
    """Where a server listens; ``port`` is the real one when 0 was asked for."""

    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def listen(
    host: str, port: int, *, backlog: int = 1024
) -> tuple[list[socket.socket], BoundAddress]:
    """Open non-blocking TCP listening sockets, one per address ``host`` resolves to (so
    ``localhost`` listens on 127.0.0.1 and ::1 alike); port 0 picks one free port for all.

    Raises:
        PortInUse: the address is taken.
        OSError: the host cannot be resolved or bound.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    socks: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address[0]) in seen:
                continue
            seen.add((family, address[0]))
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(socks) > 1:
                address = (address[0], socks[0].getsockname()[1], *address[2:])
            try:
                sock.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise PortInUse(f"{host}:{port} is already in use; pick another port") from None
                raise
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in socks:
            sock.close()
        raise
    name = socks[0].getsockname()
    return socks, BoundAddress(host=str(name[0]), port=int(name[1]))


class _Throttled:
    """Logs a warning at most once per period, with how many were silenced in between."""

    __slots__ = ("_last", "_message", "_silenced")

    def __init__(self, message: str) -> None:
        self._message = message
        self._last = -_LOG_EVERY
        self._silenced = 0

    def warn(self, *args: object) -> None:
        now = time.monotonic()
        if now - self._last < _LOG_EVERY:
            self._silenced += 1
            return
        extra = f" ({self._silenced} more since the last report)" if self._silenced else ""
        log.warning(self._message + extra, *args)
        self._last = now
        self._silenced = 0


async def serve_listener(
    listener: socket.socket,
    protocol_factory: Callable[[], StreamProtocol],
    *,
    spawn: Spawn,
    connections: Sized,
    max_connections: int,
    generic_transport: bool | Generic = False,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Accept connections until cancelled; closes the listener when done.

    Args:
        listener: a listening socket from :func:`listen`.
        protocol_factory: makes the protocol of each new connection.
        spawn: runs a coroutine function in the server's task group.
        connections: the live connections (its ``len`` is compared with the limit).
        max_connections: beyond this many, new connections are closed at once.
        generic_transport: use an anyio transport even on asyncio (contract tests): True the
            one trio would get here, ``"epoll"`` or ``"tasks"`` that one.
    """
    backend = current_backend(spawn, generic=generic_transport)
    refused = _Throttled("refusing connections: %d are open (Limits.max_connections)")
    starved = _Throttled("accept() failed: %s; retrying (raise `ulimit -n`?)")
    starved_in_a_row = 0
    task_status.started()
    try:
        while True:
            await anyio.wait_readable(listener)
            for _ in range(_ACCEPT_BATCH):
                try:
                    sock, _addr = listener.accept()
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in _CONNECTION_ERRNOS:
                        continue
                    if exc.errno in _RESOURCE_ERRNOS:
                        starved.warn(exc.strerror or exc)
                        starved_in_a_row += 1
                        await anyio.sleep(_STARVED_BACKOFF.duration(starved_in_a_row))
                        break
                    raise
                starved_in_a_row = 0
                if len(connections) >= max_connections:
                    refused.warn(len(connections))
                    sock.close()
                    continue
                sock.setblocking(False)
                backend.start(sock, protocol_factory())  # it sets TCP_NODELAY
    finally:
        anyio.notify_closing(listener)
        listener.close()
