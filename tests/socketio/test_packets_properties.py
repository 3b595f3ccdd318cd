"""Properties of the packet codec: the decoder raises only RemoteProtocolError, and
whatever encode writes, decode reads back (PROTOCOL.md 2.2, DESIGN.md "Bad input")."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from thinkio.errors import RemoteProtocolError
from thinkio.limits import Limits
from thinkio.socketio import Connection, ConnectRequest
from thinkio.socketio.packets import RESERVED_EVENTS, Decoder, Packet, PacketType, encode

from .vectors import VECTORS, Vector

# Bias text towards the characters the format is made of.
wire_chars = st.sampled_from('0123456-/,[]{}":_placeholdertruenum\\ ?=&') | st.characters()
messages = st.lists(st.text(wire_chars, max_size=40) | st.binary(max_size=4), max_size=6)


@given(messages, st.sampled_from([4, 5]))
def test_decoder_raises_only_remote_protocol_error(wire: list[str | bytes], protocol: int) -> None:
    decoder = Decoder(protocol=protocol)
    with contextlib.suppress(RemoteProtocolError):
        for message in wire:
            decoder.feed(message)


@given(st.sampled_from(VECTORS), st.data())
def test_mutated_vectors_raise_only_remote_protocol_error(
    vector: Vector, data: st.DataObject
) -> None:
    wire = list(vector.wire)
    head = wire[0]
    pos = data.draw(st.integers(0, len(head)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.text(wire_chars, max_size=3))
    wire[0] = head[:pos] + insert + head[pos + cut :]
    decoder = Decoder(protocol=vector.protocol)
    with contextlib.suppress(RemoteProtocolError):
        for message in wire:
            decoder.feed(message)


json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5)
json_or_bytes = st.recursive(
    json_leaf | st.binary(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)
namespaces = st.just("/") | st.from_regex(r"/[a-z0-9_\-]{1,10}", fullmatch=True)
event_names = st.text(min_size=0, max_size=8).filter(lambda s: s not in RESERVED_EVENTS)


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    kind = draw(st.sampled_from(["event", "ack", "connect", "disconnect", "error"]))
    nsp = draw(namespaces)
    if kind == "event":
        args = [draw(event_names), *draw(st.lists(json_or_bytes, max_size=3))]
        return Packet(PacketType.EVENT, nsp, args, draw(st.none() | st.integers(0, 10**15 - 1)))
    if kind == "ack":
        return Packet(
            PacketType.ACK, nsp, draw(st.lists(json_or_bytes, max_size=3)), draw(st.integers(0, 99))
        )
    if kind == "connect":
        return Packet(
            PacketType.CONNECT,
            nsp,
            draw(st.none() | st.dictionaries(st.text(max_size=3), json_leaf, max_size=3)),
        )
    if kind == "disconnect":
        return Packet(PacketType.DISCONNECT, nsp)
    return Packet(
        PacketType.CONNECT_ERROR,
        nsp,
        draw(st.text(max_size=5) | st.fixed_dictionaries({"message": st.text(max_size=5)})),
    )


def count_bytes(value: object) -> int:
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list):
        return sum(count_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(count_bytes(v) for v in value.values())
    return 0


@given(packets())
def test_encode_then_decode_gives_the_packet_back(packet: Packet) -> None:
    wire = encode(packet)
    decoder = Decoder(Limits(max_attachments=1000))
    results = [decoder.feed(message) for message in wire]
    assert results[:-1] == [None] * (len(wire) - 1)
    decoded = results[-1]
    assert decoded is not None
    n = count_bytes(packet.data)
    expected_type = packet.type
    if n:
        expected_type = (
            PacketType.BINARY_EVENT if packet.type is PacketType.EVENT else PacketType.BINARY_ACK
        )
    assert decoded == Packet(expected_type, packet.namespace, packet.data, packet.id)
    assert len(wire) == 1 + n


@given(st.lists(st.sampled_from([v.wire for v in VECTORS if v.protocol == 5]), max_size=8))
def test_connection_raises_only_remote_protocol_error(
    exchanges: list[tuple[str | bytes, ...]],
) -> None:
    # Valid packets in random order: every state violation must be the peer's error.
    conn = Connection(now=0.0)
    with contextlib.suppress(RemoteProtocolError):
        for wire in exchanges:
            for message in wire:
                conn.receive_message(message, 0.0)
            while (event := conn.next_event()) is not None:
                if isinstance(event, ConnectRequest) and event.namespace != "/random":
                    conn.accept(event.namespace, "sid")
                elif isinstance(event, ConnectRequest):
                    conn.reject_invalid_namespace(event.namespace)
