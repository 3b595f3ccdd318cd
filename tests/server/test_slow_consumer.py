"""Bounded outboxes: a client that stops reading is cut off; the others keep going."""

from __future__ import annotations

import anyio
import pytest
import wsproto
from wsproto.events import AcceptConnection, Request

from thinkio.client import Client
from thinkio.limits import Limits
from thinkio.server import Socket

from .conftest import fast_server, running

pytestmark = pytest.mark.anyio


async def open_silent_websocket(port: int) -> anyio.abc.SocketStream:
    """A Socket.IO client on WebSocket that joins "/" and then never reads again."""
    stream = await anyio.connect_tcp("127.0.0.1", port)
    ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
    await stream.send(
        ws.send(Request(host="127.0.0.1", target="/socket.io/?EIO=4&transport=websocket"))
    )
    accepted = False
    with anyio.fail_after(5):
        while not accepted:
            ws.receive_data(await stream.receive())
            accepted = any(isinstance(e, AcceptConnection) for e in ws.events())
    await stream.send(ws.send(wsproto.events.TextMessage("40")))
    return stream


async def test_a_client_that_stops_reading_is_closed_and_others_are_fine() -> None:
    io = fast_server(limits=Limits(max_outbox_packets=500), ping_interval=30, ping_timeout=30)
    reasons: list[str] = []
    joined = anyio.Event()

    @io.on("connect")
    def on_connect(socket: Socket) -> None:
        joined.set()

    @io.on("disconnect")
    def on_disconnect(socket: Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(io) as url:
        port = int(url.rsplit(":", 1)[1])
        received = 0

        def count(*args: object) -> None:
            nonlocal received
            received += 1

        async with Client(url, transports=("websocket",), reconnection=False) as healthy:
            healthy.on("news", count)
            silent = await open_silent_websocket(port)
            with anyio.fail_after(5):
                while len(io.sockets.sockets) < 2:
                    await anyio.sleep(0.01)
            payload = "x" * 4096
            with anyio.fail_after(30):
                # Far more than the socket buffers hold: the silent client's outbox overflows.
                for _ in range(4000):
                    await io.emit("news", payload)
                    await anyio.sleep(0.0005)  # a fast but not unbounded sender
                    if reasons:
                        break
            assert reasons == ["transport error"]
            assert len(io.sockets.sockets) == 1
            await io.emit("news", "after")
            with anyio.fail_after(10):
                while received < 2:
                    await anyio.sleep(0.01)
            assert healthy.connected
            await silent.aclose()
