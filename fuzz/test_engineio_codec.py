"""Engine.IO packets and polling payloads: round trips, garbage, whole vs pieces.

PROTOCOL.md 1.2 (v4 packets and payloads) and 4 (v3 length-prefixed and binary payloads,
v3 WebSocket binary frames).
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from thinkio.engineio import (
    EnginePacket,
    EnginePacketType,
    decode_payload,
    decode_payload_v3,
    decode_text,
    decode_ws,
    encode_payload,
    encode_payload_v3,
    encode_text,
    encode_ws,
)
from thinkio.engineio.payload import BINARY_CONTENT_TYPE, SEPARATOR, TEXT_CONTENT_TYPE
from thinkio.errors import RemoteProtocolError

from .strategies import (
    eio_packets,
    eio_text_packets,
    garbage_bytes,
    garbage_text,
)

protocols = st.sampled_from([3, 4])
#: Packets that fit a v4 payload: the record separator cannot appear inside a text packet
#: (see test_regressions for what the encoder does with one).
v4_payload_packets = st.lists(eio_packets(exclude=SEPARATOR), min_size=1, max_size=8)
v3_payload_packets = st.lists(eio_packets(), min_size=1, max_size=8)

#: Valid single-packet wire forms of both revisions, the seeds of the mutations.
packet_wires = st.builds(lambda p, proto: encode_text(p, protocol=proto), eio_packets(), protocols)
v4_payload_wires = v4_payload_packets.map(encode_payload)
v3_payload_bodies = st.builds(
    lambda ps, b64: encode_payload_v3(ps, b64=b64)[0], v3_payload_packets, st.booleans()
)


def _decode_v3(body: bytes, content_type: str, max_packets: int = 10_000) -> list[EnginePacket]:
    binary = content_type == BINARY_CONTENT_TYPE
    return decode_payload_v3(body, binary=binary, max_packets=max_packets)


# ------------------------------------------------------------------------------ round trips


@given(eio_packets(), protocols)
def test_text_packet_round_trips(packet: EnginePacket, protocol: int) -> None:
    wire = encode_text(packet, protocol=protocol)
    assert decode_text(wire, protocol=protocol) == packet


@given(eio_packets(), protocols)
def test_websocket_frame_round_trips(packet: EnginePacket, protocol: int) -> None:
    frame = encode_ws(packet, protocol=protocol)
    assert isinstance(frame, bytes) == packet.binary
    decoded = decode_ws(frame, protocol=protocol)
    assert decoded == packet
    assert decoded.binary == packet.binary


@given(v4_payload_packets)
def test_v4_payload_round_trips(packets: list[EnginePacket]) -> None:
    body = encode_payload(packets)
    assert decode_payload(body, max_packets=len(packets)) == packets


@given(v3_payload_packets, st.booleans())
def test_v3_payload_round_trips_in_both_framings(packets: list[EnginePacket], b64: bool) -> None:
    body, content_type = encode_payload_v3(packets, b64=b64)
    any_binary = any(p.binary for p in packets)
    expected_type = BINARY_CONTENT_TYPE if any_binary and not b64 else TEXT_CONTENT_TYPE
    assert content_type == expected_type
    assert _decode_v3(body, content_type, max_packets=len(packets)) == packets


@given(st.lists(eio_text_packets(), min_size=1, max_size=6))
def test_v3_text_payload_length_counts_utf16_units(packets: list[EnginePacket]) -> None:
    # The length prefix is JavaScript's String.length (PROTOCOL.md 4): astral characters
    # count twice. Recompute it independently from the UTF-16 encoding.
    body, _ = encode_payload_v3(packets, b64=True)
    expected = "".join(
        f"{len(encode_text(p, protocol=3).encode('utf-16-le')) // 2}:{encode_text(p, protocol=3)}"
        for p in packets
    )
    assert body.decode("utf-8") == expected


@given(st.binary(max_size=64))
def test_v4_binary_packet_is_b_plus_standard_base64(data: bytes) -> None:
    packet = EnginePacket(EnginePacketType.MESSAGE, data)
    assert encode_text(packet) == "b" + base64.b64encode(data).decode()
    assert encode_text(packet, protocol=3) == "b4" + base64.b64encode(data).decode()


# ----------------------------------------------------------------------- limits are exact


@given(v4_payload_packets, st.integers(1, 10))
def test_v4_payload_packet_limit_is_exact(packets: list[EnginePacket], max_packets: int) -> None:
    body = encode_payload(packets)
    if len(packets) <= max_packets:
        assert decode_payload(body, max_packets=max_packets) == packets
    else:
        with pytest.raises(RemoteProtocolError):
            decode_payload(body, max_packets=max_packets)


@given(v3_payload_packets, st.booleans(), st.integers(1, 10))
def test_v3_payload_packet_limit_is_exact(
    packets: list[EnginePacket], b64: bool, max_packets: int
) -> None:
    body, content_type = encode_payload_v3(packets, b64=b64)
    if len(packets) <= max_packets:
        assert _decode_v3(body, content_type, max_packets) == packets
    else:
        with pytest.raises(RemoteProtocolError):
            _decode_v3(body, content_type, max_packets)


# ------------------------------------------------------------------------- whole vs pieces


@given(v4_payload_packets)
def test_v4_payload_whole_equals_packets_one_by_one(packets: list[EnginePacket]) -> None:
    chunks = [encode_text(p) for p in packets]
    whole = decode_payload(SEPARATOR.join(chunks), max_packets=100)
    assert whole == [decode_text(c) for c in chunks]


@given(garbage_text(v4_payload_wires))
@example("4a\x1e")
@example("\x1e")
@example("b===")
def test_v4_payload_of_anything_is_its_pieces_or_an_error(body: str) -> None:
    # Decoding a body whole gives exactly the packets of its separator-delimited pieces, and
    # fails exactly when one piece fails (Node stops at the first bad packet; so do we).
    pieces: list[EnginePacket] | None
    try:
        pieces = [decode_text(chunk) for chunk in body.split(SEPARATOR)]
    except RemoteProtocolError:
        pieces = None
    try:
        whole: list[EnginePacket] | None = decode_payload(body, max_packets=10_000)
    except RemoteProtocolError:
        whole = None
    assert whole == pieces


@given(st.lists(v3_payload_packets, min_size=1, max_size=4), st.booleans())
def test_v3_payloads_concatenate(groups: list[list[EnginePacket]], binary: bool) -> None:
    # The v3 framings are self-delimiting: the concatenation of payloads decodes to the
    # concatenation of their packets, and one payload of all packets is the same bytes.
    all_packets = [p for group in groups for p in group]
    if binary:
        bodies = [_binary_v3(group) for group in groups]
        whole = _binary_v3(all_packets)
    else:
        bodies = [encode_payload_v3(group, b64=True)[0] for group in groups]
        whole = encode_payload_v3(all_packets, b64=True)[0]
    assert b"".join(bodies) == whole
    decoded = decode_payload_v3(whole, binary=binary, max_packets=100)
    assert decoded == all_packets
    assert decoded == [
        p for body in bodies for p in decode_payload_v3(body, binary=binary, max_packets=100)
    ]


def _binary_v3(packets: list[EnginePacket]) -> bytes:
    # Force the octet-stream framing even for all-text groups: prepend nothing, but encode
    # each packet alone in binary framing when it is text (encode_payload_v3 would pick text).
    out = b""
    for p in packets:
        if p.binary:
            out += encode_payload_v3([p], b64=False)[0]
        else:
            raw = encode_text(p, protocol=3).encode()
            out += b"\x00" + bytes(int(d) for d in str(len(raw))) + b"\xff" + raw
    return out


# ------------------------------------------------------------------ garbage: value or error


@given(garbage_text(packet_wires), protocols)
@example("b4", 3)
@example("b", 3)
@example("b\u0663", 4)
@example("b4\ud800", 3)
def test_decode_text_gives_a_packet_or_remote_protocol_error(text: str, protocol: int) -> None:
    try:
        packet = decode_text(text, protocol=protocol)
    except RemoteProtocolError:
        return
    assert isinstance(packet.type, EnginePacketType)
    # Anything accepted is canonical enough to survive a re-encoding.
    assert decode_text(encode_text(packet, protocol=protocol), protocol=protocol) == packet


@given(
    garbage_text(packet_wires) | garbage_bytes(st.binary(max_size=16)),
    protocols,
)
@example(b"", 3)
@example(b"", 4)
@example("", 4)
def test_decode_ws_gives_a_packet_or_remote_protocol_error(
    message: str | bytes, protocol: int
) -> None:
    try:
        packet = decode_ws(message, protocol=protocol)
    except RemoteProtocolError:
        return
    assert isinstance(packet.type, EnginePacketType)
    assert decode_ws(encode_ws(packet, protocol=protocol), protocol=protocol) == packet


@given(garbage_text(v4_payload_wires), st.integers(1, 20))
def test_decode_payload_gives_packets_or_remote_protocol_error(body: str, max_packets: int) -> None:
    try:
        packets = decode_payload(body, max_packets=max_packets)
    except RemoteProtocolError:
        return
    assert 1 <= len(packets) <= max_packets
    assume(not any(isinstance(p.data, str) and SEPARATOR in p.data for p in packets))
    assert decode_payload(encode_payload(packets), max_packets=max_packets) == packets


@given(garbage_bytes(v3_payload_bodies), st.booleans(), st.integers(1, 20))
@example(b"1:", False, 5)
@example(b"0:", False, 5)
@example(b"2:\xf0\x9f\x98\x80", False, 5)
@example(b"\x01\x00\xff", True, 5)
@example(b"\x01\x01\xff\x04", True, 5)
@example(b"\x00\x01\xff", True, 5)
@example(b"\x00" + b"\x09" * 12 + b"\xff", True, 5)
def test_decode_payload_v3_gives_packets_or_remote_protocol_error(
    body: bytes, binary: bool, max_packets: int
) -> None:
    try:
        packets = decode_payload_v3(body, binary=binary, max_packets=max_packets)
    except RemoteProtocolError:
        return
    assert 1 <= len(packets) <= max_packets
    reencoded, content_type = encode_payload_v3(packets, b64=True)
    assert _decode_v3(reencoded, content_type, max_packets) == packets
