"""The msgpack parser (thinkio.socketio.msgpack_parser): every packet the default parser can
write round-trips, and any bytes give a packet or RemoteProtocolError, nothing else."""

from __future__ import annotations

import msgpack
from hypothesis import example, given
from hypothesis import strategies as st

from thinkio.errors import RemoteProtocolError
from thinkio.socketio import MsgpackDecoder, Packet, PacketType
from thinkio.socketio.msgpack_parser import encode_msgpack

from .strategies import garbage_bytes, sio_packets

_PLAIN = {PacketType.BINARY_EVENT: PacketType.EVENT, PacketType.BINARY_ACK: PacketType.ACK}


@given(sio_packets(5, True) | sio_packets(5))
def test_packet_round_trips(packet: Packet) -> None:
    (message,) = encode_msgpack(packet)
    assert isinstance(message, bytes)
    decoded = MsgpackDecoder().feed(message)
    ptype = _PLAIN.get(packet.type, packet.type)
    data = list(packet.data) if isinstance(packet.data, tuple) else packet.data
    assert decoded == Packet(ptype, packet.namespace, data, packet.id)


_FIELD_VALUES = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=8)
)


#: Maps with the packet's keys and values of every kind: mostly wrong, sometimes valid.
_MAPS = st.dictionaries(
    st.sampled_from(["type", "nsp", "data", "id", "options"]),
    _FIELD_VALUES | st.lists(_FIELD_VALUES, max_size=3),
).map(lambda m: bytes(msgpack.packb(m)))


@given(garbage_bytes(_MAPS))
@example(b"\x81\xa4type\x90")  # {"type": []}: was a TypeError (unhashable)
def test_decoder_gives_packets_or_remote_protocol_error(message: bytes) -> None:
    try:
        packet = MsgpackDecoder().feed(message)
    except RemoteProtocolError:
        return
    assert isinstance(packet, Packet) and packet.type <= PacketType.CONNECT_ERROR
