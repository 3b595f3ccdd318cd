"""The sans-IO Socket.IO v5 core (PROTOCOL.md 2), with protocol 4 for socket.io 2.x clients.

No I/O, no clock: time comes in as ``now`` (seconds). Modules:

* :mod:`.packets` -- packet encoding and the strict decoder; :mod:`._binary` -- attachments.
* :mod:`.msgpack_parser` -- the same packets as MessagePack maps; :mod:`.parsers` -- the
  choice between the two.
* :mod:`.connection` -- one Engine.IO session's namespaces (h11-style ``Connection``),
  with its state table in :mod:`._state` and its events in :mod:`.events`.
* :mod:`.acks` -- pending ack ids with deadlines.
* :mod:`.rooms` -- the room index of one namespace.
"""

from __future__ import annotations

from ._state import NamespaceState
from .acks import AckRegistry
from .connection import INVALID_NAMESPACE, Connection
from .events import AckReceived, ConnectRequest, Event, EventReceived, NamespaceDisconnected
from .msgpack_parser import MsgpackDecoder
from .packets import RESERVED_EVENTS, Decoder, Packet, PacketType, encode
from .parsers import DEFAULT_PARSER, MSGPACK_PARSER, Parser, parser_named
from .rooms import RoomIndex

__all__ = (
    "DEFAULT_PARSER",
    "INVALID_NAMESPACE",
    "MSGPACK_PARSER",
    "RESERVED_EVENTS",
    "AckReceived",
    "AckRegistry",
    "ConnectRequest",
    "Connection",
    "Decoder",
    "Event",
    "EventReceived",
    "MsgpackDecoder",
    "NamespaceDisconnected",
    "NamespaceState",
    "Packet",
    "PacketType",
    "Parser",
    "RoomIndex",
    "encode",
    "parser_named",
)
