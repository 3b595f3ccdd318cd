"""permessage-deflate (``per_message_deflate``), checked on the wire with wsproto as the client.

The client side is wsproto's own ``WSConnection`` with its ``PerMessageDeflate`` (a real,
independent implementation); the bytes the server writes are split into frames here first so
the tests can see RSV1 (compressed) on each. Node's ``ws`` and Chromium are in
tests/interop/test_deflate.py.
"""

from __future__ import annotations

import zlib
from typing import Any

import anyio
import pytest
from anyio.abc import SocketStream
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

from thinkio.errors import ConfigError
from thinkio.server import Server, Socket
from thinkio.websocket import WebSocketClosed, WebSocketConnection
from thinkio.websocket.deflate import DeflateOptions, deflate_options

from .conftest import running

pytestmark = pytest.mark.anyio

BIG = "compressible text " * 500  # 9000 bytes


class WireClient:
    """A WebSocket client on wsproto that records, per server frame, whether RSV1 was set."""

    def __init__(self, stream: SocketStream, ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.response_head = b""
        self.frames: list[tuple[bool, int]] = []  # (compressed, wire length) per data frame
        self._pending = b""
        self._messages: list[str | bytes] = []
        self.closed: CloseConnection | None = None

    @classmethod
    async def connect(cls, url: str, extensions: str | None) -> WireClient:
        port = int(url.rsplit(":", 1)[1])
        stream = await anyio.connect_tcp("127.0.0.1", port)
        ws = WSConnection(ConnectionType.CLIENT)
        client = cls(stream, ws)
        offered = [PerMessageDeflate()] if extensions else []
        request = Request(
            host=f"127.0.0.1:{port}",
            target="/socket.io/?EIO=4&transport=websocket",
            extensions=offered,  # type: ignore[arg-type]
        )
        await stream.send(ws.send(request))
        with anyio.fail_after(5):
            head = b""
            while b"\r\n\r\n" not in head:
                head += await stream.receive()
        client.response_head, _, rest = head.partition(b"\r\n\r\n")
        ws.receive_data(client.response_head + b"\r\n\r\n")
        events = list(ws.events())
        assert isinstance(events[0], AcceptConnection), events
        client._feed(rest)
        return client

    def _feed(self, data: bytes) -> None:
        self._pending += data
        buf = self._pending
        while len(buf) >= 2:
            length, head = buf[1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                length, head = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < head + length:
                break
            if buf[0] & 0x0F in (1, 2, 0):
                self.frames.append((bool(buf[0] & 0x40), head + length))
            self.ws.receive_data(buf[: head + length])
            buf = buf[head + length :]
        self._pending = buf
        for event in self.ws.events():
            if isinstance(event, Message):
                assert event.message_finished
                self._messages.append(event.data)
            elif isinstance(event, CloseConnection):
                self.closed = event

    async def send(self, message: str | bytes) -> None:
        event = TextMessage(message) if isinstance(message, str) else BytesMessage(message)
        await self.stream.send(self.ws.send(event))

    async def receive(self) -> str | bytes | None:
        """The next message; None once the server closed."""
        with anyio.fail_after(5):
            while not self._messages:
                if self.closed is not None:
                    return None
                try:
                    data = await self.stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return None
                self._feed(data)
        return self._messages.pop(0)


def deflate_server(**options: Any) -> Server:
    io = Server(**options)

    @io.on("echo")
    def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    return io


async def _join(client: WireClient) -> None:
    opened = await client.receive()
    assert isinstance(opened, str) and opened.startswith("0{")
    await client.send("40")
    joined = await client.receive()
    assert isinstance(joined, str) and joined.startswith("40{")


async def test_negotiated_and_big_messages_compressed_both_ways() -> None:
    async with running(deflate_server(per_message_deflate=True)) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        head = client.response_head.decode().lower()
        assert "\r\nsec-websocket-extensions: permessage-deflate" in head
        await _join(client)
        # Small packets (the open packet, 40{...}) are under the 1024-byte threshold.
        assert [compressed for compressed, _ in client.frames] == [False, False]
        await client.send(f'421["echo","{BIG}"]')  # wsproto sends it compressed
        assert await client.receive() == f'431["{BIG}"]'
        compressed, wire_length = client.frames[-1]
        assert compressed and wire_length < len(BIG) // 10
        await client.send('422["echo","small"]')
        assert await client.receive() == '432["small"]'
        assert client.frames[-1][0] is False
        # Binary (the attachment of a BINARY_ACK) goes through the same extension.
        await client.send('451-3["echo",{"_placeholder":true,"num":0}]')
        await client.send(b"\x00" * 5000)
        assert await client.receive() == '461-3[{"_placeholder":true,"num":0}]'
        assert await client.receive() == b"\x00" * 5000
        assert client.frames[-1][0] is True


async def test_threshold_zero_compresses_everything() -> None:
    async with running(deflate_server(per_message_deflate={"threshold": 0})) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        await _join(client)
        assert [compressed for compressed, _ in client.frames] == [True, True]


async def test_off_by_default_and_a_compressed_frame_is_refused() -> None:
    async with running(deflate_server()) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        assert b"sec-websocket-extensions" not in client.response_head.lower()
        await _join(client)
        # RSV1 set without the extension: a protocol error (1002), as in RFC 6455 5.2.
        payload = b"42"
        await client.stream.send(bytes((0xC1, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
        assert await client.receive() is None
        assert client.closed is not None and client.closed.code == 1002


async def test_a_deflate_bomb_is_refused_with_1009() -> None:
    io = deflate_server(per_message_deflate=True, max_http_buffer_size=10_000)
    async with running(io) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        await _join(client)
        bystander = await WireClient.connect(url, "permessage-deflate")
        await _join(bystander)
        # ~1 KB on the wire that inflates to 1 MB: over the 10 KB limit once inflated.
        await client.send('42["echo","' + "a" * 1_000_000 + '"]')
        assert client.frames and await client.receive() is None
        assert client.closed is not None and client.closed.code == 1009
        await bystander.send('421["echo","still here"]')
        assert await bystander.receive() == '431["still here"]'


@pytest.mark.parametrize(
    "header",
    [
        "x-webkit-deflate-frame",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; client_max_window_bits=8",
    ],
)
def test_offers_we_cannot_take_are_passed_over(header: str) -> None:
    assert DeflateOptions().negotiate(header, 1000) is None


def test_the_first_acceptable_offer_wins() -> None:
    header = "permessage-deflate; server_max_window_bits=99, permessage-deflate"
    negotiated = DeflateOptions(server_no_context_takeover=True).negotiate(header, 1000)
    assert negotiated is not None
    assert negotiated[1] == b"permessage-deflate; server_no_context_takeover"


def test_sans_io_round_trip_and_bound() -> None:
    negotiated = DeflateOptions().negotiate("permessage-deflate", 100)
    assert negotiated is not None
    server = WebSocketConnection(client=False, max_message=100, deflate=negotiated[0])
    frame = server.send_compressed("hello " * 10)
    assert frame[0] == 0xC1  # FIN, RSV1, text

    # A masked client frame compressed with a raw deflate stream (RFC 7692 section 7.2.1).
    def client_frame(text: str) -> bytes:
        comp = zlib.compressobj(wbits=-15)
        data = comp.compress(text.encode()) + comp.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4]
        return bytes((0xC1, 0x80 | len(data))) + b"\0\0\0\0" + data

    assert server.receive_data(client_frame("hi " * 20)) == ["hi " * 20]
    assert server.receive_data(client_frame("x" * 101)) == [
        WebSocketClosed(1009, "message too big", by_peer=False)
    ]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("yes", "expected True, False or a dict"),
        ({"threshold": -1}, "0 or more"),
        ({"level": 9}, "unknown key 'level'"),
        ({"serverMaxWindowBits": 20}, "9..15"),
    ],
)
def test_bad_options(value: Any, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        Server(per_message_deflate=value)


def test_option_forms() -> None:
    assert deflate_options(False) is None
    assert deflate_options(True) == DeflateOptions(threshold=1024)
    assert deflate_options({"threshold": 0, "clientNoContextTakeover": True}) == DeflateOptions(
        threshold=0, client_no_context_takeover=True
    )


def flagged_server() -> Server:
    """Each event sends BIG (over the threshold) one way: with compress(False) or without."""
    io = Server(per_message_deflate=True)

    @io.on("socket")
    async def to_socket(socket: Socket, flag: bool | None) -> None:
        if flag is None:
            await socket.emit("big", BIG)
        else:
            await socket.compress(flag).emit("big", BIG)

    @io.on("socket_nowait")
    def to_socket_nowait(socket: Socket) -> None:
        socket.compress(False).emit_nowait("big", BIG)

    @io.on("everyone")
    async def to_everyone(socket: Socket, flag: bool | None) -> None:
        await (io.emit("big", BIG) if flag is None else io.compress(flag).emit("big", BIG))

    @io.on("room")
    async def to_room(socket: Socket) -> None:  # a chain, the flag in the middle; and acks
        await io.of("/").to("r").compress(False).volatile.emit("big", BIG)

    @io.on("others")
    def to_others(socket: Socket) -> None:
        socket.broadcast.compress(False).emit_nowait("big", BIG)

    @io.on("ask")
    async def ask(socket: Socket, how: str) -> None:  # an emit that waits for the ack
        if how == "compress, then timeout":
            answer = await socket.compress(False).timeout(5).emit_with_ack("big", BIG)
        elif how == "timeout, then compress":
            answer = await socket.timeout(5).compress(False).emit_with_ack("big", BIG)
        elif how == "compress, then call":
            answer = await socket.compress(False).call("big", BIG)
        else:
            answer = await socket.timeout(5).emit_with_ack("big", BIG)
        await socket.emit("answer", answer)

    @io.on("connect")
    def joined(socket: Socket) -> None:
        socket.join("r")

    return io


async def big_frame(client: WireClient) -> bool:
    """Receive the next message, check it is BIG; whether its frame was compressed."""
    assert await client.receive() == f'42["big","{BIG}"]'
    compressed, wire_length = client.frames[-1]
    assert wire_length < len(BIG) // 10 if compressed else wire_length > len(BIG)
    return compressed


async def test_compress_false_sends_a_big_packet_uncompressed_to_a_socket() -> None:
    async with running(flagged_server()) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        await _join(client)
        # The flag only: the packets around it keep the threshold rule, and the compressor's
        # context (taken over from message to message) is not upset by the plain frame.
        for event, compressed in [
            ('42["socket",null]', True),
            ('42["socket",false]', False),
            ('42["socket",true]', True),
            ('42["socket_nowait"]', False),
            ('42["socket",null]', True),
        ]:
            await client.send(event)
            assert await big_frame(client) is compressed, event


async def test_compress_false_holds_on_an_emit_that_waits_for_the_ack() -> None:
    async with running(flagged_server()) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        await _join(client)
        for how, compressed in [
            ("compress, then timeout", False),
            ("timeout, then compress", False),
            ("compress, then call", False),
            ("timeout only", True),
        ]:
            await client.send(f'42["ask","{how}"]')
            message = await client.receive()
            assert isinstance(message, str)
            ack_id, _, rest = message[2:].partition("[")
            assert ack_id.isdigit() and rest == f'"big","{BIG}"]', how
            assert client.frames[-1][0] is compressed, how
            await client.send(f'43{ack_id}["got it"]')
            assert await client.receive() == '42["answer",["got it"]]', how


async def test_compress_false_sends_a_big_broadcast_uncompressed_to_every_recipient() -> None:
    async with running(flagged_server()) as url:
        clients = [await WireClient.connect(url, "permessage-deflate") for _ in range(3)]
        for client in clients:
            await _join(client)
        sender, *others = clients
        for event, compressed in [
            ('42["everyone",null]', True),
            ('42["everyone",false]', False),
            ('42["room"]', False),
            ('42["everyone",true]', True),
        ]:
            await sender.send(event)
            assert [await big_frame(c) for c in clients] == [compressed] * 3, event
        await sender.send('42["others"]')
        assert [await big_frame(c) for c in others] == [False, False]


async def test_a_peer_servers_compress_false_is_honoured() -> None:
    """A broadcast from another server of a cluster arrives as options with flags: the
    adapter applies it here as it came."""
    from thinkio.server import BroadcastOptions
    from thinkio.socketio import Packet, PacketType

    io = flagged_server()
    async with running(io) as url:
        client = await WireClient.connect(url, "permessage-deflate")
        await _join(client)
        adapter = io.of("/").adapter
        for flags, compressed in [({"compress": False}, False), ({"compress": True}, True)]:
            packet = Packet(PacketType.EVENT, "/", ["big", BIG])
            adapter.apply_broadcast(packet, BroadcastOptions(flags=flags))
            assert await big_frame(client) is compressed
