"""A client's settings, validated once, in the units the client works in (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._backoff import Backoff
from ..engineio.options import TRANSPORTS
from ..errors import ConfigError
from ..limits import DEFAULT_LIMITS, Limits
from ..socketio.parsers import DEFAULT_PARSER, Parser
from .retry import RECONNECTION_BACKOFF

__all__ = ("ClientOptions",)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How a :class:`~thinkio.client.Client` connects (see its arguments)."""

    #: Namespaces to join on connect and on every reconnect, in order.
    namespaces: tuple[str, ...] = ("/",)
    #: The CONNECT payload for each namespace (PROTOCOL.md 2.4), or None.
    auth: dict[str, Any] | None = None
    #: The transports, the first one opening the session (PROTOCOL.md 1.6).
    transports: tuple[str, ...] = TRANSPORTS
    #: Reconnect after an unexpected disconnect, and retry a failed first connect.
    reconnection: bool = True
    #: Reconnection attempts before giving up; None for no limit.
    reconnection_attempts: int | None = 10
    #: The delays between attempts.
    backoff: Backoff = RECONNECTION_BACKOFF
    #: Extra HTTP headers for every request and WebSocket handshake.
    headers: tuple[tuple[str, str], ...] = ()
    #: Seconds one connection attempt (handshake and every namespace CONNECT) may take.
    connect_timeout: float = 20.0
    #: Seconds a POST, a WebSocket connect or a graceful close may take.
    request_timeout: float = 20.0
    #: Bounds on what the server may make the client hold.
    limits: Limits = DEFAULT_LIMITS
    #: The Socket.IO parser; the server must use the same one.
    parser: Parser = DEFAULT_PARSER

    def __post_init__(self) -> None:
        if not self.namespaces or any(
            not isinstance(n, str) or not n.startswith("/") or "," in n for n in self.namespaces
        ):
            raise ConfigError(
                f"namespaces: expected names like '/' or '/chat', got {self.namespaces!r}"
            )
        if not self.transports or any(t not in TRANSPORTS for t in self.transports):
            raise ConfigError(
                f"transports: expected polling and/or websocket, got {self.transports!r}"
            )
        attempts = self.reconnection_attempts
        if attempts is not None and (not isinstance(attempts, int) or attempts < 0):
            raise ConfigError(
                f"reconnection_attempts: expected a count >= 0 or None, got {attempts!r}"
            )
        for name in ("connect_timeout", "request_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
