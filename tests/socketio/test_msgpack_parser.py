"""The msgpack parser (thinkio.socketio.msgpack_parser): Node's bytes in, valid maps out,
bad input refused with RemoteProtocolError only, and a Connection that picks it once."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.errors import ConfigError, LocalProtocolError, RemoteProtocolError
from thinkio.limits import DEFAULT_LIMITS
from thinkio.socketio import (
    DEFAULT_PARSER,
    MSGPACK_PARSER,
    AckReceived,
    Connection,
    ConnectRequest,
    EventReceived,
    MsgpackDecoder,
    Packet,
    PacketType,
    parser_named,
)
from thinkio.socketio.msgpack_parser import encode_msgpack, encode_msgpack_ack

#: What socket.io-msgpack-parser 3.0.2 (notepack.io 2.2) writes for these client packets,
#: recorded from ``new Encoder().encode(packet)`` in tests/interop/msgpack's node_modules.
NODE_VECTORS = [
    (
        "83a47479706500a464617461d40000a36e7370a12f",  # data: undefined
        Packet(PacketType.CONNECT, "/", None),
    ),
    (
        "83a47479706500a46461746181a5746f6b656ea3616263a36e7370a62f61646d696e",
        Packet(PacketType.CONNECT, "/admin", {"token": "abc"}),
    ),
    (  # the client's "options" key is ignored; a Buffer is bin
        "85a47479706502a46461746193a46563686f81a1619401cb4004000000000000c0c3c4020102a76f"
        "7074696f6e7381a8636f6d7072657373c3a2696403a36e7370a12f",
        Packet(PacketType.EVENT, "/", ["echo", {"a": [1, 2.5, None, True]}, b"\x01\x02"], 3),
    ),
    (  # an ArrayBuffer is notepack's ext 0
        "84a47479706503a46461746192a26f6bc702000908a269640ca36e7370a52f63686174",
        Packet(PacketType.ACK, "/chat", ["ok", b"\x09\x08"], 12),
    ),
    (  # a Date is milliseconds since the epoch; undefined is None
        "83a47479706502a46461746193a47768656ed7000000018bcfe5687bd40000a36e7370a12f",
        Packet(PacketType.EVENT, "/", ["when", 1700000000123, None]),
    ),
    ("82a47479706501a36e7370a52f63686174", Packet(PacketType.DISCONNECT, "/chat")),
]


@pytest.mark.parametrize(("hexdata", "packet"), NODE_VECTORS)
def test_decodes_what_node_writes(hexdata: str, packet: Packet) -> None:
    assert MsgpackDecoder().feed(bytes.fromhex(hexdata)) == packet


@pytest.mark.parametrize(
    "packet",
    [
        Packet(PacketType.CONNECT, "/", {"sid": "abc"}),
        Packet(PacketType.CONNECT, "/x", None),
        Packet(PacketType.DISCONNECT, "/x"),
        Packet(PacketType.EVENT, "/", ["ev", {"deep": [b"\x00", 1.5]}]),
        Packet(PacketType.EVENT, "/n", ["ev"], 7),
        Packet(PacketType.ACK, "/", ["r", b"\xff"], 0),
        Packet(PacketType.CONNECT_ERROR, "/", {"message": "no", "data": {"a": 1}}),
        Packet(PacketType.CONNECT_ERROR, "/", "legacy"),
    ],
)
def test_round_trip(packet: Packet) -> None:
    (message,) = encode_msgpack(packet)
    assert isinstance(message, bytes)
    assert MsgpackDecoder().feed(message) == packet


def test_the_map_node_reads() -> None:
    """Keys Node's checkPacket looks at; no ``id`` or ``data`` key when there is none."""
    (event,) = encode_msgpack(Packet(PacketType.BINARY_EVENT, "/", ["e", b"x"]))
    assert msgpack.unpackb(event) == {"type": 2, "data": ["e", b"x"], "nsp": "/"}
    (ack,) = encode_msgpack_ack("/c", 4, ("a",))
    assert msgpack.unpackb(ack) == {"type": 3, "data": ["a"], "nsp": "/c", "id": 4}
    (disconnect,) = encode_msgpack(Packet(PacketType.DISCONNECT, "/c"))
    assert msgpack.unpackb(disconnect) == {"type": 1, "nsp": "/c"}


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (Packet(PacketType.EVENT, "/", ["connect"]), "reserved"),
        (Packet(PacketType.EVENT, "/", []), "non-empty"),
        (Packet(PacketType.EVENT, "nsp", ["e"]), "namespace"),
        (Packet(PacketType.ACK, "/", ["e"]), "needs an id"),
        (Packet(PacketType.EVENT, "/", ["e", object()]), "MessagePack"),
        (Packet(PacketType.DISCONNECT, "/", {"a": 1}), "no payload"),
        (Packet(PacketType.CONNECT, "/", None, 3), "no ack id"),
    ],
)
def test_encode_refuses(packet: Packet, why: str) -> None:
    with pytest.raises(LocalProtocolError, match=why):
        encode_msgpack(packet)


