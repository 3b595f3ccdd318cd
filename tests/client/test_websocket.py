"""The client's WebSocket against a hand-driven peer on loopback: the handshake's checks, the
bytes that share a read with the 101, and what the message layer answers on its own.

The peer writes exactly the bytes a test names (a server library would not put a frame in the
same write as its 101, nor send a wrong accept token), and parses the client's frames with
:class:`thinkio.websocket.WebSocketConnection` in the server role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream
from wsproto.utilities import generate_accept_token

from thinkio.client.http import RequestFailed
from thinkio.client.websocket import ClientWebSocket, connect_websocket
from thinkio.websocket import WebSocketClosed, WebSocketConnection, close_frame, data_frame
from thinkio.websocket.frames import OP_PING, OP_PONG, frame, unmask

pytestmark = pytest.mark.anyio

Peer = Callable[[SocketStream, bytes], Awaitable[None]]
#: Bounds every wait on the peer or the client; nothing here should come near it.
TIMEOUT = 10.0


async def read_head(stream: SocketStream) -> bytes:
    """The client's upgrade request, up to its blank line."""
    head = b""
    while b"\r\n\r\n" not in head:
        head += await stream.receive()
    return head


def key_of(head: bytes) -> bytes:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            return value.strip()
    raise AssertionError(f"no Sec-WebSocket-Key in {head!r}")


def switching(key: bytes, *, accept: bytes | None = None, extra: bytes = b"") -> bytes:
    token = accept if accept is not None else generate_accept_token(key)
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + token + b"\r\n" + extra + b"\r\n"
    )


async def client_messages(stream: SocketStream, count: int) -> list[str | bytes | WebSocketClosed]:
    """The next ``count`` items the client sent, parsed as a server parses them."""
    conn = WebSocketConnection(client=False, max_message=1 << 20)
    items: list[str | bytes | WebSocketClosed] = []
    while len(items) < count:
        try:
            data: bytes | None = await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            data = None
        items += conn.receive_data(data)
    return items


@asynccontextmanager
async def serving(peer: Peer) -> AsyncIterator[int]:
    """A one-connection peer on loopback that runs ``peer``; yields its port."""
    (listener,) = (await anyio.create_tcp_listener(local_host="127.0.0.1")).listeners
    port: int = listener.extra(SocketAttribute.local_port)

    async def serve_one() -> None:
        async with listener:
            stream = await listener.accept()
            async with stream:
                await peer(stream, key_of(await read_head(stream)))

    with anyio.fail_after(TIMEOUT):
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve_one)
            yield port


async def connect(port: int, max_message: int = 1000) -> ClientWebSocket:
    return await connect_websocket(
        "127.0.0.1", port, "/ws", host_header=f"127.0.0.1:{port}", max_message=max_message
    )


@asynccontextmanager
async def connected(peer: Peer) -> AsyncIterator[ClientWebSocket]:
    """A client WebSocket connected to a peer that runs ``peer``."""
    async with serving(peer) as port:
        ws = await connect(port)
        try:
            yield ws
        finally:
            await ws.close()


async def test_frames_in_the_same_read_as_the_101_are_delivered_and_answered() -> None:
    pong = bytearray()

    async def peer(stream: SocketStream, key: bytes) -> None:
        ping = frame(OP_PING, b"hb")
        await stream.send(switching(key) + data_frame("first") + ping + data_frame(b"\x00\x01"))
        while len(pong) < 8:  # 2 header bytes, the mask, 2 payload bytes
            pong.extend(await stream.receive())

    async with connected(peer) as ws:
        assert await ws.receive() == "first"
        assert await ws.receive() == b"\x00\x01"
    assert pong[:2] == bytes((0x80 | OP_PONG, 0x80 | 2))  # FIN pong, masked, 2 bytes
    assert unmask(bytes(pong[2:6]), bytes(pong[6:8])) == b"hb"


async def test_messages_are_masked_and_the_close_handshake_runs() -> None:
    seen: list[str | bytes | WebSocketClosed] = []

    async def peer(stream: SocketStream, key: bytes) -> None:
        await stream.send(switching(key))
        seen.extend(await client_messages(stream, 2))
        await stream.send(data_frame("last words") + close_frame(4000, "bye"))
        seen.extend(await client_messages(stream, 1))

    async with connected(peer) as ws:
        await ws.send("hello")
        await ws.send(b"\xff" * 300)
        assert await ws.receive() == "last words"
        assert await ws.receive() is None
        await ws.send("after the close")  # dropped, not raised
    assert seen == ["hello", b"\xff" * 300, WebSocketClosed(4000, "", by_peer=True)]


async def test_a_message_over_the_limit_closes_with_1009() -> None:
    seen: list[str | bytes | WebSocketClosed] = []

    async def peer(stream: SocketStream, key: bytes) -> None:
        await stream.send(switching(key) + data_frame("x" * 1001))
        seen.extend(await client_messages(stream, 1))

    async with connected(peer) as ws:
        assert await ws.receive() is None
    assert seen == [WebSocketClosed(1009, "message too big", by_peer=True)]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            lambda key: b"HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n\r\nnot for you!",
            "HTTP 403 not for you!",
        ),
        (lambda key: switching(key, accept=b"d3Jvbmc="), "wrong Sec-WebSocket-Accept"),
        (
            lambda key: switching(key, extra=b"Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            "did not offer",
        ),
        (
            lambda key: switching(key).replace(b"Upgrade: websocket", b"Upgrade: h2c"),
            "does not upgrade",
        ),
        (lambda key: b"", "closed the connection during the handshake"),
    ],
    ids=["refused", "bad-accept", "extension", "not-websocket", "closed"],
)
async def test_a_bad_handshake_answer_is_a_request_failure(
    answer: Callable[[bytes], bytes], error: str
) -> None:
    async def peer(stream: SocketStream, key: bytes) -> None:
        await stream.send(answer(key))

    async with serving(peer) as port:
        with pytest.raises(RequestFailed, match=error):
            await connect(port)
