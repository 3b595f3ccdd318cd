"""What a client's first request said: ``socket.handshake`` in Socket.IO."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..http import HttpRequest

__all__ = ("Handshake",)


@dataclass(frozen=True, slots=True)
class Handshake:
    """The headers, query, address and time of the request that opened a session."""

    headers: dict[str, str]
    query: dict[str, str]
    #: The client's IP address.
    address: str
    url: str
    #: When the session was opened, in ms since the epoch (Node's ``issued``).
    issued: int
    #: The request came over TLS: always False, as thinkio serves plain HTTP (Node's field
    #: is False too behind a proxy that terminates TLS).
    secure: bool = False
    #: The request carried an Origin header (a cross-site browser request).
    xdomain: bool = False

    @property
    def cookies(self) -> dict[str, str]:
        """The parsed ``Cookie`` header (parsed on each access; most apps never read it)."""
        cookies: dict[str, str] = {}
        for part in self.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                cookies[name] = value
        return cookies

    @classmethod
    def from_request(cls, request: HttpRequest) -> Handshake:
        """The handshake of the request that opens a session, stamped with the time now."""
        return cls(
            headers=request.headers,
            query=request.query,
            address=request.client[0],
            url=request.target,
            issued=int(time.time() * 1000),
            xdomain="origin" in request.headers,
        )
