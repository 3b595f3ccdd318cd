"""Engine.IO packets and their single-packet encodings (PROTOCOL.md 1.2, 4).

A packet is a type digit plus data. Text data travels as ``<digit><data>``; binary data is
always a ``message`` and its encoding depends on the transport and protocol revision:

========================  =================================  ==================================
where                     v4 (EIO=4)                          v3 (EIO=3)
========================  =================================  ==================================
WebSocket binary frame    raw bytes                           type byte + raw bytes
polling, as text          ``b`` + base64                      ``b4`` + base64 (type after ``b``)
========================  =================================  ==================================

The polling *payload* framing (several packets per body) lives in :mod:`.payload`.
"""

from __future__ import annotations

import base64
import binascii
from enum import IntEnum
from typing import Final

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = (
    "EnginePacket",
    "EnginePacketType",
    "decode_text",
    "decode_ws",
    "encode_text",
    "encode_ws",
    "message_packets",
    "uncompressed",
)


class EnginePacketType(IntEnum):
    """Engine.IO packet types (PROTOCOL.md 1.2)."""

    OPEN = 0  #: server -> client handshake, JSON payload
    CLOSE = 1  #: either side: the session ends
    PING = 2  #: v4: server -> client; also the client's ``2probe``
    PONG = 3  #: v4: client -> server; also the server's ``3probe``
    MESSAGE = 4  #: application data, text or binary
    UPGRADE = 5  #: client -> server over the new WebSocket: the switch is done
    NOOP = 6  #: server -> client on polling: releases a pending GET


_TYPE_BY_CHAR = {str(t.value): t for t in EnginePacketType}
#: The digit of each type, by its value (``.value`` is a Python-level property of an enum).
_DIGIT = tuple(str(t.value) for t in sorted(EnginePacketType))


class EnginePacket:
    """One Engine.IO packet.

    Immutable by convention (there are no setters). ``frame`` is a slot the I/O layer may use
    to cache this packet's transport encoding, so a broadcast packet shared by many sessions is
    framed once; the core never reads it.

    ``compress`` is Node's ``packet.options.compress``: :func:`uncompressed` sets it to False
    (an emit with ``compress(False)``); it is left unset otherwise, so a packet costs nothing
    more to make. Read it as ``getattr(packet, "compress", True)``, and only where it matters
    (a WebSocket with permessage-deflate).
    """

    __slots__ = ("_separated", "compress", "data", "frame", "type")

    type: EnginePacketType
    data: str | bytes
    frame: object
    compress: bool

    def __init__(self, type: EnginePacketType, data: str | bytes = "") -> None:
        if isinstance(data, bytes):
            if type is not EnginePacketType.MESSAGE:
                raise LocalProtocolError(f"only message packets carry binary data, not {type.name}")
        elif not data.isascii():
            # Every transport sends text as UTF-8: refuse what cannot be (lone surrogates) here,
            # once per packet, rather than fail later when a transport encodes it.
            try:
                data.encode("utf-8")
            except UnicodeEncodeError:
                raise LocalProtocolError(
                    "text packets must be valid Unicode (no lone surrogates)"
                ) from None
        self.type = type
        self.data = data
        self.frame = None
        self._separated: bool | None = None

    def holds_separator(self) -> bool:
        """Whether the text holds ``\\x1e``, which v4 polling payloads cannot carry.

        Computed once and kept: a broadcast packet is checked for every polling recipient.
        """
        if self._separated is None:
            self._separated = isinstance(self.data, str) and "\x1e" in self.data
        return self._separated

    @property
    def binary(self) -> bool:
        """Whether the data is bytes."""
        return isinstance(self.data, bytes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EnginePacket):
            return NotImplemented
        return self.type is other.type and self.data == other.data

    def __hash__(self) -> int:
        return hash((self.type, self.data))

    def __repr__(self) -> str:
        return f"EnginePacket({self.type.name}, {self.data!r})"


_MESSAGE: Final = EnginePacketType.MESSAGE


def message_packets(payloads: list[str | bytes]) -> list[EnginePacket]:
    """Wrap payloads of the layer above (Socket.IO) as message packets, in order.

    A broadcast wraps its payloads once and queues the same packets on every session.
    """
    if len(payloads) == 1:
        return [EnginePacket(_MESSAGE, payloads[0])]  # the usual emit, without a comprehension
    return [EnginePacket(_MESSAGE, p) for p in payloads]


def uncompressed(packets: list[EnginePacket]) -> list[EnginePacket]:
    """Mark packets as never to be compressed (Node's ``compress(false)``); returns them."""
    for packet in packets:
        packet.compress = False
    return packets


def encode_text(packet: EnginePacket, *, protocol: int = 4) -> str:
    """Encode one packet as the text form used inside polling payloads.

    Binary messages become ``b<base64>`` (v4) or ``b4<base64>`` (v3).
    """
    data = packet.data
    if isinstance(data, bytes):
        b64 = base64.b64encode(data).decode("ascii")
        return "b" + b64 if protocol >= 4 else "b4" + b64
    return _DIGIT[packet.type] + data


def decode_text(text: str, *, protocol: int = 4) -> EnginePacket:
    """Decode one packet from its text form (a WebSocket text frame or a polling chunk).

    Raises:
        RemoteProtocolError: the text is empty, starts with an unknown type, or carries
            invalid base64.
    """
    if not text:
        raise RemoteProtocolError("empty packet")
    head = text[0]
    if head == "b":
        if protocol >= 4:
            return EnginePacket(EnginePacketType.MESSAGE, _b64decode(text[1:]))
        # v3: ``b<type digit><base64>``; only messages may carry binary.
        if text[1:2] != "4":
            raise RemoteProtocolError(f"invalid v3 binary packet type {text[1:2]!r}")
        return EnginePacket(EnginePacketType.MESSAGE, _b64decode(text[2:]))
    ptype = _TYPE_BY_CHAR.get(head)
    if ptype is None:
        raise RemoteProtocolError(f"unknown packet type {head!r}")
    try:
        return EnginePacket(ptype, text[1:])
    except LocalProtocolError:
        # Text off the wire is valid UTF-8; a str with lone surrogates is not the peer's text.
        raise RemoteProtocolError("text holding lone surrogates is not a packet") from None


def encode_ws(packet: EnginePacket, *, protocol: int = 4) -> str | bytes:
    """Encode one packet as a WebSocket message: ``str`` for a text frame, ``bytes`` for binary."""
    data = packet.data
    if isinstance(data, bytes):
        return data if protocol >= 4 else b"\x04" + data
    return _DIGIT[packet.type] + data


def decode_ws(message: str | bytes, *, protocol: int = 4) -> EnginePacket:
    """Decode one WebSocket message into a packet.

    Raises:
        RemoteProtocolError: the message is not a valid packet.
    """
    if isinstance(message, str):
        if message[:1] == "b":
            # A text frame never carries the base64 form; only polling does.
            raise RemoteProtocolError("base64 packet in a WebSocket text frame")
        return decode_text(message, protocol=protocol)
    if protocol >= 4:
        return EnginePacket(EnginePacketType.MESSAGE, bytes(message))
    if message[:1] != b"\x04":
        raise RemoteProtocolError("v3 binary frame without the message type byte")
    return EnginePacket(EnginePacketType.MESSAGE, bytes(message[1:]))


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RemoteProtocolError(f"invalid base64 in binary packet: {exc}") from None
