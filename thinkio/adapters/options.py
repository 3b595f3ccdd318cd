"""Where a Redis adapter finds Redis, and how it talks to it (no I/O here)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import ConfigError

__all__ = ("RedisOptions",)


@dataclass(frozen=True, slots=True)
class RedisOptions:
    """Where Redis is and how to talk to it.

    ``url`` is ``redis://[[user]:password@]host[:port][/db]``, or ``rediss://`` for TLS.
    With ``sentinels``, the host of ``url`` is ignored: the primary of ``service_name`` is
    asked of the sentinels, and the url's user, password, db and scheme are used for it.
    With ``cluster``, ``url`` names one node of a Redis Cluster (the others are found).
    """

    url: str = "redis://127.0.0.1:6379/0"
    #: ``(host, port)`` of each Sentinel; empty for no Sentinel.
    sentinels: tuple[tuple[str, int], ...] = ()
    #: The Sentinel service (master) name.
    service_name: str = "mymaster"
    #: ``url`` is a node of a Redis Cluster.
    cluster: bool = False
    #: TLS settings (CA, client certificate); ``rediss://`` with no context verifies against
    #: the system's CAs.
    ssl_context: ssl.SSLContext | None = None
    #: Longest wait for a connection, and for the subscriptions at start-up.
    connect_timeout: float = 5.0
    #: Longest wait for the reply to one command.
    command_timeout: float = 5.0
    #: A silent subscriber sends a PING after this long.
    health_check_interval: float = 15.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        try:
            parts.port  # noqa: B018 (raises for a port that is not a number)
            int(parts.path.strip("/") or 0)
        except ValueError:
            raise ConfigError(f"url: bad port or database number in {self.url!r}") from None
        if parts.scheme not in ("redis", "rediss") or (not parts.hostname and not self.sentinels):
            raise ConfigError(
                f"url: expected redis://host[:port][/db] or rediss://..., got {self.url!r}"
            )
        for name in ("connect_timeout", "command_timeout", "health_check_interval"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name}: expected seconds > 0, got {getattr(self, name)!r}")
        if self.cluster and self.sentinels:
            raise ConfigError("a Redis Cluster is not reached through Sentinel: give one")

    def describe(self) -> str:
        """The url without its password, for logs and errors."""
        parts = urlsplit(self.url)
        where = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"
        if self.sentinels:
            return f"sentinel service {self.service_name!r} ({where})"
        return f"redis cluster at {where}" if self.cluster else where
