"""``io.timeout(s).emit_with_ack`` across worker processes (``thinkio.cluster``): one ack per
client on every worker, from client handlers that own their ack (they answer late, twice,
or never). Asyncio and trio."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.client import AckReply

from ..cluster.conftest import client, running_cluster, url_of

pytestmark = pytest.mark.anyio


async def test_timeout_acks_across_workers(anyio_backend: str) -> None:
    async with running_cluster(anyio_backend, workers=3) as cluster:
        url = url_of(cluster)
        clients = [client(url, transports=("websocket",)) for _ in range(3)]
        held: list[AckReply] = []
        clients[0].on("question", lambda q: f"0: {q}")

        @clients[1].on("question")
        def later(q: str, ack: AckReply) -> None:
            held.append(ack)

        @clients[2].on("question")
        def twice_or_never(q: str, ack: AckReply) -> None:
            if q != "never":
                ack(f"2: {q}")
                ack("2: a second answer is ignored")

        async with clients[0], clients[1], clients[2]:
            pids = {(await c.call("whoami"))[0][0] for c in clients}
            assert len(pids) == 3  # one client per worker
            got: list[Any] = []

            async def ask(question: str) -> None:
                got.append(await clients[0].call("ask-everyone-within", question, 2, timeout=10))

            async with anyio.create_task_group() as tg:
                tg.start_soon(ask, "q1")
                with anyio.fail_after(5):
                    while not held:
                        await anyio.sleep(0.01)
                held[0]("1: late")
            assert got == [[["0: q1", "1: late", "2: q1"]]]
            held.clear()

            async with anyio.create_task_group() as tg:
                tg.start_soon(ask, "never")
                with anyio.fail_after(5):
                    while not held:
                        await anyio.sleep(0.01)
                held[0]("1: in time")
            assert got[1] == [{"timed_out": ["0: never", "1: in time"]}]
