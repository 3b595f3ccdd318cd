"""Which transport implementation serves a connection: picked once, from the running loop."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import Protocol

from ._asyncio import AsyncioBackend, on_asyncio, set_nodelay
from ._sockets import SocketTransport
from .transport import StreamProtocol, Transport

__all__ = (
    "Backend",
    "SocketBackend",
    "current_backend",
    "detach",
    "on_asyncio",
    "serve_socket",
)

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


class Backend(Protocol):
    """Starts serving an accepted, non-blocking socket with a protocol (with ``TCP_NODELAY``
    set: every write is a whole message, sent at once)."""

    name: str

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None: ...


class SocketBackend:
    """The backend written against anyio alone (:mod:`._sockets`): one task per connection."""

    name = "anyio"

    def __init__(self, spawn: Spawn) -> None:
        self._spawn = spawn

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None:
        set_nodelay(sock)
        self._spawn(SocketTransport(sock, protocol, self._spawn).run)


def current_backend(spawn: Spawn, *, generic: bool = False) -> Backend:
    """The fastest backend for the running loop (``generic``: the anyio one, for tests)."""
    if on_asyncio() and not generic:
        return AsyncioBackend()
    return SocketBackend(spawn)


def serve_socket(sock: socket.socket, protocol: StreamProtocol, *, spawn: Spawn) -> None:
    """Serve one connected socket (one that did not come from :func:`.listen.serve_listener`,
    such as a connection handed over by another process) with ``protocol``."""
    sock.setblocking(False)
    current_backend(spawn).start(sock, protocol)


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
    if isinstance(transport, SocketTransport):
        return transport.detach()
    duplicate = socket.socket(fileno=socket.dup(raw.fileno()))
    transport.pause_reading()
    transport.abort()
    return duplicate
