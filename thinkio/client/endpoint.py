"""Where the server is: the client's URL and Engine.IO path, and the request targets
built from them (PROTOCOL.md 1.1)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..errors import ConfigError

__all__ = ("Endpoint",)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the Engine.IO server is, parsed from the client's URL.

    Attributes:
        url: the URL as given.
        host: host name or address to connect to.
        port: TCP port.
        tls: the SSL context for ``https``/``wss``, or None.
        host_header: the ``Host`` header.
        path: the Engine.IO path, with a trailing ``/`` (``/socket.io/``).
        query: extra query parameters from the URL, already encoded (may be empty).
    """

    url: str
    host: str
    port: int
    tls: ssl.SSLContext | None
    host_header: str
    path: str
    query: str

    @classmethod
    def parse(cls, url: str, path: str = "/socket.io") -> Endpoint:
        """Parse ``http(s)://`` or ``ws(s)://`` URLs.

        Raises:
            ConfigError: the URL has another scheme or no host.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https", "ws", "wss"):
            raise ConfigError(f"url: expected http(s):// or ws(s)://, got {url!r}")
        if not parts.hostname:
            raise ConfigError(f"url: no host in {url!r}")
        secure = scheme in ("https", "wss")
        port = parts.port or (443 if secure else 80)
        host_header = parts.netloc.rpartition("@")[2]
        tls = ssl.create_default_context() if secure else None
        clean = "/" + path.strip("/") + "/" if path.strip("/") else "/"
        return cls(url, parts.hostname, port, tls, host_header, clean, parts.query)

    def target(self, transport: str, sid: str | None = None) -> str:
        """The request target for ``transport`` (PROTOCOL.md 1.1)."""
        query = f"EIO=4&transport={transport}"
        if sid is not None:
            query += "&sid=" + quote(sid, safe="")
        if self.query:
            query += "&" + self.query
        return f"{self.path}?{query}"
