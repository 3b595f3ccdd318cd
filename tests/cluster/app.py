"""The app the cluster tests run in every worker (``tests.cluster.app:build_server``)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from thinkio.errors import AckTimeout
from thinkio.server import Server, Socket


def build_server() -> Server:
    """A server whose events exercise the worker bus; every answer names the worker's pid."""
    io = Server(ping_interval=1.0, ping_timeout=2.0)

    @io.on("connect")
    async def connect(socket: Socket) -> None:
        socket.data["pid"] = os.getpid()
        socket.data["blob"] = b"\x00\xffdata"

    @io.on("whoami")
    async def whoami(socket: Socket) -> list[Any]:
        return [os.getpid(), socket.id]

    @io.on("echo")
    async def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @io.on("broadcast")
    async def broadcast(socket: Socket, *args: Any) -> int:
        await io.emit("news", os.getpid(), *args)
        return os.getpid()

    @io.on("local-broadcast")
    async def local_broadcast(socket: Socket, *args: Any) -> int:
        await io.sockets.local.emit("news", os.getpid(), *args)
        return os.getpid()

    @io.on("join")
    async def join(socket: Socket, room: str) -> None:
        socket.join(room)

    @io.on("to-room")
    async def to_room(socket: Socket, room: str, *args: Any) -> None:
        await io.to(room).emit("room-news", *args)

    @io.on("fetch")
    async def fetch(socket: Socket, room: str | None = None) -> list[Any]:
        target = io.in_(room) if room else io.sockets
        found = await target.fetch_sockets()
        return sorted([s.id, s.data.get("pid"), s.data.get("blob"), sorted(s.rooms)] for s in found)

    @io.on("count")
    async def count(socket: Socket) -> int:
        return await io.sockets.adapter.server_count()

    @io.on("sockets-join")
    async def sockets_join(socket: Socket, room: str, new_room: str) -> None:
        await io.in_(room).sockets_join(new_room)

    @io.on("disconnect-room")
    async def disconnect_room(socket: Socket, room: str) -> None:
        await io.in_(room).disconnect_sockets()

    @io.on("remote-emit")
    async def remote_emit(socket: Socket, target_id: str, *args: Any) -> bool:
        for found in await io.sockets.fetch_sockets():
            if found.id == target_id:
                await found.emit("direct", *args)
                return True
        return False

    @io.on("ask-everyone")
    async def ask_everyone(socket: Socket, question: str) -> list[Any]:
        return sorted(await io.sockets.emit_with_ack("question", question, timeout=5))

    @io.on("ask-everyone-within")
    async def ask_everyone_within(socket: Socket, question: str, seconds: float) -> Any:
        # Node's io.timeout(ms).emitWithAck: one ack per client, or what came in time.
        try:
            return sorted(await io.timeout(seconds).emit_with_ack("question", question))
        except AckTimeout as exc:
            return {"timed_out": sorted(exc.responses)}

    @io.sockets.on_server_side("which-pid")
    def which_pid(tag: str) -> list[Any]:
        return [tag, os.getpid()]

    @io.on("ask-workers")
    async def ask_workers(socket: Socket, tag: str) -> list[Any]:
        return sorted(await io.sockets.server_side_call("which-pid", tag))

    @io.on("hang")
    def hang(socket: Socket, seconds: float, marker: str | None = None) -> None:
        if marker:
            Path(marker).write_text(str(os.getpid()))  # the test knows the worker is stuck now
        time.sleep(seconds)  # blocks the worker's event loop: a stuck worker

    return io


class Wrapped:
    """An application object holding its server in ``io``, with a shutdown hook of its own."""

    def __init__(self, greeting: str) -> None:
        self.io = build_server()
        self.greeting = greeting

        @self.io.on("greeting")
        async def greet(socket: Socket) -> str:
            return greeting

    async def shutdown(self, timeout: float) -> None:
        await self.io.sockets.local.emit("bye", self.greeting)
        await self.io.shutdown(timeout)


def build_wrapped(greeting: str) -> Wrapped:
    """A factory taking an argument (``app_args``)."""
    return Wrapped(greeting)
