"""The adapter contract against the worker bus, in one process.

Each server gets a real :class:`~thinkio.cluster.channel.Channel` over a UNIX socket pair, its
:class:`~thinkio.cluster.bus.WorkerBus` and bus adapters, exactly as a worker does; the
other end of each channel is read by the supervisor's real :class:`~thinkio.cluster.relay.Relay`.
Only the processes are missing: ``test_routing_and_bus.py`` runs the bus between real
worker processes.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

import anyio
import pytest
from anyio.abc import TaskGroup

from thinkio.cluster.bus import WorkerBus
from thinkio.cluster.channel import Channel, Frame
from thinkio.cluster.relay import Relay
from thinkio.cluster.worker import install_bus
from thinkio.server import Server
from thinkio.testing import check_adapter

pytestmark = pytest.mark.anyio


def in_process_bus(tg: TaskGroup) -> Callable[[str], Awaitable[Server]]:
    """``make_server(group)`` for :func:`check_adapter`: servers of a group share a relay."""
    groups: dict[str, tuple[Relay, list[Server], list[Channel]]] = {}

    async def make_server(group: str) -> Server:
        if group not in groups:
            servers: list[Server] = []
            channels: list[Channel] = []

            async def send(index: int, header: dict[str, object], blobs: list[bytes]) -> None:
                await channels[index].send(header, blobs)

            def serving(servers: list[Server] = servers) -> list[int]:
                return [i for i, io in enumerate(servers) if io.engine.accepting]

            groups[group] = (Relay(send, serving), servers, channels)
        relay, servers, channels = groups[group]
        index = len(servers)
        io = Server(ping_interval=1.0, ping_timeout=2.0)
        near, far = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        worker_side, supervisor_side = (
            await Channel.from_socket(near),
            await Channel.from_socket(far),
        )
        bus = WorkerBus(worker_side, io, index=index, request_timeout=2.0)
        install_bus(io, bus)
        servers.append(io)
        channels.append(supervisor_side)

        async def supervisor_reads() -> None:
            while True:
                try:
                    message: Frame = await supervisor_side.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                await relay.route(index, message)

        async def worker_reads() -> None:
            while True:
                try:
                    bus.handle(await worker_side.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

        tg.start_soon(supervisor_reads)
        tg.start_soon(worker_reads)
        return io

    return make_server


async def test_the_worker_bus_keeps_the_contract() -> None:
    async with anyio.create_task_group() as tg:
        await check_adapter(in_process_bus(tg), nodes=3)
        tg.cancel_scope.cancel()
