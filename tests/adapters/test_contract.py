"""The adapter contract against the Redis adapters, on a real redis-server."""

from __future__ import annotations

import pytest

from thinkio.server import Server
from thinkio.testing import check_adapter

from .conftest import RedisProcess, cluster_server

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


async def test_the_redis_adapter_keeps_the_contract(redis: RedisProcess) -> None:
    def make_server(group: str) -> Server:
        return cluster_server(redis.url, group)

    await check_adapter(make_server, nodes=3)
