"""thinkio's version of ``node_extra_server.js``: the same extra app, for the client tests.

    python -m tests.client.thinkio_extra_server PORT [--backend asyncio|trio]

* ``/``: on ``ask`` (event, *args) calls the client with an ack (2 s timeout) and emits
  ``answer`` with every value of the reply, or ``answer-error`` with the error message; on
  ``kick`` disconnects the socket from the server side; on ``count`` (n) emits ``item`` n
  times with 0..n-1, then ``done``.
* ``/private``: a middleware refuses unless ``auth.token == "secret"``, with data ``{code: 42}``.

max_http_buffer_size is 1000 bytes, so polling clients must split their POST payloads.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio

from thinkio import AckTimeout, ConnectRejected, Server, Socket


def build() -> Server:
    io = Server(ping_interval=0.3, ping_timeout=0.2, max_http_buffer_size=1000)

    @io.on("ask")
    async def ask(socket: Socket, event: str, *args: Any) -> None:
        try:
            reply = await socket.call(event, *args, timeout=2)
        except AckTimeout as exc:
            await socket.emit("answer-error", str(exc))
            return
        await socket.emit("answer", *reply)

    @io.on("kick")
    async def kick(socket: Socket) -> None:
        await socket.disconnect()

    @io.on("count")
    async def count(socket: Socket, n: int) -> None:
        for i in range(n):
            await socket.emit("item", i)
        await socket.emit("done")

    private = io.of("/private")

    @private.use
    def check(socket: Socket) -> None:
        if socket.auth.get("token") != "secret":
            raise ConnectRejected("not authorized", {"code": 42})

    @private.on("connect")
    async def welcome(socket: Socket) -> None:
        await socket.emit("welcome")

    return io


async def main(port: int) -> None:
    io = build()
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", port)
        print(f"listening on {bound.host}:{bound.port}", flush=True)


if __name__ == "__main__":
    backend = sys.argv[sys.argv.index("--backend") + 1] if "--backend" in sys.argv else "asyncio"
    anyio.run(main, int(sys.argv[1]), backend=backend)
