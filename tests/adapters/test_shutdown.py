"""A server on a Redis adapter shuts down as soon as its own work is done.

The adapters' subscriber loops (and the timer that forgets an acked broadcast's answers) run
for as long as the adapter does: a graceful shutdown that waited for them would wait out its
whole timeout every time (``thinkio run`` took its 5 s on every Ctrl-C with Redis).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest

from thinkio.adapters import redis_streams_adapter, sharded_redis_adapter
from thinkio.server import Server

from .conftest import FAST, RedisClusterProcesses, RedisProcess, client, cluster_server

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

#: Long enough that waiting it out would trip the bound below.
SHUTDOWN_TIMEOUT = 60.0


async def shuts_down_at_once(make: Callable[[], Server]) -> None:
    a, b = make(), make()
    async with anyio.create_task_group() as tg:
        url_a = (await tg.start(a.serve, "127.0.0.1", 0)).url
        await tg.start(b.serve, "127.0.0.1", 0)
        answering = client(url_a)
        answering.on("question", lambda text: f"answer to {text}")
        async with answering:
            # An acked broadcast to the cluster (its answers are listened for until the
            # timeout), answered by the one client.
            assert await b.timeout(30).emit_with_ack("question", "q") == ["answer to q"]
        # What a shutdown waits for ends (the answers still being published, say), though
        # both adapters' loops still run: they are not counted.
        with anyio.fail_after(10):  # a bound: with the loops counted, this never returns
            await a.tasks.wait_idle()
            await b.tasks.wait_idle()
        assert a.tasks.busy == 0 and b.tasks.busy == 0
        with anyio.fail_after(SHUTDOWN_TIMEOUT / 2):  # a bound, not a measure
            await a.shutdown(timeout=SHUTDOWN_TIMEOUT)
            await b.shutdown(timeout=SHUTDOWN_TIMEOUT)


async def test_the_redis_adapter(redis: RedisProcess, key: str) -> None:
    await shuts_down_at_once(lambda: cluster_server(redis.url, key))


async def test_the_redis_streams_adapter(redis: RedisProcess, key: str) -> None:
    await shuts_down_at_once(
        lambda: Server(
            adapter=redis_streams_adapter(
                redis.url, stream_name=key, channel_prefix=key, requests_timeout=2.0, **FAST
            )
        )
    )


async def test_the_sharded_adapter(redis_cluster: RedisClusterProcesses, key: str) -> None:
    await shuts_down_at_once(
        lambda: Server(
            adapter=sharded_redis_adapter(
                redis_cluster.url, channel_prefix=key, requests_timeout=2.0, **FAST
            )
        )
    )
