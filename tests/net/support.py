"""A protocol that records its callbacks, and a listener serving it on one backend."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from thinkio.net import StreamProtocol, TaskSpawner, listen, serve_listener
from thinkio.net.backend import Generic


class Recorder(StreamProtocol):
    """Records every callback; tests wait for conditions on it (bounded, no sleeping).

    Args:
        keep_open_on_eof: what ``eof_received`` returns.
    """

    def __init__(self, keep_open_on_eof: bool = False) -> None:
        self.keep_open_on_eof = keep_open_on_eof
        self.transport: Any = None
        self.events: list[str] = []
        self.data = bytearray()
        self.lost_exc: BaseException | None = None
        self._changed = anyio.Event()

    def _note(self, event: str) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Return once ``condition()`` holds; fails after ``timeout`` seconds."""
        with anyio.fail_after(timeout):
            while not condition():
                self._changed = anyio.Event()
                await self._changed.wait()

    def count(self, event: str) -> int:
        return self.events.count(event)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._note("made")

    def data_received(self, data: bytes) -> None:
        self.data += data
        self._note("data")

    def eof_received(self) -> bool | None:
        self._note("eof")
        return self.keep_open_on_eof

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost_exc = exc
        self._note("lost")

    def pause_writing(self) -> None:
        self._note("pause_writing")

    def resume_writing(self) -> None:
        self._note("resume_writing")


@asynccontextmanager
async def serving(
    factory: Callable[[], StreamProtocol],
    *,
    generic: bool | Generic,
    connections: Any = (),
    max_connections: int = 1000,
    spawner: TaskSpawner | None = None,
) -> AsyncIterator[int]:
    """Accept connections on 127.0.0.1 with ``factory``'s protocols; yields the port.

    Args:
        generic: an anyio transport even on asyncio: ``"epoll"`` (``_epoll``) or ``"tasks"``
            (``_sockets``); False: the loop's fastest.
        spawner: runs the transports' tasks (run in the task group here), as a server's
            does; else they run in the task group directly.
    """
    [sock], bound = listen("127.0.0.1", 0)
    async with anyio.create_task_group() as tg:
        if spawner is not None:
            await tg.start(spawner.run)
        await tg.start(
            lambda task_status: serve_listener(
                sock,
                factory,
                spawn=tg.start_soon if spawner is None else spawner.spawn,
                connections=connections,
                max_connections=max_connections,
                generic_transport=generic,
                task_status=task_status,
            )
        )
        try:
            yield bound.port
        finally:
            tg.cancel_scope.cancel()


async def read_exactly(stream: anyio.abc.ByteStream, size: int, timeout: float = 10.0) -> bytes:
    data = bytearray()
    with anyio.fail_after(timeout):
        while len(data) < size:
            data += await stream.receive(1 << 20)
    return bytes(data)


async def read_to_eof(stream: anyio.abc.ByteStream, timeout: float = 10.0) -> bytes:
    data = bytearray()
    with anyio.fail_after(timeout):
        while True:
            try:
                data += await stream.receive(1 << 20)
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return bytes(data)


def reset(stream: anyio.abc.SocketStream) -> None:
    """Close the client's socket with a RST (SO_LINGER 0)."""
    raw: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
