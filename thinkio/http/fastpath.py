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

from .request import decode_headers

__all__ = ("parse_plain", "response_head")

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
_VALUE = rb"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?"
_REQUEST_LINE = re.compile(rb"(GET|POST) ([\x21-\x7e]+) HTTP/1\.1\r\n")
_HEADER_BLOCK = re.compile(rb"(?:" + _TOKEN + rb": *" + _VALUE + rb" *\r\n)*\r\n")
#: Headers that send a request to h11.
_H11_ONLY = frozenset((b"transfer-encoding", b"expect"))
#: ``Connection`` values the fast path takes (lower-cased); any other goes to h11.
_CONNECTION = frozenset((b"keep-alive", b"upgrade", b"keep-alive, upgrade", b"upgrade, keep-alive"))

#: A header block read already: its headers (names lower-cased), as text (repeated names
#: joined, as :class:`~thinkio.http.HttpRequest` has them), and its Content-Length (-1: none).
_Block = tuple[tuple[tuple[bytes, bytes], ...], dict[str, str], int]


def parse_plain(
    data: bytes,
) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], dict[str, str], bytes, int] | None:
    """A plain request at the start of ``data``: ``(method, target, headers, text_headers,
    body, used)``. ``headers`` are the header names lower-cased and values without their
    surrounding spaces, as h11 gives them; ``text_headers`` the same decoded, repeated names
    joined with ", " (:attr:`HttpRequest.headers <thinkio.http.HttpRequest.headers>`); ``used``
    is how many bytes of ``data`` it took. ``None``: not plain, or not all here; let h11
    read it.

    A client sends the same header block on every request of a connection (only the request
    line's cache buster changes), so blocks read already are kept (bounded): the lists and
    dicts handed out are fresh copies, for the handler to keep or change.
    """
    line = _REQUEST_LINE.match(data)
    if line is None:
        return None
    start = line.end()
    end = data.find(b"\r\n\r\n", start - 2)
    if end < 0:
        return None
    end += 4
    block = data[start:end]
    known = _BLOCKS.get(block)
    if known is None:
        known = _read_block(block)
        if known is None:
            return None
        if len(block) <= _BLOCK_KEPT_MAX:
            if len(_BLOCKS) >= _BLOCKS_MAX:
                _BLOCKS.clear()
            _BLOCKS[block] = known
    raw, text, length = known
    method, target = line.groups()
    if length <= 0:
        return method, target, list(raw), text.copy(), b"", end
    used = end + length
    if len(data) < used:
        return None
    return method, target, list(raw), text.copy(), data[end:used], used


def _read_block(block: bytes) -> _Block | None:
    """Read a header block (its lines and the empty line ending it), or None if not plain."""
    if _HEADER_BLOCK.fullmatch(block) is None:
        return None
    headers: list[tuple[bytes, bytes]] = []
    hosts = 0
    length = -1
    for line in block.split(b"\r\n")[:-2]:
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
    return tuple(headers), decode_headers(headers), length


#: Header blocks read already, by their bytes: bounded in count and in size (a client's own
#: block is well under 4 KiB; a larger one is read every time), cleared when full.
_BLOCKS: dict[bytes, _Block] = {}
_BLOCKS_MAX = 256
_BLOCK_KEPT_MAX = 4096


def response_head(
    status: int,
    reason: bytes,
    headers: list[tuple[bytes, bytes]],
    length: int | None,
    close: bool,
) -> bytes | None:
    """The status line and headers h11 writes for this response to a plain request, given
    the handler's ``headers`` followed by ``content-length: length`` (none when ``length``
    is None: a 204 or 304) and ``connection: close`` when ``close``. ``None`` when a header
    is one h11 would refuse to send (a name that is not a token, a value with a line break, a
    NUL or surrounding whitespace)."""
    key = (status, reason, *headers)
    prefix = _HEADS.get(key)
    if prefix is None:
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        for name, value in headers:
            if _NAME.fullmatch(name) is None or _FIELD.fullmatch(value) is None:
                return None
            lines.append(name + b": " + value + b"\r\n")
        prefix = b"".join(lines)
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = prefix
    end = b"connection: close\r\n\r\n" if close else b"\r\n"
    if length is None:
        return prefix + end
    return b"%scontent-length: %d\r\n%s" % (prefix, length, end)


_NAME = re.compile(_TOKEN)
#: RFC 9110 field-value, as h11 checks it before sending.
_FIELD = re.compile(rb"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?")
#: The status line and headers of responses written already (most responses repeat a few,
#: the length aside): bounded, cleared when full.
_HEADS: dict[tuple[object, ...], bytes] = {}
_HEADS_MAX = 1024
