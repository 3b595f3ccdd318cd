"""Socket.IO packets: round trips of all seven types, and garbage into the Decoder.

PROTOCOL.md 2.1-2.2 (protocol 5) and 4 (protocol 4: CONNECT query, string CONNECT_ERROR).
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from thinkio.errors import LocalProtocolError, RemoteProtocolError
from thinkio.limits import Limits
from thinkio.socketio import Decoder, Packet, PacketType, encode

from .strategies import (
    NO_SURROGATES,
    count_bytes,
    event_names,
    garbage_bytes,
    garbage_text,
    json_values,
    normal_packet,
    sio_packets,
    texts_with_surrogates,
)


def decode_messages(messages: list[str | bytes], protocol: int) -> Packet:
    """Feed one packet's messages to a fresh Decoder; only the last may yield the packet."""
    decoder = Decoder(protocol=protocol)
    *head, last = messages
    for message in head:
        assert decoder.feed(message) is None
        assert decoder.awaiting_attachments > 0
    packet = decoder.feed(last)
    assert packet is not None
    assert decoder.awaiting_attachments == 0
    return packet


def expected_after_decode(packet: Packet, protocol: int) -> Packet:
    """What the decoder gives back for an encoded ``packet``: protocol 4 writes an empty
    CONNECT query as no query at all."""
    if protocol == 4 and packet.type is PacketType.CONNECT and not packet.data:
        return Packet(PacketType.CONNECT, packet.namespace, None)
    return packet


# ------------------------------------------------------------------------------ round trips


@given(st.sampled_from([4, 5]).flatmap(lambda p: st.tuples(st.just(p), sio_packets(p))))
def test_packet_round_trips(case: tuple[int, Packet]) -> None:
    protocol, packet = case
    messages = encode(packet, protocol=protocol)
    assert isinstance(messages[0], str)
    assert all(isinstance(m, bytes) for m in messages[1:])
    assert len(messages) - 1 == count_bytes(packet.data)
    decoded = decode_messages(messages, protocol)
    assert normal_packet(decoded) == normal_packet(expected_after_decode(packet, protocol))
    # A packet with attachments keeps its BINARY_* type on the way in (PROTOCOL.md 2.2).
    if len(messages) > 1:
        assert decoded.type in (PacketType.BINARY_EVENT, PacketType.BINARY_ACK)


@given(st.sampled_from([4, 5]).flatmap(lambda p: st.tuples(st.just(p), sio_packets(p, True))))
def test_binary_packet_round_trips_with_bytes_in_place(case: tuple[int, Packet]) -> None:
    protocol, packet = case
    header, *attachments = encode(packet, protocol=protocol)
    assert isinstance(header, str)
    assert header[0] in "56" and header[1 : header.index("-")] == str(len(attachments))
    decoded = decode_messages([header, *attachments], protocol)
    assert normal_packet(decoded) == normal_packet(packet)


@given(sio_packets(5))
def test_encoding_is_stable(packet: Packet) -> None:
    # encode(decode(encode(p))) == encode(p): the wire form is canonical.
    messages = encode(packet)
    assert encode(decode_messages(messages, 5)) == messages


# ------------------------------------------------------------------ garbage: value or error

#: Valid messages of every kind, to mutate and to interleave with garbage.
valid_messages = sio_packets(5).map(encode) | sio_packets(4).map(lambda p: encode(p, protocol=4))
valid_headers = valid_messages.map(lambda ms: ms[0])
any_message = st.one_of(
    garbage_text(valid_headers.map(str)),
    garbage_bytes(st.binary(max_size=8)),
    valid_headers.map(str),
)


def _check_decoded(packet: Packet, protocol: int, limits: Limits) -> None:
    """A packet the decoder let through is well-formed and survives a re-encoding."""
    assert type(packet.type) is PacketType
    assert packet.namespace.startswith("/") and "," not in packet.namespace
    assert len(packet.namespace) <= limits.max_namespace_length
    assert packet.id is None or (type(packet.id) is int and packet.id >= 0)
    again = decode_messages(encode(packet, protocol=protocol), protocol)
    assert normal_packet(again) == normal_packet(expected_after_decode(packet, protocol))


