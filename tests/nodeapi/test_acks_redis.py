"""A broadcast with acks across two servers through Redis: the acks of remote sockets follow
Node's rules (a client handler that owns its ack answers late, or never; a second answer and
answers after the timeout change nothing). Real redis-server; asyncio and trio."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from thinkio.client import AckReply
from thinkio.errors import AckTimeout

from ..adapters.conftest import client, cluster_server, key, redis, running  # noqa: F401

pytestmark = pytest.mark.anyio


async def test_acks_from_remote_sockets(
    redis: Any,  # noqa: F811
    key: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "thinkio.adapters")
    a, b = cluster_server(redis.url, key), cluster_server(redis.url, key)
    held: list[AckReply] = []
    async with running(a, b) as (url_a, url_b):
        here = client(url_a)
        there = client(url_b)
        silent = client(url_b)
        here.on("question", lambda q: f"here: {q}")

        @there.on("question")
        async def later(q: str, ack: AckReply) -> None:
            held.append(ack)

        @silent.on("question")
        def never(q: str, ack: AckReply) -> None:
            if q == "answer too":
                ack("silent: answered")
                ack("silent: twice")

        async with here, there, silent:
            with anyio.fail_after(5):
                while len(b.sockets.sockets) < 2 or len(a.sockets.sockets) < 1:
                    await anyio.sleep(0.02)
            got: list[Any] = []

            async def ask() -> None:
                with pytest.raises(AckTimeout) as caught:
                    await a.timeout(1).emit_with_ack("question", "q1")
                got.append(caught.value.responses)

            async with anyio.create_task_group() as tg:
                tg.start_soon(ask)
                with anyio.fail_after(5):
                    while not held:
                        await anyio.sleep(0.02)
                held[0]("there: late")
                held[0]("there: twice")
            # The silent client's ack never came: the timeout, with the two that did.
            assert sorted(got[0]) == ["here: q1", "there: late"]

            async def answer_later() -> None:
                while len(held) < 2:
                    await anyio.sleep(0.02)
                held[1]("there: answered")

            async with anyio.create_task_group() as tg:
                tg.start_soon(answer_later)
                answers = await a.timeout(2).emit_with_ack("question", "answer too")
            assert sorted(answers) == ["here: answer too", "silent: answered", "there: answered"]
    said = [r.getMessage() for r in caplog.records]
    assert not any("Traceback" in m for m in said)
