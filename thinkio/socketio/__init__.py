"""The sans-IO Socket.IO v5 core (PROTOCOL.md 2), with protocol 4 for socket.io 2.x clients.

No I/O, no clock: time comes in as ``now`` (seconds). Modules:

* :mod:`.packets` -- packet encoding, binary attachments and the strict decoder.
"""

from __future__ import annotations

from .packets import RESERVED_EVENTS, Decoder, Packet, PacketType, encode

__all__ = (
    "RESERVED_EVENTS",
    "Decoder",
    "Packet",
    "PacketType",
    "encode",
)