@given(
    st.lists(any_message | valid_messages.map(tuple), min_size=1, max_size=6),
    st.sampled_from([4, 5]),
)
@example(['51-["a",{"_placeholder":true,"num":1e400}]', b"x"], 5)
@example(['51-["a",{"_placeholder":true,"num":1}]', b"x"], 5)
@example(['51-["a",{"_placeholder":true,"num":0,"x":1}]', b"x"], 5)
@example(['51-[{"_placeholder":true,"num":0}]', b"x"], 5)
@example(["511-[]"], 5)
@example(['5-["a"]'], 5)
@example(['5\u0661-["a"]'], 5)
@example(['2/admin?x=1,["a"]'], 4)
@example(["0/admin?%zz=%ff,"], 4)
@example(['2999999999999999["a"]'], 5)
@example(["2" + "[" * 40 + "]" * 40], 5)
@example(['4"oops"'], 4)
@example(["0/" + "a" * 300], 5)
@example([b"\x00"], 5)
def test_decoder_gives_packets_or_remote_protocol_error(
    messages: list[str | bytes | tuple[str | bytes, ...]], protocol: int
) -> None:
    limits = Limits()
    decoder = Decoder(limits, protocol=protocol)
    flat = [m for item in messages for m in (item if isinstance(item, tuple) else (item,))]
    for message in flat:
        try:
            packet = decoder.feed(message)
        except RemoteProtocolError as exc:
            assert exc.close_reason == "parse error"
            assert decoder.awaiting_attachments == 0  # an error drops the half packet
            continue
        assert 0 <= decoder.awaiting_attachments <= limits.max_attachments
        if packet is not None:
            assert decoder.awaiting_attachments == 0
            _check_decoded(packet, protocol, limits)


def _stream(protocol: int) -> st.SearchStrategy[tuple[int, list[list[str | bytes]]]]:
    packets = st.lists(sio_packets(protocol), min_size=1, max_size=3)
    return st.tuples(
        st.just(protocol), packets.map(lambda ps: [encode(p, protocol=protocol) for p in ps])
    )


@given(_stream(4) | _stream(5))
def test_decoder_yields_each_packet_of_a_valid_stream_once(
    case: tuple[int, list[list[str | bytes]]],
) -> None:
    # One Decoder for a whole stream, as on a session: exactly one packet per header and
    # attachments, never early, never twice.
    protocol, stream = case
    decoder = Decoder(protocol=protocol)
    for messages in stream:
        out = [decoder.feed(m) for m in messages]
        assert out[:-1] == [None] * (len(messages) - 1)
        assert out[-1] is not None


# ------------------------------------------------------------- encoding: the caller's errors


class _Opaque:
    """A value JSON cannot hold."""


local_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # NaN and infinities included: the caller's mistake
        texts_with_surrogates,  # JSON escapes lone surrogates; a URL query can't
        st.binary(max_size=4),
        st.builds(_Opaque),
        st.sets(st.integers(), max_size=2),
    ),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)


valid_values = json_values(max_depth=3, with_bytes=True, surrogates=True)
packet_data = st.one_of(
    local_values,
    valid_values,
    st.lists(valid_values, max_size=3),
    st.builds(lambda name, args: [name, *args], event_names, st.lists(valid_values, max_size=3)),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


@given(
    st.sampled_from(list(PacketType)),
    st.text(alphabet=st.characters(exclude_categories=NO_SURROGATES), max_size=8)
    | st.sampled_from(["/", "/admin", "admin", "/a,b", "", "/a?b=1"]),
    packet_data,
    st.none() | st.integers(-3, 10**20) | st.booleans(),
    st.sampled_from([4, 5]),
)
@example(PacketType.ACK, "/?", [], 0, 4)  # found by make fuzz-long: written, then unreadable
def test_encode_gives_utf8_messages_or_local_protocol_error(
    ptype: PacketType, namespace: str, data: Any, ack_id: Any, protocol: int
) -> None:
    # Whatever the server asks to send, encode writes valid UTF-8 wire text its peer reads
    # back, or refuses with LocalProtocolError (the caller's fault), and nothing else.
    packet = Packet(ptype, namespace, data, ack_id)
    try:
        messages = encode(packet, protocol=protocol)
    except LocalProtocolError:
        return
    header, *attachments = messages
    assert isinstance(header, str)
    header.encode("utf-8")  # the wire is UTF-8: lone surrogates must have been escaped
    assert all(isinstance(a, bytes) for a in attachments)
    if len(namespace) > Limits().max_namespace_length or (
        isinstance(ack_id, int) and len(str(ack_id)) > Limits().max_ack_id_digits
    ):
        return  # beyond what a peer may send us; the encoder need not refuse it
    decoded = decode_messages(messages, protocol)
    assert decoded.namespace == namespace
    assert decoded.id == ack_id
