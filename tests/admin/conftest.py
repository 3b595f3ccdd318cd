"""Fixtures of the Admin UI tests: both backends, a bcrypt hash, an inbox per client."""

from __future__ import annotations

from typing import Any

import anyio
import bcrypt
import pytest

from thinkio.client import Client

#: The dashboard's login in these tests (a hash with few rounds: fast, still real bcrypt).
USERNAME, PASSWORD = "admin", "s3cret"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
EVENTS = (
    "session",
    "config",
    "server_stats",
    "all_sockets",
    "socket_connected",
    "socket_disconnected",
    "room_joined",
    "room_left",
    "event_received",
    "event_sent",
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Inbox:
    """Collects what a client receives on one namespace; tests wait for a condition."""

    def __init__(self, client: Client, namespace: str, events: tuple[str, ...] = EVENTS) -> None:
        self.items: dict[str, list[tuple[Any, ...]]] = {e: [] for e in events}
        self._changed = anyio.Event()
        for event in events:
            client.on(event, self._recorder(event), namespace=namespace)

    def _recorder(self, event: str) -> Any:
        def record(*args: Any) -> None:
            self.items[event].append(args)
            self._changed.set()
            self._changed = anyio.Event()

        return record

    async def wait_until(self, event: str, test: Any, timeout: float = 5.0) -> tuple[Any, ...]:
        """The first ``event`` whose arguments pass ``test(*args)``."""
        with anyio.fail_after(timeout):
            while True:
                for args in self.items[event]:
                    if test(*args):
                        return args
                await self._changed.wait()
