"""TCP listeners: accept connections and serve HTTP on each, inside the caller's task group."""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass

import anyio
from anyio.abc import Listener, SocketAttribute, SocketStream, TaskStatus

from ..errors import ThinkioError
from ..limits import Limits
from .http import Router, serve_http

__all__ = ("BoundAddress", "PortInUse", "listen", "serve_listener", "serve_tcp")

log = logging.getLogger("thinkio.server")


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


async def listen(host: str, port: int) -> tuple[Listener[SocketStream], BoundAddress]:
    """Open a TCP listener (port 0: any free port) before anything is served on it.

    Raises:
        PortInUse: the address is taken.
    """
    try:
        listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is already in use; pick another port") from None
        raise
    sockname = listener.extra(SocketAttribute.local_address)
    assert isinstance(sockname, tuple)
    return listener, BoundAddress(host=str(sockname[0]), port=int(sockname[1]))


async def serve_listener(listener: Listener[SocketStream], router: Router, limits: Limits) -> None:
    """Serve HTTP on every connection the listener accepts, until cancelled."""

    async def handle(stream: SocketStream) -> None:
        try:
            client = stream.extra(SocketAttribute.remote_address)
            raw = stream.extra(SocketAttribute.raw_socket)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, anyio.TypedAttributeLookupError):
            client = ("", 0)
        addr = (str(client[0]), int(client[1])) if isinstance(client, tuple) else (str(client), 0)
        try:
            await serve_http(stream, router, limits, addr)
        except Exception:
            log.exception("error serving %s", addr)

    async with listener:
        await listener.serve(handle)


async def serve_tcp(
    router: Router,
    host: str,
    port: int,
    *,
    limits: Limits,
    task_status: TaskStatus[BoundAddress] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``host:port`` and serve HTTP until cancelled; reports the bound address.

    Raises:
        PortInUse: the address is taken.
    """
    listener, bound = await listen(host, port)
    log.info("listening on %s", bound.url)
    task_status.started(bound)
    await serve_listener(listener, router, limits)
