"""A Redis restart under two servers: how many cross-server broadcasts are lost, delayed or
duplicated, per adapter.

Redis keeps its data on disk (AOF, fsync always) and is killed with SIGKILL, then started
again on the same port and directory. Server A broadcasts 20 events before, 20 while Redis
is down and 20 after; a client of server B counts what it gets. The counts are printed
(``-s`` shows them; docs/adapters/outage.md quotes them) and asserted where the adapter
promises something: the Streams adapter loses nothing and duplicates nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from thinkio.adapters import RedisUnavailable, redis_adapter, redis_streams_adapter
from thinkio.server import Server

from .conftest import FAST, Inbox, RedisProcess, client, running

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

PHASE = 20


def classic(url: str, key: str) -> Server:
    return Server(adapter=redis_adapter(url, key=key, requests_timeout=2.0, **FAST))


def streams(url: str, key: str) -> Server:
    factory = redis_streams_adapter(url, stream_name=key, channel_prefix=key, **FAST)
    return Server(adapter=factory)


async def outage_counts(
    redis: RedisProcess, key: str, make: Callable[[str, str], Server]
) -> dict[str, int]:
    a, b = make(redis.url, key), make(redis.url, key)
    box = Inbox()
    async with running(a, b) as (_, url_b), client(url_b, box, "news"):
        for n in range(PHASE):
            await a.emit("news", "before", n)
        await box.wait_for(PHASE)
        redis.stop()
        for n in range(PHASE):
            await a.emit("news", "during", n)
        during_seen = sum(1 for _, args in box.items if args[0] == "during")
        await anyio.to_thread.run_sync(redis.start)
        with anyio.fail_after(15):
            while True:  # until A's link carries a broadcast again
                try:
                    if await a.sockets.adapter.server_count() == 2:
                        break
                except RedisUnavailable:
                    pass
                await anyio.sleep(0.05)
        for n in range(PHASE):
            await a.emit("news", "after", n)
        # Bounded: what has not come 5 s after the last "after" event counts as lost.
        with anyio.move_on_after(5):
            while not any(args == ("after", PHASE - 1) for _, args in box.items):
                await box.wait_for(len(box.items) + 1, timeout=5)
    got = Counter(args for _, args in box.items)
    sent = [(phase, n) for phase in ("before", "during", "after") for n in range(PHASE)]
    received_during = sum(1 for phase, n in sent if phase == "during" and got[(phase, n)])
    return {
        "sent": len(sent),
        "lost": sum(1 for s in sent if not got[s]),
        "delayed": received_during - during_seen,
        "duplicated": sum(count - 1 for count in got.values() if count > 1),
    }


@pytest.fixture
def durable_redis(tmp_path: Path) -> RedisProcess:
    from .conftest import started_redis

    gen = started_redis("--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path))
    server = next(gen)
    yield server  # type: ignore[misc]
    gen.close()


async def test_classic_adapter_outage(durable_redis: RedisProcess, key: str) -> None:
    counts = await outage_counts(durable_redis, key, classic)
    print(f"\nclassic pub/sub adapter, Redis restart: {counts}")
    # Pub/sub keeps nothing: what was published while Redis was down is lost.
    assert counts["lost"] >= PHASE and counts["duplicated"] == 0


async def test_streams_adapter_outage(durable_redis: RedisProcess, key: str) -> None:
    counts = await outage_counts(durable_redis, key, streams)
    print(f"\nRedis Streams adapter, Redis restart: {counts}")
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    assert counts["delayed"] == PHASE