def _map(**fields: object) -> bytes:
    return msgpack.packb(fields, use_bin_type=True)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("40", "text message"),
        (b"", "truncated"),
        (b"\xc1", "not used"),
        (b"\x93\x01\x02\x03", "expected a map"),
        (_map(type=9, nsp="/", data=[]), "packet type"),
        (_map(type=True, nsp="/", data=["e"]), "packet type"),
        (_map(type=2.0, nsp="/", data=["e"]), "packet type"),
        (b"\x81\xa4type\x90", "packet type"),  # type: [] (fuzz-found: was a TypeError)
        (_map(type=2, nsp=5, data=["e"]), "namespace"),
        (_map(type=2, data=["e"]), "namespace"),
        (_map(type=2, nsp="/" + "x" * 300, data=["e"]), "too long"),
        (_map(type=2, nsp="/", data="e"), "non-empty array"),
        (_map(type=2, nsp="/", data=["disconnect"]), "reserved"),
        (_map(type=2, nsp="/", data=[None]), "event name"),
        (_map(type=3, nsp="/", data=[]), "without an id"),
        (_map(type=3, nsp="/", data=[], id=-1), "packet id"),
        (_map(type=3, nsp="/", data=[], id=1.5), "packet id"),
        (_map(type=3, nsp="/", data=[], id=10**17), "packet id"),
        (_map(type=0, nsp="/", data=[1]), "CONNECT payload"),
        (_map(type=0, nsp="/", id=1), "no ack id"),
        (_map(type=1, nsp="/", data={}), "DISCONNECT"),
        (_map(type=4, nsp="/", data=1), "CONNECT_ERROR"),
        (
            _map(
                type=2,
                nsp="/",
                data=["e", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
            ),
            "deeply",
        ),
        (_map(type=2, nsp="/", data=["e"]) + b"\x00", "trailing"),
    ],
)
def test_decode_refuses(message: str | bytes, why: str) -> None:
    with pytest.raises(RemoteProtocolError, match=why):
        MsgpackDecoder().feed(message)


@given(st.binary(max_size=64))
def test_any_bytes_give_a_packet_or_a_remote_error(data: bytes) -> None:
    try:
        packet = MsgpackDecoder().feed(data)
    except RemoteProtocolError:
        return
    assert isinstance(packet, Packet)


def test_connection_speaks_the_parser_it_was_made_with() -> None:
    conn = Connection(now=0.0, parser=MSGPACK_PARSER)
    conn.receive_message(bytes.fromhex(NODE_VECTORS[0][0]), now=0.0)
    assert conn.next_event() == ConnectRequest("/", {})
    conn.accept("/", "sid1")
    (hello,) = conn.data_to_send()
    assert msgpack.unpackb(hello) == {"type": 0, "data": {"sid": "sid1"}, "nsp": "/"}
    conn.receive_message(encode_msgpack(Packet(PacketType.EVENT, "/", ["e", b"\x00"], 1))[0], 0.0)
    assert conn.next_event() == EventReceived("/", ["e", b"\x00"], 1)
    conn.ack("/", 1, [b"r"])
    conn.emit("/", ["push", {"k": b"v"}], ack_id=5)
    ack, push = conn.data_to_send()
    assert msgpack.unpackb(ack) == {"type": 3, "data": [b"r"], "nsp": "/", "id": 1}
    assert msgpack.unpackb(push) == {"type": 2, "data": ["push", {"k": b"v"}], "nsp": "/", "id": 5}
    conn.receive_message(encode_msgpack_ack("/", 5, ["ok"])[0], 0.0)
    assert conn.next_event() == AckReceived("/", 5, ["ok"])
    # A default-parser text packet is not a msgpack packet: the session must close.
    with pytest.raises(RemoteProtocolError, match="text message"):
        conn.receive_message('2["e"]', 0.0)
    assert conn.closed


def test_parser_names() -> None:
    assert parser_named("default") is DEFAULT_PARSER
    assert parser_named("msgpack") is MSGPACK_PARSER
    assert parser_named(MSGPACK_PARSER) is MSGPACK_PARSER
    with pytest.raises(ConfigError, match="'default', 'msgpack'"):
        parser_named("json")
    assert DEFAULT_LIMITS.max_json_depth < 34  # the "deeply" case above nests deeper
