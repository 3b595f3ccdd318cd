"""A sans-IO client counterpart that drives a server :class:`Session` in tests.

It speaks to the session the way a real client's transport would (GET/POST bodies, WebSocket
messages) with a fake clock, so no socket is opened and nothing sleeps.
"""

from __future__ import annotations

import json
from typing import Any

from thinkio.engineio import (
    EngineOptions,
    EnginePacket,
    EnginePacketType,
    Session,
    decode_payload,
    decode_payload_v3,
    encode_payload,
    encode_payload_v3,
    encode_ws,
)
from thinkio.engineio.events import EngineEvent

FAST = EngineOptions(ping_interval=0.3, ping_timeout=0.2, upgrade_timeout=1.0, close_timeout=2.0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class PollingClient:
    """The client side of a polling session."""

    def __init__(self, options: EngineOptions = FAST, *, protocol: int = 4, b64: bool = False):
        self.clock = Clock()
        self.session = Session(
            "sid1", "polling", options=options, now=self.clock.now, protocol=protocol, b64=b64
        )
        self.protocol = protocol

    def get(self) -> list[EnginePacket] | None:
        """Start a GET and return what it receives now, or None if it must wait."""
        self.session.begin_get(self.clock.now)
        return self.poll()

    def poll(self) -> list[EnginePacket] | None:
        """What the pending GET receives now, or None if it still waits."""
        result = self.session.take_poll_response(self.clock.now)
        if result is None:
            return None
        body, ctype = result
        if self.protocol >= 4:
            return decode_payload(body.decode(), max_packets=10_000)
        return decode_payload_v3(body, binary=ctype.startswith("application/"), max_packets=10_000)

    def post(self, *packets: EnginePacket) -> None:
        if self.protocol >= 4:
            self.post_raw(encode_payload(packets).encode())
        else:
            self.post_raw(encode_payload_v3(packets, b64=True)[0])

    def post_raw(self, body: bytes) -> None:
        self.session.begin_post(self.clock.now)
        self.session.end_post(body, self.clock.now)

    def handshake(self) -> dict[str, Any]:
        packets = self.get()
        assert packets is not None and packets[0].type is EnginePacketType.OPEN
        data: dict[str, Any] = json.loads(packets[0].data)
        return data

    def events(self) -> list[EngineEvent]:
        out = []
        while (event := self.session.next_event()) is not None:
            out.append(event)
        return out

    def probe(self, packet: EnginePacket) -> list[str | bytes]:
        return [
            encode_ws(p, protocol=self.protocol)
            for p in self.session.receive_probe(
                encode_ws(packet, protocol=self.protocol), self.clock.now
            )
        ]


def msg(data: str | bytes) -> EnginePacket:
    return EnginePacket(EnginePacketType.MESSAGE, data)


PING = EnginePacket(EnginePacketType.PING)
PONG = EnginePacket(EnginePacketType.PONG)
NOOP = EnginePacket(EnginePacketType.NOOP)
CLOSE = EnginePacket(EnginePacketType.CLOSE)
