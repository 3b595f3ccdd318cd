"""The adapter contract against the Redis adapters, on a real redis-server."""

from __future__ import annotations

import pytest

from thinkio.adapters import redis_streams_adapter, sharded_redis_adapter
from thinkio.server import Server
from thinkio.testing import check_adapter

from .conftest import FAST, RedisClusterProcesses, RedisProcess, cluster_server

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


async def test_the_redis_adapter_keeps_the_contract(redis: RedisProcess) -> None:
    def make_server(group: str) -> Server:
        return cluster_server(redis.url, group)

    await check_adapter(make_server, nodes=3)


async def test_the_redis_streams_adapter_keeps_the_contract(redis: RedisProcess) -> None:
    def make_server(group: str) -> Server:
        factory = redis_streams_adapter(
            redis.url, stream_name=group, channel_prefix=group, requests_timeout=2.0, **FAST
        )
        return Server(adapter=factory, ping_interval=0.5, ping_timeout=0.5)

    await check_adapter(make_server, nodes=3)


async def test_the_sharded_adapter_keeps_the_contract(redis_cluster: RedisClusterProcesses) -> None:
    # "static": every message on the namespace's channel. In the default "dynamic" mode a
    # server subscribes a room's channel when a socket joins, and a broadcast to that one room
    # sent before Redis confirms the subscription is missed there (so in Node too); the
    # contract's clients join and are broadcast to at once. test_sharded.py covers "dynamic".
    def make_server(group: str) -> Server:
        factory = sharded_redis_adapter(
            redis_cluster.url,
            channel_prefix=group,
            subscription_mode="static",
            requests_timeout=2.0,
            **FAST,
        )
        return Server(adapter=factory, ping_interval=0.5, ping_timeout=0.5)

    await check_adapter(make_server, nodes=3)
