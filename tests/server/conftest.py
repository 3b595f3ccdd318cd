"""Fixtures for the I/O layer's tests: both backends, and a Server started in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from thinkio.server import Server
from thinkio.testing import MemoryTransport


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def running(io: Server, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``io`` on a free port for the block; yields its base URL. Shuts down after."""
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, host, 0)
        try:
            yield bound.url
        finally:
            with anyio.fail_after(10):
                await io.shutdown(timeout=2)


def fast_server(**kwargs: Any) -> Server:
    """A server with short heartbeats, so dead clients are noticed quickly in tests."""
    kwargs.setdefault("ping_interval", 0.5)
    kwargs.setdefault("ping_timeout", 0.5)
    return Server(**kwargs)


UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def frame(text: bytes) -> bytes:
    """A client's masked text frame."""
    mask = b"\x01\x02\x03\x04"
    return (
        bytes([0x81, 0x80 | len(text)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(text))
    )


def websocket_session(io: Server) -> MemoryTransport:
    """A WebSocket session opened in memory (its 101 and open packet taken)."""
    transport = MemoryTransport(io.http.protocol())
    transport.feed(UPGRADE)
    assert b"101" in transport.take()
    return transport
