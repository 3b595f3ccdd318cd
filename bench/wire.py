"""The load generator's side of the wire: Engine.IO v4 / Socket.IO v5 packets as bytes.

The generator speaks the protocol itself instead of running a Socket.IO client library, so
that its own cost per message stays a small fraction of the cheapest server's. Everything it
sends is built once, before the measured phase: a Socket.IO packet as text, wrapped in a
masked WebSocket text frame (RFC 6455 §5.2-5.3) that is written to the socket as it is. What
it receives is parsed by picows (a Cython WebSocket client); here it only looks at the first
bytes of each packet. No library builds client frames ahead of time, hence this module.

Packet shapes used (Engine.IO v4 type digit, then Socket.IO v5 type digit on the main
namespace ``/``):

* ``0{...}`` open, ``2`` ping, ``3`` pong, ``1`` close, ``6`` noop (Engine.IO);
* ``40`` connect (``40{"sid":...}`` in reply), ``41`` disconnect, ``44{...}`` connect error;
* ``42["event",...]`` an event, ``42<id>["event",...]`` one that wants an ack, and
  ``43<id>[...]`` the ack.
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ("ACK", "CONNECT", "EVENT", "PONG", "ack_id_of", "event_packet", "masked_frame")

#: One masking key for every frame this process sends. RFC 6455 §10.3 wants keys a script in
#: a browser cannot predict, to protect proxies; on loopback with no proxy and no script the
#: key only has to be present, and a fixed one lets frames be built once.
_MASK = os.urandom(4)

EVENT = b"42"
ACK = b"43"


def masked_frame(packet: bytes | str) -> bytes:
    """One client text frame (FIN set, opcode 1) carrying ``packet``, masked."""
    data = packet.encode() if isinstance(packet, str) else packet
    n = len(data)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x81, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0x80 | 127)) + n.to_bytes(8, "big")
    key = (_MASK * (n // 4 + 1))[:n]
    body = (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")
    return head + _MASK + body


def event_packet(event: str, *args: Any, ack_id: int | None = None) -> bytes:
    """``42[<ack id>]["event",...args]`` as compact JSON (what every client sends)."""
    body = json.dumps([event, *args], separators=(",", ":"))
    return EVENT + (str(ack_id).encode() if ack_id is not None else b"") + body.encode()


def ack_id_of(packet: bytes) -> int | None:
    """The ack id of a ``43<id>[...]`` packet, or None when it is something else."""
    if not packet.startswith(ACK):
        return None
    end = packet.find(b"[", 2)
    digits = packet[2:end] if end > 2 else b""
    return int(digits) if digits.isdigit() else None


#: The frames every connection needs: Socket.IO CONNECT to ``/`` and the Engine.IO pong.
CONNECT = masked_frame(b"40")
PONG = masked_frame(b"3")
