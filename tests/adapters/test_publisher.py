"""The pipelined publisher connection against a real redis-server."""

from __future__ import annotations

import random

import anyio
import pytest

from thinkio.adapters import RedisReplyError, RedisUnavailable
from thinkio.adapters.publisher import Publisher
from thinkio.adapters.resp import RedisAddress

from .conftest import FAST_LINK, RedisProcess, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def publisher(url: str) -> Publisher:
    return Publisher(RedisAddress.from_url(url), FAST_LINK)


async def test_concurrent_commands_each_get_their_own_reply(redis: RedisProcess) -> None:
    pub = publisher(redis.url)
    results: dict[int, object] = {}

    async def echo(n: int) -> None:
        await anyio.sleep(random.random() / 100)
        results[n] = await pub.execute("ECHO", str(n))

    try:
        async with anyio.create_task_group() as tg:
            for n in range(200):
                tg.start_soon(echo, n)
    finally:
        await pub.aclose()
    assert results == {n: str(n).encode() for n in range(200)}


async def test_a_caller_cancelled_while_waiting_does_not_shift_replies(
    redis: RedisProcess,
) -> None:
    pub = publisher(redis.url)

    async def blocking() -> None:
        assert await pub.execute("BLPOP", "nothing-here", "0.3") is None

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(blocking)  # holds the read lock while Redis blocks
            await anyio.sleep(0.05)
            with anyio.move_on_after(0.05) as scope:
                await pub.execute("ECHO", "orphan")  # sent, then cancelled while waiting
            assert scope.cancelled_caught
            assert await pub.execute("ECHO", "mine") == b"mine"
    finally:
        await pub.aclose()


async def test_error_replies_raise_and_keep_the_connection(redis: RedisProcess) -> None:
    pub = publisher(redis.url)
    try:
        with pytest.raises(RedisReplyError, match="unknown command"):
            await pub.execute("NOSUCHCOMMAND")
        assert await pub.execute("PING") == "PONG"
    finally:
        await pub.aclose()


async def test_a_restarted_redis_is_reconnected_without_losing_the_command(
    own_redis: RedisProcess,
) -> None:
    pub = publisher(own_redis.url)
    try:
        assert await pub.execute("PING") == "PONG"
        own_redis.stop()
        await anyio.to_thread.run_sync(own_redis.start)
        # The old connection is dead; the command goes again on a fresh one.
        assert await pub.execute("ECHO", "again") == b"again"
    finally:
        await pub.aclose()


async def test_failures_back_off_fast() -> None:
    pub = publisher(f"redis://127.0.0.1:{free_port()}")
    with pytest.raises(RedisUnavailable, match="cannot connect"):
        await pub.execute("PING")
    with anyio.fail_after(0.5), pytest.raises(RedisUnavailable, match="next attempt in"):
        await pub.execute("PING")  # within the backoff: no new connection attempt
