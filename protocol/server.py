"""thinkio set up exactly as the official test suites expect (PROTOCOL.md 5.2).

    python -m protocol.server --port PORT [--host 127.0.0.1] [--backend asyncio|trio]

One port, three mounts (the same as ``protocol/node_reference/server.js``):

* ``/engine.io/``  raw Engine.IO, echoing every message (text as text, binary as binary);
* ``/socket.io/``  Socket.IO: ``/`` emits ``auth`` on connect, answers ``message`` with
  ``message-back`` and acks ``message-with-ack``; ``/custom`` emits ``auth``;
* ``/restricted/`` the same Socket.IO app, open only to the origin ``http://allowed.example``.

Timings: ping interval 300 ms, ping timeout 200 ms, connect timeout 1000 ms, max payload 1 MB.
Prints ``listening on HOST:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any

import anyio

from thinkio.engine import EngineServer, EngineSocket
from thinkio.server import Server, Socket

ALLOWED_ORIGIN = "http://allowed.example"
TIMING: dict[str, Any] = {"ping_interval": 0.3, "ping_timeout": 0.2, "connect_timeout": 1.0}


class Echo:
    """The engine.io suite's app: every message comes back unchanged."""

    def on_open(self, socket: EngineSocket) -> EchoSession:
        return EchoSession(socket)


class EchoSession:
    """One echoed session."""

    def __init__(self, socket: EngineSocket) -> None:
        self.socket = socket

    def opened(self) -> None:
        pass

    def receive(self, data: str | bytes) -> None:
        self.socket.send_message(data)

    def ended(self, reason: str) -> None:
        pass


def set_up(io: Server) -> Server:
    """The socket.io suite's app (PROTOCOL.md 5.2, points 1-6)."""

    @io.on("connect")
    async def on_connect(socket: Socket) -> None:
        await socket.emit("auth", socket.auth)

    @io.on("message")
    async def on_message(socket: Socket, *args: Any) -> None:
        await socket.emit("message-back", *args)

    @io.on("message-with-ack")
    def on_message_with_ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @io.of("/custom").on("connect")
    async def on_custom(socket: Socket) -> None:
        await socket.emit("auth", socket.auth)

    return io


def build() -> tuple[Server, Server]:
    """The main server (with the echo mount) and the restricted one mounted on it."""
    io = set_up(Server(path="/socket.io", **TIMING))
    echo = EngineServer(Echo(), options=io.engine_options, timers=io.timers)
    io.mount("/engine.io", echo.handle)
    restricted = set_up(Server(path="/restricted", allow_origin=ALLOWED_ORIGIN, **TIMING))
    io.mount("/restricted", restricted.engine.handle)
    return io, restricted


async def main(host: str, port: int) -> None:
    io, restricted = build()
    async with anyio.create_task_group() as tg:
        await tg.start(restricted.run)
        bound = await tg.start(io.serve, host, port)
        print(f"listening on {bound.host}:{bound.port}", flush=True)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m protocol.server", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main, args.host, args.port, backend=args.backend)


if __name__ == "__main__":
    cli()
