"""Which transport implementation serves a connection: picked once, from the running loop."""

from __future__ import annotations

import socket
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from . import _epoll
from ._asyncio import AsyncioBackend, on_asyncio
from ._epoll import EpollBackend, EpollTransport
from ._sockets import SocketTransport
from .transport import StreamProtocol, Transport, set_nodelay

__all__ = (
    "Backend",
    "SocketBackend",
    "current_backend",
    "detach",
    "on_asyncio",
    "serve_socket",
)

Spawn = Callable[[Callable[[], Awaitable[None]]], None]
#: The backends written against anyio: ``epoll`` (one task, Linux), ``tasks`` (one per
#: connection, anywhere).
Generic = Literal["epoll", "tasks"]


class Backend(Protocol):
    """Starts serving an accepted, non-blocking socket with a protocol (with ``TCP_NODELAY``
    set: every write is a whole message, sent at once)."""

    name: str

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None: ...


class SocketBackend:
    """The backend written against anyio alone (:mod:`._sockets`): one task per connection,
    where :mod:`._epoll` cannot run."""

    name = "tasks"

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None:
        set_nodelay(sock)
        self._spawn(SocketTransport(sock, protocol, self._spawn).run)


def current_backend(spawn: Spawn, *, generic: bool | Generic = False) -> Backend:
    """The fastest backend for the running loop.

    Args:
        generic: for tests, an anyio backend even on asyncio: ``True`` the one this platform
            would use on trio, or the one named.
    """
    if generic is False:
        if on_asyncio():
            return AsyncioBackend()
        generic = True
    if generic is True:
        generic = "epoll" if _epoll.AVAILABLE else "tasks"
    if generic == "epoll":
        return EpollBackend(spawn)
    return SocketBackend(spawn)


#: :func:`serve_socket`'s backend per spawner, so that the connections handed to one server
#: share one (one epoll, one task) instead of one each.
_HANDED: weakref.WeakKeyDictionary[Any, Backend] = weakref.WeakKeyDictionary()


def serve_socket(sock: socket.socket, protocol: StreamProtocol, *, spawn: Spawn) -> None:
    """Serve one connected socket (one that did not come from :func:`.listen.serve_listener`,
    such as a connection handed over by another process) with ``protocol``."""
    sock.setblocking(False)
    if on_asyncio():
        AsyncioBackend().start(sock, protocol)
        return
    owner = getattr(spawn, "__self__", None)
    try:
        backend = _HANDED.get(owner) if owner is not None else None
    except TypeError:  # not weakly referenceable
        owner = None
        backend = None
    if backend is None:
        backend = current_backend(spawn)
        if owner is not None:
            _HANDED[owner] = backend
    backend.start(sock, protocol)


def detach(transport: Transport) -> socket.socket:
    """Take the socket away from a transport, open, for another process or server to serve.

    What the transport already read was handed to its protocol; what it had not read stays
    in the kernel. The transport closes its own descriptor (``connection_lost`` follows); the
    returned socket is a duplicate that stays open.

    Raises:
        OSError: the socket is already closed.
    """
    raw = transport.get_extra_info("socket")
    if raw is None:
        raise OSError("the transport has no socket")
    if isinstance(transport, (SocketTransport, EpollTransport)):
        return transport.detach()
    duplicate = socket.socket(fileno=socket.dup(raw.fileno()))
    transport.pause_reading()
    transport.abort()
    return duplicate
