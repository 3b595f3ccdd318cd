"""Engine.IO packet and payload codecs against the golden vectors, both directions."""

from __future__ import annotations

import pytest

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
from thinkio.errors import LocalProtocolError, RemoteProtocolError

from .vectors import (
    BAD_PAYLOADS_V3_TEXT,
    BAD_PAYLOADS_V4,
    PACKETS_V4,
    PAYLOADS_V3_BINARY,
    PAYLOADS_V3_TEXT,
    PAYLOADS_V4,
    WS_FRAMES,
)


@pytest.mark.parametrize(("wire", "packet"), PACKETS_V4)
def test_packet_encode(wire: str, packet: EnginePacket) -> None:
    assert encode_text(packet) == wire


@pytest.mark.parametrize(("wire", "packet"), PACKETS_V4)
def test_packet_decode(wire: str, packet: EnginePacket) -> None:
    assert decode_text(wire) == packet


@pytest.mark.parametrize(("wire", "packets"), PAYLOADS_V4)
def test_payload_encode(wire: str, packets: list[EnginePacket]) -> None:
    assert encode_payload(packets) == wire


@pytest.mark.parametrize(("wire", "packets"), PAYLOADS_V4)
def test_payload_decode(wire: str, packets: list[EnginePacket]) -> None:
    assert decode_payload(wire, max_packets=100) == packets


@pytest.mark.parametrize(("wire", "packet", "protocol"), WS_FRAMES)
def test_ws_encode(wire: str | bytes, packet: EnginePacket, protocol: int) -> None:
    assert encode_ws(packet, protocol=protocol) == wire


@pytest.mark.parametrize(("wire", "packet", "protocol"), WS_FRAMES)
def test_ws_decode(wire: str | bytes, packet: EnginePacket, protocol: int) -> None:
    assert decode_ws(wire, protocol=protocol) == packet


@pytest.mark.parametrize(("wire", "packets"), PAYLOADS_V3_TEXT)
def test_v3_text_payload_both_ways(wire: str, packets: list[EnginePacket]) -> None:
    assert encode_payload_v3(packets, b64=True) == (wire.encode(), "text/plain; charset=UTF-8")
    assert decode_payload_v3(wire.encode(), binary=False, max_packets=100) == packets


@pytest.mark.parametrize(("wire", "packets"), PAYLOADS_V3_BINARY)
def test_v3_binary_payload_both_ways(wire: bytes, packets: list[EnginePacket]) -> None:
    assert encode_payload_v3(packets, b64=False) == (wire, "application/octet-stream")
    assert decode_payload_v3(wire, binary=True, max_packets=100) == packets


def test_v3_text_only_payload_stays_text_without_b64() -> None:
    body, ctype = encode_payload_v3([EnginePacket(EnginePacketType.MESSAGE, "0")], b64=False)
    assert (body, ctype) == (b"2:40", "text/plain; charset=UTF-8")


@pytest.mark.parametrize("body", BAD_PAYLOADS_V4)
def test_bad_v4_payloads_are_refused(body: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_payload(body, max_packets=100)


@pytest.mark.parametrize("body", BAD_PAYLOADS_V3_TEXT)
def test_bad_v3_payloads_are_refused(body: str) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_payload_v3(body.encode(), binary=False, max_packets=100)


@pytest.mark.parametrize(
    "body",
    [b"", b"\x02\x01\xff4", b"\x00\xff", b"\x00\x09\xff4", b"\x01\x01\xff\x03", b"\x00\x0a\xff"],
)
def test_bad_v3_binary_payloads_are_refused(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_payload_v3(body, binary=True, max_packets=100)


def test_packet_count_is_bounded() -> None:
    with pytest.raises(RemoteProtocolError, match="more than 3 packets"):
        decode_payload("6\x1e6\x1e6\x1e6", max_packets=3)
    assert len(decode_payload("6\x1e6\x1e6", max_packets=3)) == 3


def test_base64_in_a_websocket_text_frame_is_refused() -> None:
    with pytest.raises(RemoteProtocolError):
        decode_ws("bAQID")


def test_only_messages_carry_binary() -> None:
    with pytest.raises(LocalProtocolError):
        EnginePacket(EnginePacketType.PING, b"x")
