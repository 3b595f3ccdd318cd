"""The benchmark app on thinkio (see :mod:`bench.servers`).

    python -m bench.servers.thinkio_server [--port 0] [--loop uvloop|asyncio|trio]
                                           [--deflate THRESHOLD]

Handlers that need not wait are plain functions; the broadcast loops are ``async`` because
``Server.emit`` and ``BroadcastOperator.emit`` are coroutines. ``--loop uvloop`` is anyio's
asyncio backend on uvloop.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

import anyio
import anyio.lowlevel

from thinkio.server import Server, Socket

from . import MAX_COUNT


def build(deflate: int | None = None) -> Server:
    io = Server(per_message_deflate=False if deflate is None else {"threshold": deflate})

    @io.on("echo")
    def echo(socket: Socket, *args: Any) -> None:
        socket.emit_nowait("echo", *args)

    @io.on("ack")
    def ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @io.on("async_ack")
    async def async_ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        await anyio.lowlevel.checkpoint()
        return args

    @io.on("broadcast")
    async def broadcast(socket: Socket, count: int, payload: Any) -> int:
        count = min(int(count), MAX_COUNT)
        for i in range(count):
            await io.emit("tick", i, payload)
        return count

    @io.on("join")
    def join(socket: Socket, room: str) -> str:
        socket.join(room)
        return room

    @io.on("room_broadcast")
    async def room_broadcast(socket: Socket, room: str, count: int, payload: Any) -> int:
        count = min(int(count), MAX_COUNT)
        target = io.to(room)
        for i in range(count):
            await target.emit("tick", i, payload)
        return count

    return io


async def main(host: str, port: int, deflate: int | None = None) -> None:
    io = build(deflate)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, host, port)
        print(f"listening on {bound.host}:{bound.port}", flush=True)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers.thinkio_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--loop", choices=("uvloop", "asyncio", "trio"), default="uvloop")
    parser.add_argument("--deflate", type=int, default=None, metavar="THRESHOLD",
                        help="permessage-deflate, compressing messages of THRESHOLD bytes or more")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    backend = "trio" if args.loop == "trio" else "asyncio"
    options = {"use_uvloop": True} if args.loop == "uvloop" else {}
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(
            main, args.host, args.port, args.deflate, backend=backend, backend_options=options
        )


if __name__ == "__main__":
    cli()
