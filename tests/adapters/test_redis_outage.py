"""Connecting to Redis: going away and coming back, missing at start-up, passwords and
databases (bounded waits only)."""

from __future__ import annotations

import anyio
import pytest

from thinkio.adapters import RedisAdapter, RedisUnavailable, redis_adapter
from thinkio.server import Server

from .conftest import (
    Inbox,
    RedisProcess,
    client,
    cluster_server,
    eventually,
    free_port,
    running,
    started_redis,
)

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


def adapter(io: Server) -> RedisAdapter:
    result = io.sockets.adapter
    assert isinstance(result, RedisAdapter)
    return result


async def test_the_adapter_reconnects_when_redis_comes_back(
    own_redis: RedisProcess, key: str
) -> None:
    a, b = cluster_server(own_redis.url, key), cluster_server(own_redis.url, key)
    async with running(a, b) as (_, url_b):
        box = Inbox()
        async with client(url_b, box, "news"):
            await a.emit("news", "before")
            assert await box.wait_for(1) == [("news", ("before",))]

            own_redis.stop()
            await a.emit("news", "during")  # delivered here only; no error for the caller
            with pytest.raises(RedisUnavailable):
                await adapter(a).server_count()

            await anyio.to_thread.run_sync(own_redis.start)

            async def two_servers() -> bool:
                try:
                    return await adapter(a).server_count() == 2
                except RedisUnavailable:
                    return False  # not connected again yet

            await eventually(two_servers, timeout=10)
            await a.emit("news", "after")
            assert await box.wait_for(2) == [("news", ("before",)), ("news", ("after",))]


async def test_serve_fails_fast_when_redis_is_missing(key: str) -> None:
    url = f"redis://127.0.0.1:{free_port()}"  # nothing listens there
    io = Server(adapter=redis_adapter(url, key=key, connect_timeout=0.5))
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
    io, other = cluster_server(redis.url, key), cluster_server(redis.url, key)
    await io.emit("news", "nobody listens yet")  # not connected: delivered here only
    async with running(other):
        async with running(io):
            assert await adapter(other).server_count() == 2
        assert await adapter(other).server_count() == 1  # io unsubscribed when it stopped
        await io.emit("news", "after close")  # no error


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
    io = Server(adapter=redis_adapter(url, key=key, connect_timeout=0.5))
    with anyio.fail_after(5), pytest.raises(BaseException) as info:
        async with anyio.create_task_group() as tg:
            await tg.start(io.serve, "127.0.0.1", 0)
    error = info.value
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    assert isinstance(error, RedisUnavailable), repr(info.value)
    assert "Authentication" in str(error), str(error)


async def test_an_acl_user_with_channel_permissions(key: str) -> None:
    # alice may use every key and channel; bob may not subscribe to any channel.
    users = [
        *("--user", "default", "off"),
        *("--user", "alice", "on", ">alice-pw", "~*", "&*", "+@all"),
        *("--user", "bob", "on", ">bob-pw", "~*", "resetchannels", "+@all"),
    ]
    gen = started_redis(*users)
    acl = next(gen)
    try:
        url = f"redis://alice:alice-pw@127.0.0.1:{acl.port}/0"
        a, b = cluster_server(url, key), cluster_server(url, key)
        async with running(a, b) as (_, url_b):
            box = Inbox()
            async with client(url_b, box, "news"):
                await a.emit("news", "as alice")
                assert await box.wait_for(1) == [("news", ("as alice",))]
                assert await adapter(a).server_count() == 2
        bob = f"redis://bob:bob-pw@127.0.0.1:{acl.port}/0"
        io = Server(adapter=redis_adapter(bob, key=key, connect_timeout=1))
        with anyio.fail_after(5), pytest.raises(BaseException) as info:
            async with anyio.create_task_group() as tg:
                await tg.start(io.serve, "127.0.0.1", 0)
        # Redis refuses the SUBSCRIBE (NOPERM); it is never confirmed: serve() fails at start.
        assert "cannot subscribe" in repr(info.value), info.value
    finally:
        gen.close()
