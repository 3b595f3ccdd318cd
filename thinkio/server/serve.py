"""TCP listeners: accept connections and serve HTTP on each, inside the caller's task group."""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass

import anyio
from anyio.abc import SocketAttribute, SocketStream, TaskStatus

from ..errors import ThinkioError
from ..limits import Limits
from .http import Router, serve_http

__all__ = ("BoundAddress", "PortInUse", "serve_tcp")

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


async def serve_tcp(
    router: Router,
    host: str,
    port: int,
    *,
    limits: Limits,
    task_status: TaskStatus[BoundAddress] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``host:port`` and serve HTTP until cancelled.

    Reports the bound address through ``task_status`` (use ``await tg.start(...)``).

    Raises:
        PortInUse: the address is taken.
    """
    try:
        listener = await anyio.create_tcp_listener(
            local_host=host, local_port=port, reuse_port=False
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"{host}:{port} is already in use; pick another port") from None
        raise
    async with listener:
        sockname = listener.extra(SocketAttribute.local_address)
        bound = BoundAddress(host=str(sockname[0]), port=int(sockname[1]))
        log.info("listening on %s", bound.url)
        task_status.started(bound)

        async def handle(stream: SocketStream) -> None:
            try:
                client = stream.extra(SocketAttribute.remote_address)
                raw = stream.extra(SocketAttribute.raw_socket)
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except (OSError, anyio.TypedAttributeLookupError):
                client = ("", 0)
            addr = (
                (str(client[0]), int(client[1])) if isinstance(client, tuple) else (str(client), 0)
            )
            try:
                await serve_http(stream, router, limits, addr)
            except Exception:
                log.exception("error serving %s", addr)

        await listener.serve(handle)
