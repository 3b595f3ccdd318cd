"""Connection state recovery across servers, on Redis.

A real redis-server, the real socket.io-client 4.8 (``tests/interop/node/recovery.js``), and
thinkio servers in this process, one of which broadcasts while the client is away:

* Redis Streams, the stream as the packet log: the server the client is on is shut down
  ("server shutting down" is a recoverable reason); a new server starts on the same port, and
  the client, reconnecting there, must get its id, rooms and data back from Redis and every
  broadcast it missed from the stream;
* Redis pub/sub: the client's transport is cut and it comes back to the same server, which
  kept the other server's broadcasts with the offsets that server gave them.

Either way: none lost, none twice, in order.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import anyio
import pytest

from thinkio.adapters import redis_adapter, redis_streams_adapter
from thinkio.server import Server, Socket

from ..interop.harness import NODE_DIR
from ..support import missing_part, npm_ci
from .conftest import FAST, RedisProcess

pytestmark = pytest.mark.anyio


def streams_server(
    redis: RedisProcess, key: str, seen: dict[str, Any], kind: str = "streams"
) -> Server:
    if kind == "streams":
        factory = redis_streams_adapter(
            redis.url, stream_name=key, channel_prefix=key, block_time=0.2, **FAST
        )
    else:
        factory = redis_adapter(redis.url, key=key, **FAST)
    io = Server(adapter=factory, connection_state_recovery={"max_disconnection_duration": 30})

    @io.on("connect")
    def connected(socket: Socket) -> None:
        if not socket.recovered:
            socket.join("room1")
            socket.data["name"] = "ada"
        seen["connects"].append((socket.id, socket.recovered))
        seen["sid"] = socket.id

    @io.on("start")
    def start(socket: Socket) -> None:
        seen["started"].set()

    @io.on("stop")
    def stop(socket: Socket) -> None:
        seen["stop"].set()

    @io.on("whoami")
    def whoami(socket: Socket) -> dict[str, Any]:
        return {
            "rooms": sorted(socket.rooms),
            "data": socket.data,
            "recovered": socket.recovered,
            "token": socket.auth.get("token"),
        }

    return io


async def test_a_client_restored_on_another_server_misses_no_broadcast(
    redis: RedisProcess, key: str
) -> None:
    if shutil.which("node") is None:
        missing_part("node is not installed")
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why is not None:
        missing_part(why)
    seen: dict[str, Any] = {
        "connects": [],
        "started": anyio.Event(),
        "stop": anyio.Event(),
        "tick": 0,
    }
    ticking = streams_server(redis, key, seen)  # no client: it only broadcasts
    first = streams_server(redis, key, seen)
    second = streams_server(redis, key, seen)
    report: dict[str, Any] = {}

    async def ticker() -> None:
        n = 0
        while not seen["stop"].is_set():
            n += 1
            seen["tick"] = n
            if n % 3 == 0:
                await ticking.emit("tick", n)
            elif n % 3 == 1:
                await ticking.to("room1").emit("tick", n)
            else:
                await ticking.to(seen["sid"]).emit("tick", n)
            await ticking.except_("room1").emit("other", n)
            await anyio.sleep(0.003)

    async def wait_tick(n: int) -> None:
        while seen["tick"] < n:
            await anyio.sleep(0.01)

    async def run_client(url: str) -> None:
        result = await anyio.run_process(
            ["node", str(NODE_DIR / "recovery.js"), url, "websocket", "0", "300", "none"],
            check=False,
        )
        out = result.stdout.decode()
        assert result.returncode == 0, out + result.stderr.decode()
        report.update(json.loads(out.strip().splitlines()[-1]))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(ticking.run)
            bound = await tg.start(first.serve, "127.0.0.1", 0)
            tg.start_soon(run_client, bound.url)
            await seen["started"].wait()
            tg.start_soon(ticker)
            await wait_tick(50)
            await first.shutdown(timeout=2)
            away_from = seen["tick"]
            await wait_tick(away_from + 40)  # broadcasts while no server has the client
            await tg.start(second.serve, "127.0.0.1", bound.port)
            while len(report) == 0:
                await anyio.sleep(0.05)
            await second.shutdown(timeout=2)
            await ticking.shutdown(timeout=2)

    ticks = report["ticks"]
    assert ticks == list(range(1, len(ticks) + 1)) and ticks[-1] >= 300
    assert report["others"] == []
    first_connect, second_connect = report["connects"]
    assert first_connect["recovered"] is False and second_connect["recovered"] is True
    assert first_connect["id"] == second_connect["id"] == report["id"]
    assert report["info"] == {
        "rooms": sorted([report["id"], "room1"]),
        "data": {"name": "ada"},
        "recovered": True,
        "token": "t0k",
    }
    assert seen["connects"] == [(report["id"], False), (report["id"], True)]
    assert away_from < seen["tick"]


async def test_a_client_back_on_its_server_gets_the_other_servers_broadcasts(
    redis: RedisProcess, key: str
) -> None:
    if shutil.which("node") is None:
        missing_part("node is not installed")
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why is not None:
        missing_part(why)
    seen: dict[str, Any] = {
        "connects": [],
        "started": anyio.Event(),
        "stop": anyio.Event(),
        "tick": 0,
    }
    ticking = streams_server(redis, key, seen, "pubsub")
    serving = streams_server(redis, key, seen, "pubsub")
    report: dict[str, Any] = {}

    async def ticker() -> None:
        n = 0
        while not seen["stop"].is_set():
            n += 1
            seen["tick"] = n
            room = "room1" if n % 2 else seen["sid"]
            await ticking.to(room).emit("tick", n)
            await ticking.except_("room1").emit("other", n)
            await anyio.sleep(0.003)

    async def run_client(url: str) -> None:
        result = await anyio.run_process(
            ["node", str(NODE_DIR / "recovery.js"), url, "websocket", "40", "300"],
            check=False,
        )
        out = result.stdout.decode()
        assert result.returncode == 0, out + result.stderr.decode()
        report.update(json.loads(out.strip().splitlines()[-1]))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            await tg.start(ticking.run)
            bound = await tg.start(serving.serve, "127.0.0.1", 0)
            tg.start_soon(run_client, bound.url)
            await seen["started"].wait()
            tg.start_soon(ticker)
            while not report:
                await anyio.sleep(0.05)
            await serving.shutdown(timeout=2)
            await ticking.shutdown(timeout=2)

    ticks = report["ticks"]
    assert ticks == list(range(1, len(ticks) + 1)) and ticks[-1] >= 300
    assert report["others"] == []
    assert [c["recovered"] for c in report["connects"]] == [False, True]
    assert report["connects"][0]["id"] == report["connects"][1]["id"] == report["id"]
    assert report["info"]["data"] == {"name": "ada"}
