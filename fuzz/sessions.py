"""Helpers to drive an Engine.IO :class:`~thinkio.engineio.Session` from the client's side."""

from __future__ import annotations

from thinkio.engineio import (
    EngineOptions,
    EnginePacket,
    Session,
    decode_payload,
    decode_payload_v3,
    encode_payload,
    encode_payload_v3,
    encode_text,
)
from thinkio.engineio.events import EngineEvent
from thinkio.engineio.payload import BINARY_CONTENT_TYPE
from thinkio.limits import Limits

__all__ = ("FAST", "decode_response", "drain", "new_session", "options_with", "post_body")

#: The suites' timings (PROTOCOL.md 5.2), with v3 allowed.
FAST = EngineOptions(
    ping_interval=0.3, ping_timeout=0.2, upgrade_timeout=1.0, close_timeout=2.0, allow_eio3=True
)


def options_with(limits: Limits) -> EngineOptions:
    return EngineOptions(
        ping_interval=FAST.ping_interval,
        ping_timeout=FAST.ping_timeout,
        upgrade_timeout=FAST.upgrade_timeout,
        close_timeout=FAST.close_timeout,
        allow_eio3=True,
        limits=limits,
    )


def new_session(
    transport: str = "polling",
    *,
    protocol: int = 4,
    b64: bool = False,
    now: float = 1000.0,
    options: EngineOptions = FAST,
) -> Session:
    return Session("sid", transport, options=options, now=now, protocol=protocol, b64=b64)


def drain(session: Session) -> list[EngineEvent]:
    """Every event the session has queued."""
    events = []
    while (event := session.next_event()) is not None:
        events.append(event)
    return events


def decode_response(body: bytes, content_type: str, protocol: int) -> list[EnginePacket]:
    """Decode a GET response the way the client would."""
    if protocol >= 4:
        return decode_payload(body.decode("utf-8"), max_packets=1_000_000)
    binary = content_type == BINARY_CONTENT_TYPE
    return decode_payload_v3(body, binary=binary, max_packets=1_000_000)


def post_body(packets: list[EnginePacket], protocol: int, binary: bool) -> bytes:
    """The body a client POSTs: v4 text, v3 base64 text, or v3 octet-stream framing."""
    if protocol >= 4:
        return encode_payload(packets).encode("utf-8")
    if not binary:
        return encode_payload_v3(packets, b64=True)[0]
    out = b""
    for p in packets:  # one packet at a time, so text packets get the binary framing too
        if p.binary:
            out += encode_payload_v3([p], b64=False)[0]
        else:
            raw = encode_text(p, protocol=3).encode()
            out += b"\x00" + bytes(int(d) for d in str(len(raw))) + b"\xff" + raw
    return out
