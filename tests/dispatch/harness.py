"""Helpers for live tests of the application layer: serve an App, talk to it with a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from thinkio import App
from thinkio.client import Client


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 for the block; yields its base URL."""
    async with anyio.create_task_group() as tg:
        bound = await tg.start(app.serve, "127.0.0.1", 0)
        try:
            yield bound.url
        finally:
            with anyio.fail_after(10):
                await app.shutdown(timeout=2)


def client(url: str, *events: str, **kwargs: Any) -> tuple[Client, Inbox]:
    """A client (WebSocket only, no reconnection) and an inbox recording ``events``."""
    kwargs.setdefault("transports", ("websocket",))
    kwargs.setdefault("reconnection", False)
    namespace = kwargs.get("namespaces", ("/",))[0]
    c = Client(url, **kwargs)
    return c, Inbox(c, *events, namespace=namespace)


class Inbox:
    """Records (event, args) pairs a client receives, in order; tests wait for them."""

    def __init__(self, client: Client, *events: str, namespace: str = "/") -> None:
        self.items: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = anyio.Event()
        for event in events:
            client.on(event, self._recorder(event), namespace=namespace)

    def _recorder(self, event: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.items.append((event, args))
            self._changed.set()
            self._changed = anyio.Event()

        return record

    def of(self, event: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``event`` received so far."""
        return [args for name, args in self.items if name == event]

    async def wait_for(
        self, event: str, count: int = 1, timeout: float = 5.0
    ) -> list[tuple[Any, ...]]:
        """Wait until ``event`` was received ``count`` times; returns their arguments."""
        with anyio.fail_after(timeout):
            while len(self.of(event)) < count:
                await self._changed.wait()
        return self.of(event)


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (polling briefly) until ``check()`` is true."""
    with anyio.fail_after(timeout):
        while True:
            result = check()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await anyio.sleep(0.01)
