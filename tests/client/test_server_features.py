"""The client against what the reference app does not do (``node_extra_server.js``).

Server-to-client acks (the handler's return value answers), a server-side namespace
disconnect, a middleware refusal carrying ``data``, and a server whose maxPayload forces the
client to split its polling POSTs (PROTOCOL.md 1.9).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.client import Client
from thinkio.errors import ConnectRefused, Disconnected

from .test_events import TRANSPORTS, Inbox

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.fixture
def url(extra_server: Any) -> str:
    return str(extra_server.url)


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_handler_return_value_answers_the_servers_ack(url: str, mode: str) -> None:
    client = Client(url, transports=TRANSPORTS[mode])
    inbox = Inbox(client, "answer", "answer-error")

    @client.on("sum")
    async def add(a: int, b: int) -> int:
        await anyio.sleep(0)
        return a + b

    client.on("pair", lambda blob: (blob[::-1], "two"))  # a tuple answers with two values
    client.on("nothing", lambda: None)  # None answers with no values
    async with client:
        await client.emit("ask", "sum", 2, 3)
        assert await inbox.get("answer") == (5,)
        await client.emit("ask", "pair", b"\x01\x02")
        assert await inbox.get("answer") == (b"\x02\x01", "two")
        await client.emit("ask", "nothing")
        assert await inbox.get("answer") == ()


async def test_a_handler_may_call_the_server_while_handling(url: str) -> None:
    # Acks are resolved by the reader, not the dispatcher, so this does not deadlock.
    client = Client(url, transports=("websocket",))
    inbox = Inbox(client, "answer")

    @client.on("question")
    async def question() -> str:
        await client.emit("count", 2)
        return "answered"

    async with client:
        await client.emit("ask", "question")
        assert await inbox.get("answer") == ("answered",)


async def test_server_side_disconnect_is_not_reconnected(url: str) -> None:
    client = Client(url, transports=("websocket",), reconnection_delay=0.01)
    reasons: list[str] = []
    client.on("disconnect", reasons.append)
    async with client:
        await client.emit("kick")
        with anyio.fail_after(5):
            await client.wait()
        assert reasons == ["io server disconnect"]
        assert not client.connected
        with pytest.raises(Disconnected):
            await client.emit("message", "x")


async def test_middleware_refusal_carries_its_data(url: str) -> None:
    client = Client(url, namespaces=("/private",), auth={"token": "wrong"})
    with anyio.fail_after(10), pytest.raises(ConnectRefused) as info:
        await client.connect()
    assert info.value.message == "not authorized"
    assert info.value.data == {"code": 42}

    client = Client(url, namespaces=("/private",), auth={"token": "secret"})
    inbox = Inbox(client, "welcome", namespace="/private")
    async with client:
        assert await inbox.get("welcome") == ()


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_payloads_are_split_to_fit_max_payload(url: str, mode: str) -> None:
    # 40 emits of ~100 bytes queued at once: ~4 KB, four times the server's 1000-byte limit.
    client = Client(url, transports=TRANSPORTS[mode], reconnection=False)
    inbox = Inbox(client, "item", "done")
    async with client:
        async with anyio.create_task_group() as tg:
            for _ in range(40):
                tg.start_soon(client.emit, "message", "x" * 90)
        await client.emit("count", 3)
        assert [await inbox.get("item") for _ in range(3)] == [(0,), (1,), (2,)]
        assert await inbox.get("done") == ()
        assert client.connected
