"""Long-polling payloads: several packets in one HTTP body (PROTOCOL.md 1.2 and 4).

* v4: packets in their text form joined by the record separator ``\\x1e``; always text.
* v3 text: ``<len>:<packet>`` repeated, ``len`` counted in UTF-16 code units (JavaScript string
  length). Binary packets appear as ``b4<base64>``.
* v3 binary (clients that can take binary and did not ask for ``b64=1``): each packet framed as
  ``<0 text | 1 binary> <one byte per decimal digit of the length> 0xFF <bytes>``; the body is
  ``application/octet-stream``. Text is UTF-8 and its length counts bytes; a binary packet
  starts with its type byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import LocalProtocolError, RemoteProtocolError
from .packets import EnginePacket, EnginePacketType, decode_text, encode_text

__all__ = (
    "BINARY_CONTENT_TYPE",
    "SEPARATOR",
    "TEXT_CONTENT_TYPE",
    "decode_payload",
    "decode_payload_v3",
    "encode_payload",
    "encode_payload_v3",
)

SEPARATOR = "\x1e"
TEXT_CONTENT_TYPE = "text/plain; charset=UTF-8"
BINARY_CONTENT_TYPE = "application/octet-stream"


def encode_payload(packets: Sequence[EnginePacket]) -> str:
    """Encode packets as a v4 polling payload.

    Raises:
        LocalProtocolError: a text packet holds the separator ``\\x1e`` and would be split
            (:meth:`Session.send` refuses such packets before they are queued).
    """
    # One packet is the usual poll: a list display costs less than a comprehension.
    texts = [encode_text(packets[0])] if len(packets) == 1 else [encode_text(p) for p in packets]
    for text in texts:
        if SEPARATOR in text:
            raise LocalProtocolError("a v4 polling text packet cannot contain \\x1e")
    return SEPARATOR.join(texts)


def decode_payload(body: str, *, max_packets: int) -> list[EnginePacket]:
    """Decode a v4 polling payload.

    Raises:
        RemoteProtocolError: a packet is empty or invalid, or there are more than
            ``max_packets``. Decoding stops at the first bad packet, as in Node.
    """
    if body.count(SEPARATOR) >= max_packets:
        raise RemoteProtocolError(f"payload holds more than {max_packets} packets")
    return [decode_text(chunk) for chunk in body.split(SEPARATOR)]


# -- v3 --------------------------------------------------------------------------------------


def _js_length(text: str) -> int:
    """JavaScript ``String.length``: astral characters count twice."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def encode_payload_v3(packets: Iterable[EnginePacket], *, b64: bool) -> tuple[bytes, str]:
    """Encode packets as a v3 polling payload.

    Returns:
        The body and its content type: text when ``b64`` is set or no packet is binary,
        otherwise the binary framing.
    """
    items = list(packets)
    if b64 or not any(p.binary for p in items):
        parts = []
        for p in items:
            text = encode_text(p, protocol=3)
            parts.append(f"{_js_length(text)}:{text}")
        return "".join(parts).encode(), TEXT_CONTENT_TYPE
    out = bytearray()
    for p in items:
        if isinstance(p.data, bytes):
            raw = b"\x04" + p.data
            out.append(1)
        else:
            raw = encode_text(p, protocol=3).encode()
            out.append(0)
        out += bytes(int(d) for d in str(len(raw)))
        out.append(0xFF)
        out += raw
    return bytes(out), BINARY_CONTENT_TYPE


def decode_payload_v3(body: bytes, *, binary: bool, max_packets: int) -> list[EnginePacket]:
    """Decode a v3 polling payload.

    Args:
        body: the raw request body.
        binary: the request was ``application/octet-stream`` (binary framing).
        max_packets: the most packets accepted.

    Raises:
        RemoteProtocolError: bad framing, a bad length, invalid UTF-8 or an invalid packet.
    """
    if binary:
        return _decode_binary_v3(body, max_packets)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError("payload is not valid UTF-8") from None
    packets: list[EnginePacket] = []
    pos, end = 0, len(text)
    if end == 0:
        raise RemoteProtocolError("empty payload")
    while pos < end:
        colon = text.find(":", pos)
        digits = text[pos:colon]
        if colon < 0 or not digits.isdigit() or not digits.isascii() or len(digits) > 9:
            raise RemoteProtocolError("invalid v3 payload length")
        length = int(digits)
        start = colon + 1
        stop = _advance_js(text, start, length)
        if stop < 0 or length == 0:
            raise RemoteProtocolError("v3 payload length does not match its data")
        packets.append(decode_text(text[start:stop], protocol=3))
        if len(packets) > max_packets:
            raise RemoteProtocolError(f"payload holds more than {max_packets} packets")
        pos = stop
    return packets


def _advance_js(text: str, start: int, units: int) -> int:
    """Index reached after ``units`` UTF-16 code units from ``start``, or -1 if it overruns."""
    stop = start + units
    chunk = text[start:stop]
    if len(chunk) == units and (chunk.isascii() or all(ord(ch) <= 0xFFFF for ch in chunk)):
        return stop
    pos, left = start, units
    while left > 0:
        if pos >= len(text):
            return -1
        left -= 2 if ord(text[pos]) > 0xFFFF else 1
        pos += 1
    return pos if left == 0 else -1


def _decode_binary_v3(body: bytes, max_packets: int) -> list[EnginePacket]:
    packets: list[EnginePacket] = []
    pos, end = 0, len(body)
    if end == 0:
        raise RemoteProtocolError("empty payload")
    while pos < end:
        kind = body[pos]
        if kind not in (0, 1):
            raise RemoteProtocolError("invalid v3 binary payload marker")
        pos += 1
        length = 0
        ndigits = 0
        while pos < end and body[pos] != 0xFF:
            digit = body[pos]
            if digit > 9 or ndigits >= 9:
                raise RemoteProtocolError("invalid v3 binary payload length")
            length = length * 10 + digit
            ndigits += 1
            pos += 1
        if pos >= end or ndigits == 0 or length == 0 or pos + 1 + length > end:
            raise RemoteProtocolError("truncated v3 binary payload")
        raw = body[pos + 1 : pos + 1 + length]
        pos += 1 + length
        if kind == 1:
            if raw[0] != EnginePacketType.MESSAGE:
                raise RemoteProtocolError("v3 binary packet that is not a message")
            packets.append(EnginePacket(EnginePacketType.MESSAGE, raw[1:]))
        else:
            try:
                packets.append(decode_text(raw.decode("utf-8"), protocol=3))
            except UnicodeDecodeError:
                raise RemoteProtocolError("payload is not valid UTF-8") from None
        if len(packets) > max_packets:
            raise RemoteProtocolError(f"payload holds more than {max_packets} packets")
    return packets
