"""A fast path past h11 for the plainest requests, and their responses.

h11 is this server's HTTP/1.1 implementation, and it stays so: every request that is not
plain, and every byte after one that is not, goes through it. But h11 spends about 180 Python
calls on a request and its response, which made HTTP long-polling (two requests per round
trip) cost more than everything else on the path together. Most polling requests are as plain
as HTTP gets, so, like the WebSocket frame fast path (:mod:`thinkio.websocket.fastpath`), this
module serves those without it.

:func:`parse_plain` takes a request only when all of it is in one read and it is of the
narrow form below, strictly inside what h11 accepts and reads the same way (the agreement
test, ``tests/http/test_fastpath.py``, checks this against h11 on generated requests):

* ``GET`` or ``POST``, a target of visible ASCII, ``HTTP/1.1``;
* header names that are tokens, values of visible ASCII and inner spaces (no tabs, no
  ``obs-text``, no folded lines), optional spaces around values;
* exactly one ``Host``; at most one ``Content-Length`` of digits, with the whole body present;
* no ``Transfer-Encoding`` or ``Expect``, and a ``Connection`` of ``keep-alive`` and
  ``upgrade`` only (a WebSocket upgrade is plain: the handler takes the connection over with
  the bytes after the request, as from h11).

Anything else returns ``None`` and the caller hands the bytes to h11, which answers what is
wrong with it as before. Such a request leaves h11 where it was (idle, between requests), so
the two can take turns on one connection. :func:`response_head` writes the bytes h11 writes
for the same response to such a request.
"""

from __future__ import annotations

import re

__all__ = ("parse_plain", "response_head")

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_VALUE = rb"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?"
_HEAD = re.compile(
    rb"(GET|POST) ([\x21-\x7e]+) HTTP/1\.1\r\n((?:" + _TOKEN + rb": *" + _VALUE + rb" *\r\n)*)\r\n"
)
#: Headers that send a request to h11.
_H11_ONLY = frozenset((b"transfer-encoding", b"expect"))
#: ``Connection`` values the fast path takes (lower-cased); any other goes to h11.
_CONNECTION = frozenset((b"keep-alive", b"upgrade", b"keep-alive, upgrade", b"upgrade, keep-alive"))


def parse_plain(
    data: bytes,
) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes, int] | None:
    """A plain request at the start of ``data``: ``(method, target, headers, body, used)``,
    header names lower-cased and values without their surrounding spaces, as h11 gives
    them; ``used`` is how many bytes of ``data`` it took. ``None``: not plain, or not all
    here; let h11 read it."""
    match = _HEAD.match(data)
    if match is None:
        return None
    method, target, block = match.groups()
    headers: list[tuple[bytes, bytes]] = []
    hosts = 0
    length = -1
    for line in block.split(b"\r\n")[:-1]:
        name, _, value = line.partition(b":")
        name = name.lower()
        value = value.strip(b" ")
        if name == b"host":
            hosts += 1
        elif name == b"content-length":
            if length >= 0 or not value.isdigit():
                return None
            length = int(value)
        elif name in _H11_ONLY or (name == b"connection" and value.lower() not in _CONNECTION):
            return None
        headers.append((name, value))
    if hosts != 1:
        return None
    end = match.end()
    if length <= 0:
        return method, target, headers, b"", end
    used = end + length
    if len(data) < used:
        return None
    return method, target, headers, data[end:used], used


def response_head(status: int, reason: bytes, headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The status line and headers h11 writes for this response to a plain request, or
    ``None`` when a header is one h11 would refuse to send (a name that is not a token, a
    value with a line break, a NUL or surrounding whitespace)."""
    key = (status, reason, *headers)
    head = _HEADS.get(key)
    if head is not None:
        return head
    lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
    for name, value in headers:
        if _NAME.fullmatch(name) is None or _FIELD.fullmatch(value) is None:
            return None
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"\r\n")
    head = b"".join(lines)
    if len(_HEADS) >= _HEADS_MAX:
        _HEADS.clear()
    _HEADS[key] = head
    return head


_NAME = re.compile(_TOKEN)
#: RFC 9110 field-value, as h11 checks it before sending.
_FIELD = re.compile(rb"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?")
#: Heads written already (most responses repeat a few, the length aside): bounded, cleared
#: when full.
_HEADS: dict[tuple[object, ...], bytes] = {}
_HEADS_MAX = 1024
