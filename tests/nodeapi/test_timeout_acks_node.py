"""``io.timeout(s).emit_with_ack`` (one ack per recipient) and ``socket.timeout(s)``, with
real socket.io-client 4.x clients answering (issue 12, point 5)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.errors import AckTimeout
from thinkio.server import Socket

from ..server.conftest import fast_server, running
from .conftest import node_client

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


async def test_timeout_acks_from_node_clients(node: str) -> None:
    """`io.timeout(s).emit_with_ack` collects one ack per client (one on polling, one on
    WebSocket), to a room too; with a client that does not answer, `AckTimeout`;
    `socket.timeout(s).emit_with_ack` asks one client."""
    io = fast_server()
    ready: list[Socket] = []
    both = anyio.Event()

    @io.on("ready")
    def on_ready(socket: Socket) -> None:
        ready.append(socket)
        if len(ready) == 2:
            both.set()

    results: dict[str, list[dict[str, Any]]] = {}

    async def run(transport: str) -> None:
        results[transport] = await node_client(node, url, transport, "answer")

    async with running(io) as url, anyio.create_task_group() as tg:
        tg.start_soon(run, "polling")
        tg.start_soon(run, "websocket")
        with anyio.fail_after(10):
            await both.wait()
        # One ack per recipient, whatever its transport.
        answers = await io.timeout(2).emit_with_ack("question", "q1")
        assert answers == ["answer:q1", "answer:q1"]
        # Nobody answers: the timeout, with what did arrive (none).
        with pytest.raises(AckTimeout) as caught:
            await io.timeout(0.2).emit_with_ack("question", "stay-silent")
        assert caught.value.responses == []
        # A room, one client: its ack alone; and one socket, with socket.timeout.
        ready[0].join("first")
        assert await io.to("first").timeout(2).emit_with_ack("question", "q2") == ["answer:q2"]
        assert await ready[1].timeout(2).emit_with_ack("question", "q3") == ["answer:q3"]
        with pytest.raises(AckTimeout):
            await ready[1].timeout(0.2).emit_with_ack("question", "stay-silent")
        await io.emit("finish")
    asked = {t: lines[0]["questions"] for t, lines in results.items()}
    first = "polling" if "q2" in asked["polling"] else "websocket"
    other = "websocket" if first == "polling" else "polling"
    assert asked[first] == ["q1", "stay-silent", "q2"]
    assert asked[other] == ["q1", "stay-silent", "q3", "stay-silent"]
