"""A parsed HTTP request, as the handlers above the HTTP layer see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

import h11

__all__ = ("HttpRequest", "decode_headers", "parse_query")


def parse_query(query: str) -> dict[str, str]:
    """A query string's parameters, the last of repeated names winning: what
    ``dict(urllib.parse.parse_qsl(query, keep_blank_values=True))`` gives, without its
    per-parameter work when nothing needs decoding (an Engine.IO query never does)."""
    params: dict[str, str] = {}
    if "%" in query or "+" in query:
        for piece in query.split("&"):
            if piece:
                name, _, value = piece.partition("=")
                params[unquote_plus(name)] = unquote_plus(value)
        return params
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            params[name] = value
    return params


#: The methods and versions of nearly every request, as text (a lookup, not a decode).
_TEXT = {
    text.encode(): text
    for text in ("GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "1.1", "1.0")
}


@dataclass(slots=True)
class HttpRequest:
    """One request: its head, and its whole body (read before the handler runs).

    Attributes:
        method: ``"GET"``, ``"POST"``...
        target: the request target as sent (path and query).
        path: the path part of the target.
        query: the query parameters (the last of repeated names wins).
        headers: header names lower-cased; repeated headers joined with ", ".
        raw_headers: the headers as h11 read them (names lower-cased bytes).
        client: the peer's address and port.
        http_version: ``"1.1"`` or ``"1.0"``.
        body: the request body (empty for GET and HEAD).
    """

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_headers: list[tuple[bytes, bytes]]
    client: tuple[str, int]
    http_version: str = "1.1"
    body: bytes = b""

    @classmethod
    def from_h11(cls, event: h11.Request, client: tuple[str, int]) -> HttpRequest:
        # raw_items(): one pass over h11's list (iterating the Headers sequence costs a
        # Python call per header); names are lower-cased here, as h11 does for iteration.
        raw = [(name.lower(), value) for name, value in event.headers.raw_items()]
        return cls.from_parts(event.method, event.target, raw, client, event.http_version)

    @classmethod
    def from_parts(
        cls,
        method: bytes,
        target_bytes: bytes,
        raw: list[tuple[bytes, bytes]],
        client: tuple[str, int],
        http_version: bytes = b"1.1",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> HttpRequest:
        """A request from its parsed head (header names lower-cased), by h11 or by the fast
        path (:mod:`.fastpath`, which passes ``headers`` decoded already)."""
        target = target_bytes.decode("latin-1")
        path, _, query = target.partition("?")
        if "#" in query:
            query = query.partition("#")[0]
        if not path.startswith("/"):
            path = urlsplit(target).path  # absolute-form targets ("http://host/path")
        if headers is None:
            headers = decode_headers(raw)
        return cls(
            _TEXT.get(method) or method.decode("ascii", "replace"),
            target,
            path,
            parse_query(query) if query else {},
            headers,
            raw,
            client,
            _TEXT.get(http_version) or http_version.decode("ascii", "replace"),
            body,
        )

    @property
    def websocket_upgrade(self) -> bool:
        """The request asks to switch to WebSocket."""
        return (
            self.headers.get("upgrade", "").lower() == "websocket"
            and "upgrade" in self.headers.get("connection", "").lower()
        )


def decode_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header names and values as text, as :attr:`HttpRequest.headers` has them: names as
    read (lower-cased by the caller), the values of a repeated name joined with ", ", in order."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    if len(headers) < len(raw):
        headers = {}
        for name, value in raw:
            key = name.decode("latin-1")
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return headers
