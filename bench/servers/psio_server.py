"""The benchmark app on python-socketio's ``AsyncServer``, served by uvicorn (ASGI).

    python -m bench.servers.psio_server [--port 0] [--loop uvloop|asyncio] [--http httptools|h11]

Its best configuration by default: what ``pip install uvicorn[standard]`` gives, uvloop as the
event loop, httptools as the HTTP parser and websockets' sans-I/O protocol
(``websockets-sansio``, what uvicorn's ``ws="auto"`` picks when websockets is installed). No
access log, and no permessage-deflate (neither thinkio nor Node's socket.io negotiate it by
default).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket
import sys
from typing import Any

import socketio
import uvicorn

from . import MAX_COUNT


def build() -> tuple[socketio.AsyncServer, socketio.ASGIApp]:
    sio = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False)

    @sio.on("echo")
    async def echo(sid: str, *args: Any) -> None:
        await sio.emit("echo", args, to=sid)

    @sio.on("ack")
    async def ack(sid: str, *args: Any) -> tuple[Any, ...]:
        return args

    @sio.on("async_ack")
    async def async_ack(sid: str, *args: Any) -> tuple[Any, ...]:
        await asyncio.sleep(0)
        return args

    @sio.on("broadcast")
    async def broadcast(sid: str, count: int, payload: Any) -> int:
        count = min(int(count), MAX_COUNT)
        for i in range(count):
            await sio.emit("tick", (i, payload))
        return count

    @sio.on("join")
    async def join(sid: str, room: str) -> str:
        await sio.enter_room(sid, room)
        return room

    @sio.on("room_broadcast")
    async def room_broadcast(sid: str, room: str, count: int, payload: Any) -> int:
        count = min(int(count), MAX_COUNT)
        for i in range(count):
            await sio.emit("tick", (i, payload), to=room)
        return count

    return sio, socketio.ASGIApp(sio)


async def main(host: str, port: int, http: str, ws: str) -> None:
    _, app = build()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_host, bound_port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        http=http,
        ws=ws,
        ws_per_message_deflate=False,
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"listening on {bound_host}:{bound_port}", flush=True)
    await serving


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers.psio_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--http", choices=("httptools", "h11"), default="httptools")
    parser.add_argument(
        "--ws", choices=("websockets-sansio", "websockets", "wsproto"), default="websockets-sansio"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    coro = main(args.host, args.port, args.http, args.ws)
    with contextlib.suppress(KeyboardInterrupt):
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(coro)
        else:
            asyncio.run(coro)


if __name__ == "__main__":
    cli()
