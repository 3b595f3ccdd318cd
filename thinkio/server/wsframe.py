"""Server-to-client WebSocket frames, built once and shared (RFC 6455 section 5.2).

Server frames are never masked, so the bytes of a frame do not depend on the connection: a
broadcast frames its packet once and writes the same bytes to every WebSocket recipient.
wsproto still parses everything the client sends and builds the control frames (close,
pong); only data frames take this shortcut. thinkio never negotiates extensions, so no
per-connection state (such as permessage-deflate) can make frames differ.
"""

from __future__ import annotations

import struct

from ..engineio import Packet, encode_ws

__all__ = ("data_frame", "packet_frame")

_OP_TEXT = 0x81  # FIN + text
_OP_BINARY = 0x82  # FIN + binary


def data_frame(message: str | bytes) -> bytes:
    """One unfragmented, unmasked data frame carrying ``message``."""
    if isinstance(message, str):
        payload, head = message.encode(), _OP_TEXT
    else:
        payload, head = message, _OP_BINARY
    n = len(payload)
    if n < 126:
        header = bytes((head, n))
    elif n < 0x10000:
        header = struct.pack("!BBH", head, 126, n)
    else:
        header = struct.pack("!BBQ", head, 127, n)
    return header + payload


def packet_frame(packet: Packet, protocol: int) -> bytes:
    """The frame of an Engine.IO packet, cached on the packet (for its v4 encoding)."""
    if protocol < 4 and packet.binary:
        return data_frame(encode_ws(packet, protocol=protocol))
    frame = packet.frame
    if frame is None:
        frame = packet.frame = data_frame(encode_ws(packet))
    assert isinstance(frame, bytes)
    return frame
