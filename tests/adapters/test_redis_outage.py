"""Connecting to Redis: going away and coming back, missing at start-up, passwords and
databases (bounded waits only)."""

from __future__ import annotations

import logging

import anyio
import pytest

from thinkio.adapters import LinkOptions, RedisAdapter, RedisUnavailable, redis_adapter
from thinkio.server import Server

from .conftest import Inbox, RedisProcess, client, cluster_server, eventually, free_port, running

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def adapter(io: Server) -> RedisAdapter:
    result = io.sockets.adapter
    assert isinstance(result, RedisAdapter)
    return result


async def test_the_adapter_reconnects_when_redis_comes_back(
    own_redis: RedisProcess, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="thinkio.adapters.redis")
    a, b = cluster_server(own_redis.url, key), cluster_server(own_redis.url, key)
    async with running(a, b) as (_, url_b):
        box = Inbox()
        async with client(url_b, box, "news"):
            await a.emit("news", "before")
            assert await box.wait_for(1) == [("news", ("before",))]

            own_redis.stop()
            await eventually(lambda: not adapter(a).link.subscribed)
            await a.emit("news", "during")  # delivered here only; no error for the caller
            with pytest.raises(RedisUnavailable):
                await adapter(a).server_count()

            await anyio.to_thread.run_sync(own_redis.start)
            for io in (a, b):
                await eventually(lambda io=io: adapter(io).link.subscribed, timeout=10)

            async def two_servers() -> bool:
                try:
                    return await adapter(a).server_count() == 2
                except RedisUnavailable:
                    return False  # the publisher waits out its backoff

            await eventually(two_servers, timeout=10)
            await a.emit("news", "after")
            assert await box.wait_for(2) == [("news", ("before",)), ("news", ("after",))]
    messages = [r.getMessage() for r in caplog.records]
    assert any("reconnecting" in m for m in messages), messages
    assert any("connected to redis://127.0.0.1" in m and "again" in m for m in messages), messages


async def test_serve_fails_fast_when_redis_is_missing(key: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}"  # nothing listens there
    options = LinkOptions(connect_timeout=0.5, reconnect_delay=0.05, reconnect_delay_max=0.1)
    io = Server(adapter=redis_adapter(url, key=key, link_options=options))
    with anyio.fail_after(5), pytest.raises(BaseException) as info:
        async with anyio.create_task_group() as tg:
            await tg.start(io.serve, "127.0.0.1", 0)
    error = info.value
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    assert isinstance(error, RedisUnavailable), repr(info.value)
    assert "not subscribed" in str(error) and "cannot connect" in str(error)


async def test_broadcast_before_start_and_after_close_are_local(
    redis: RedisProcess, key: str
) -> None:
    io = cluster_server(redis.url, key)
    await io.emit("news", "nobody listens yet")  # publishes (lazy publisher); no error
    async with running(io):
        assert adapter(io).link.subscribed
    assert not adapter(io).link.subscribed


async def test_a_password_and_a_database_in_the_url(secret_redis: RedisProcess, key: str) -> None:
    url = secret_redis.url.replace("/0", "/3")
    a, b = cluster_server(url, key), cluster_server(url, key)
    async with running(a, b) as (_, url_b):
        box = Inbox()
        async with client(url_b, box, "news"):
            await a.emit("news", "authenticated")
            assert await box.wait_for(1) == [("news", ("authenticated",))]
            assert await adapter(a).server_count() == 2


@pytest.mark.parametrize("auth", ["", ":wrong@"], ids=["no password", "wrong password"])
async def test_serve_fails_fast_without_the_right_password(
    secret_redis: RedisProcess, key: str, auth: str
) -> None:
    url = f"redis://{auth}127.0.0.1:{secret_redis.port}/0"
    options = LinkOptions(connect_timeout=0.5, reconnect_delay=0.05, reconnect_delay_max=0.1)
    io = Server(adapter=redis_adapter(url, key=key, link_options=options))
    with anyio.fail_after(5), pytest.raises(BaseException) as info:
        async with anyio.create_task_group() as tg:
            await tg.start(io.serve, "127.0.0.1", 0)
    error = info.value
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    assert isinstance(error, RedisUnavailable), repr(info.value)
    assert "NOAUTH" in str(error) or "WRONGPASS" in str(error), str(error)
