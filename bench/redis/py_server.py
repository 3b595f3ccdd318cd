"""One thinkio node on the Redis adapter for bench/redis/bench.py.

    python bench/redis/py_server.py REDIS_URL KEY BACKEND

Prints ``listening on 127.0.0.1:PORT`` once its adapter is subscribed. Namespace
``/control``: ``burst(n, size)`` broadcasts n events ``tick`` (an index and ``size`` bytes of
text) to ``/`` as fast as it can, then acks.
"""

from __future__ import annotations

import sys

import anyio

from thinkio.adapters import redis_adapter
from thinkio.server import Server, Socket


async def main(url: str, key: str) -> None:
    io = Server(adapter=redis_adapter(url, key=key))
    control = io.of("/control")

    @control.on("burst")
    async def burst(socket: Socket, n: int, size: int) -> bool:
        text = "x" * size
        for i in range(n):
            await io.emit("tick", i, text)
        return True

    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        print(f"listening on 127.0.0.1:{bound.port}", flush=True)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], backend=sys.argv[3])
