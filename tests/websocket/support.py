"""Client frames built byte by byte (so that tests can build wrong ones too), and the
reference: wsproto's own server connection fed the same bytes."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

from thinkio.websocket import WebSocketClosed, unmask


def encode(
    opcode: int,
    payload: bytes,
    *,
    key: bytes | None = b"\x01\x02\x03\x04",
    fin: bool = True,
    rsv: int = 0,
) -> bytes:
    """One frame, masked with ``key`` (None: unmasked), minimal length encoding."""
    head = (0x80 if fin else 0) | (rsv << 4) | opcode
    bit = 0x80 if key is not None else 0
    n = len(payload)
    if n < 126:
        header = bytes((head, bit | n))
    elif n < 0x10000:
        header = struct.pack("!BBH", head, bit | 126, n)
    else:
        header = struct.pack("!BBQ", head, bit | 127, n)
    if key is None:
        return header + payload
    return header + key + unmask(key, payload)


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


@dataclass
class Outcome:
    """What a server made of a byte stream: whole messages, ping payloads, the close code."""

    messages: list[str | bytes]
    pings: list[bytes]
    close: tuple[int, str] | None


def reference(data: bytes) -> Outcome:
    """wsproto's server connection, used alone, on ``data``."""
    ws = Connection(ConnectionType.SERVER)
    ws.receive_data(data)
    messages: list[str | bytes] = []
    pings: list[bytes] = []
    parts: list[str | bytes] = []
    for event in ws.events():
        if isinstance(event, TextMessage | BytesMessage):
            parts.append(event.data)
            if event.message_finished:
                messages.append("".join(parts) if isinstance(parts[0], str) else b"".join(parts))  # type: ignore[arg-type]
                parts = []
        elif isinstance(event, Ping):
            pings.append(bytes(event.payload))
        elif isinstance(event, CloseConnection):
            return Outcome(messages, pings, (event.code, event.reason or ""))
    return Outcome(messages, pings, None)


def pong_payloads(data: bytes) -> tuple[list[bytes], list[int]]:
    """The pongs and close codes in what the server wrote (unmasked server frames)."""
    pongs: list[bytes] = []
    closes: list[int] = []
    pos = 0
    while pos < len(data):
        b0, b1 = data[pos], data[pos + 1]
        assert not b1 & 0x80, "a server frame is never masked"
        n, head = b1 & 0x7F, 2
        if n == 126:
            n, head = struct.unpack("!H", data[pos + 2 : pos + 4])[0], 4
        elif n == 127:
            n, head = struct.unpack("!Q", data[pos + 2 : pos + 10])[0], 10
        payload = data[pos + head : pos + head + n]
        if b0 & 0x0F == 0xA:
            pongs.append(payload)
        elif b0 & 0x0F == 0x8:
            closes.append(struct.unpack("!H", payload[:2])[0] if payload else 1005)
        pos += head + n
    return pongs, closes


def outcome_of(items: list[str | bytes | WebSocketClosed], written: bytes) -> Outcome:
    messages = [m for m in items if not isinstance(m, WebSocketClosed)]
    ends = [m for m in items if isinstance(m, WebSocketClosed)]
    assert len(ends) <= 1 and (not ends or items[-1] is ends[0]), items
    pongs, _ = pong_payloads(written)
    return Outcome(messages, pongs, (ends[0].code, ends[0].reason) if ends else None)
