"""The client against a real server: transports, auth, events, binary and acks both ways.

Runs against every server in ``conftest.SERVERS`` (Node's reference server now), on asyncio
and trio.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.client import Client

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

TRANSPORTS = {
    "polling": ("polling",),
    "websocket": ("websocket",),
    "upgrade": ("polling", "websocket"),
}


class Inbox:
    """Collects (event, args) pairs and lets a test wait for one."""

    def __init__(self, client: Client, *events: str, namespace: str = "/") -> None:
        self.items: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = anyio.Event()
        for event in events:
            client.on(event, self._handler(event), namespace=namespace)

    def _handler(self, event: str) -> Any:
        def handle(*args: Any) -> None:
            self.items.append((event, args))
            self._changed.set()
            self._changed = anyio.Event()

        return handle

    async def get(self, event: str, timeout: float = 5.0) -> tuple[Any, ...]:
        with anyio.fail_after(timeout):
            while True:
                for name, args in self.items:
                    if name == event:
                        self.items.remove((name, args))
                        return args
                await self._changed.wait()


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_connect_auth_events_and_acks(server_url: str, mode: str) -> None:
    client = Client(server_url, transports=TRANSPORTS[mode], auth={"token": "abc"})
    inbox = Inbox(client, "auth", "message-back", "connect")
    async with client:
        assert client.connected
        assert isinstance(client.sid, str) and client.sid
        assert await inbox.get("connect") == ()
        assert await inbox.get("auth") == ({"token": "abc"},)
        await client.emit("message", "hello", 1, {"nested": [True, None]})
        assert await inbox.get("message-back") == ("hello", 1, {"nested": [True, None]})
        assert await client.call("message-with-ack", "x", 2.5) == ["x", 2.5]
        if mode == "upgrade":
            with anyio.fail_after(5):
                while client.transport != "websocket":
                    await anyio.sleep(0.01)
        else:
            assert client.transport == TRANSPORTS[mode][0]
    assert not client.connected
    assert client.transport is None


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_binary_both_ways(server_url: str, mode: str) -> None:
    client = Client(server_url, transports=TRANSPORTS[mode])
    inbox = Inbox(client, "message-back")
    blob = bytes(range(256))
    async with client:
        await client.emit("message", blob, {"deep": [b"\x00", "text"]}, b"")
        assert await inbox.get("message-back") == (blob, {"deep": [b"\x00", "text"]}, b"")
        assert await client.call("message-with-ack", b"\x01\x02", [b"\x03"]) == [
            b"\x01\x02",
            [b"\x03"],
        ]


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_many_messages_in_order(server_url: str, mode: str) -> None:
    client = Client(server_url, transports=TRANSPORTS[mode])
    inbox = Inbox(client, "message-back")
    async with client:
        async with anyio.create_task_group() as tg:
            for i in range(50):
                await client.emit("message", i)
            results = [await client.call("message-with-ack", i) for i in range(5)]
            tg.cancel_scope.cancel()
        assert results == [[i] for i in range(5)]
        got = [(await inbox.get("message-back"))[0] for _ in range(50)]
        assert got == list(range(50))
