"""Bytes on the wire, built by hand: HTTP/1.1 requests and WebSocket frames, broken ones too.

The fuzzer must send what no well-behaved library will write: a frame whose header lies
about its length, reserved bits set, an unmasked client frame, a request with both
``Content-Length`` and ``Transfer-Encoding``, a chunked body with a bad chunk size. So the
requests and frames are put together here from their parts (RFC 9112 section 3 and 7.1, RFC
6455 section 5.2); the answers are read with ``h11`` and ``wsproto`` (:mod:`fuzz.net.http`,
``protocol/_client.py``).
"""

from __future__ import annotations

import struct

__all__ = (
    "BAD_CHUNKED",
    "OPCODES",
    "Framing",
    "http_request",
    "sio_packet",
    "ws_frame",
)

#: How a request body is framed: ``length`` (Content-Length), ``chunked``, and the broken
#: ones: ``bad-chunked`` (a chunk size that is not hex), ``short`` (Content-Length larger
#: than the body: the request never ends, so the sender closes the connection after it),
#: ``te-and-length`` (both headers, RFC 9112 6.1: must not be trusted to delimit).
Framing = str
FRAMINGS = ("length", "chunked", "bad-chunked", "short", "te-and-length")
BAD_CHUNKED = frozenset({"bad-chunked", "short", "te-and-length"})

#: WebSocket opcodes (RFC 6455 5.2): continuation, text, binary, close, ping, pong.
OPCODES = {"cont": 0x0, "text": 0x1, "binary": 0x2, "close": 0x8, "ping": 0x9, "pong": 0xA}


def _chunked(body: bytes) -> bytes:
    out = b""
    if body:
        out += f"{len(body):x}\r\n".encode() + body + b"\r\n"
    return out + b"0\r\n\r\n"


def http_request(
    method: str,
    target: str,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    framing: Framing = "length",
    version: str = "HTTP/1.1",
    host: str = "127.0.0.1",
) -> bytes:
    """One HTTP/1.x request, framed as ``framing`` says.

    ``Host`` is added unless ``headers`` has one; ``Content-Length`` / ``Transfer-Encoding``
    come from ``framing`` (a GET without a body gets neither).
    """
    lines = [f"{method} {target} {version}"]
    names = {name.lower() for name, _ in headers}
    if "host" not in names:
        lines.append(f"Host: {host}")
    lines += [f"{name}: {value}" for name, value in headers]
    payload = body
    if framing == "length" and (body or method not in ("GET", "HEAD", "OPTIONS")):
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
        payload = _chunked(body)
    elif framing == "bad-chunked":
        lines.append("Transfer-Encoding: chunked")
        payload = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
    elif framing == "short":
        lines.append(f"Content-Length: {len(body) + 10}")
    elif framing == "te-and-length":
        lines.append(f"Content-Length: {len(body) + 5}")
        lines.append("Transfer-Encoding: chunked")
        payload = _chunked(body)
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + payload


def ws_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    declared_length: int | None = None,
    mask_key: bytes = b"\x37\xfa\x21\x3d",
) -> bytes:
    """A client WebSocket frame with every header field chosen by the caller.

    ``declared_length`` writes a length other than the payload's (a frame that announces
    2**62 bytes and sends ten); the payload is masked with ``mask_key`` when ``masked``.
    """
    length = len(payload) if declared_length is None else declared_length
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length & ((1 << 64) - 1))
    if not masked:
        return header + payload
    body = bytes(b ^ mask_key[i % 4] for i, b in enumerate(payload))
    return header + mask_key + body


def sio_packet(
    kind: int,
    data: str = "",
    *,
    namespace: str = "/",
    ack_id: int | None = None,
    attachments: int = 0,
) -> str:
    """A Socket.IO packet in its text encoding (PROTOCOL.md 2.1), without the Engine.IO ``4``."""
    out = str(kind)
    if attachments:
        out += f"{attachments}-"
    if namespace != "/":
        out += namespace + ","
    if ack_id is not None:
        out += str(ack_id)
    return out + data
