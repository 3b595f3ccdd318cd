"""The app of the cluster's connection state recovery test (``tests/cluster/test_recovery.py``).

Every worker keeps sessions for 30 s. A client's ``start`` makes every worker tick to it in
every way a broadcast can reach it (the namespace, its room, its own id), each tick naming the
worker's pid, and emit an ``other`` event to everyone but that room, which the client must
never see. ``poke`` sends one event to the socket alone, ``say`` one to ``room1``; ``hold``
keeps the Socket object, so that ``poke-held`` can emit on it once it dropped; ``spoil``
puts in its ``data`` what MessagePack cannot carry.
"""

from __future__ import annotations

import os
from typing import Any

import anyio

from thinkio.server import Server, Socket


def build_server() -> Server:
    io = Server(
        ping_interval=1.0,
        ping_timeout=2.0,
        connection_state_recovery={"max_disconnection_duration": 30},
    )

    @io.on("connect")
    def connected(socket: Socket) -> None:
        if not socket.recovered:
            socket.join("room1")
            socket.data["name"] = "ada"

    async def ticker(sid: str, count: int) -> None:
        me = os.getpid()
        for n in range(1, count + 1):
            kind = n % 3
            if kind == 0:
                await io.emit("tick", me, n)
            elif kind == 1:
                await io.to("room1").emit("tick", me, n)
            else:
                await io.to(sid).emit("tick", me, n)
            await io.except_("room1").emit("other", me, n)
            await anyio.sleep(0.003)

    @io.on("start")
    async def start(socket: Socket, count: int) -> None:
        io.spawn(ticker, socket.id, count)
        await io.sockets.server_side_emit("start", socket.id, count)

    @io.sockets.on_server_side("start")
    def start_here(sid: str, count: int) -> None:
        io.spawn(ticker, sid, count)

    @io.on("poke")
    async def poke(socket: Socket) -> None:
        await socket.emit("poked", os.getpid())  # kept for recovery: it carries an offset

    held: dict[str, Socket] = {}

    @io.on("hold")
    def hold(socket: Socket) -> None:
        held[socket.id] = socket

    @io.on("poke-held")
    async def poke_held(socket: Socket, sid: str) -> None:
        # the Socket object of a client that dropped: kept for it, on this worker only
        await held[sid].emit("poked", os.getpid())

    @io.on("say")
    async def say(socket: Socket, text: str) -> None:
        await io.to("room1").emit("said", text)

    @io.on("spoil")
    def spoil(socket: Socket) -> None:
        socket.data["set"] = {1, 2}  # what the worker bus cannot carry

    @io.on("whoami")
    def whoami(socket: Socket) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "rooms": sorted(socket.rooms),
            "data": socket.data,
            "recovered": socket.recovered,
        }

    return io
