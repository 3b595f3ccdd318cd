"""Sans-IO Engine.IO v4 (and v3) server protocol: bytes and ``now`` in, events and bytes out.

Nothing here does I/O or reads a clock; :mod:`thinkio.server` drives it.
"""

from ._state import SessionState
from .client import ClientHandshake, ClientReason, ClientSession, ClientState, Opened
from .events import EngineEvent, MessageReceived, SessionClosed, UpgradeAborted, Upgraded
from .handshake import EngineRequest, ExistingSession, NewSession, route_request
from .options import EngineOptions
from .packets import (
    EnginePacket,
    EnginePacketType,
    decode_text,
    decode_ws,
    encode_text,
    encode_ws,
    message_packets,
    uncompressed,
)
from .payload import decode_payload, decode_payload_v3, encode_payload, encode_payload_v3
from .session import Reason, Session

__all__ = (
    "ClientHandshake",
    "ClientReason",
    "ClientSession",
    "ClientState",
    "EngineEvent",
    "EngineOptions",
    "EnginePacket",
    "EnginePacketType",
    "EngineRequest",
    "ExistingSession",
    "MessageReceived",
    "NewSession",
    "Opened",
    "Reason",
    "Session",
    "SessionClosed",
    "SessionState",
    "UpgradeAborted",
    "Upgraded",
    "decode_payload",
    "decode_payload_v3",
    "decode_text",
    "decode_ws",
    "encode_payload",
    "encode_payload_v3",
    "encode_text",
    "encode_ws",
    "message_packets",
    "route_request",
    "uncompressed",
)
