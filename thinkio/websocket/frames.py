"""WebSocket frames built directly (RFC 6455 section 5.2), and the XOR mask.

Server frames are never masked, so the bytes of a frame do not depend on the connection: a
broadcast frames its packet once and writes the same bytes to every recipient. Client frames
are masked with a fresh key each. Parsing is :mod:`.connection`'s job.
"""

from __future__ import annotations

import os
import struct

__all__ = (
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "close_frame",
    "data_frame",
    "frame",
    "unmask",
)

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


def unmask(key: bytes, payload: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (masking and unmasking alike).

    One big-integer XOR instead of a byte loop: linear, and in C.
    """
    n = len(payload)
    if not n:
        return b""
    repeated = key * ((n + 3) // 4)
    if len(repeated) != n:
        repeated = repeated[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        n, "little"
    )


def frame(opcode: int, payload: bytes, *, mask: bool = False, fin: bool = True) -> bytes:
    """One frame (``mask``: a client's, with a fresh random key)."""
    head = (0x80 if fin else 0) | opcode
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        header = bytes((head, bit | n))
    elif n < 0x10000:
        header = struct.pack("!BBH", head, bit | 126, n)
    else:
        header = struct.pack("!BBQ", head, bit | 127, n)
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + unmask(key, payload)


def data_frame(message: str | bytes, *, mask: bool = False) -> bytes:
    """An unfragmented text (``str``) or binary (``bytes``) frame."""
    if isinstance(message, str):
        return frame(OP_TEXT, message.encode(), mask=mask)
    return frame(OP_BINARY, message, mask=mask)


def close_frame(code: int | None = 1000, reason: str = "", *, mask: bool = False) -> bytes:
    """A close frame; ``code`` None sends one without a status (RFC 6455 section 5.5.1)."""
    if code is None:
        return frame(OP_CLOSE, b"", mask=mask)
    data = reason.encode()[:123].decode("utf-8", "ignore").encode()  # whole characters only
    return frame(OP_CLOSE, struct.pack("!H", code) + data, mask=mask)
