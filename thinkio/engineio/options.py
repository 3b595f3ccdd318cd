"""Engine.IO server options, in the units the core works in (seconds, bytes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from ..limits import DEFAULT_LIMITS, Limits

__all__ = ("TRANSPORTS", "EngineOptions")

#: The transports thinkio implements, in upgrade order.
TRANSPORTS = ("polling", "websocket")


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """How an Engine.IO server behaves. Node's defaults, in seconds."""

    #: Seconds between server pings (v4) or expected client pings (v3).
    ping_interval: float = 25.0
    #: Seconds a ping may go unanswered before the session counts as dead.
    ping_timeout: float = 20.0
    #: Seconds a probe WebSocket may take to send ``5`` and complete the upgrade.
    upgrade_timeout: float = 10.0
    #: Seconds a server-closed polling session waits for a GET to carry its close packet.
    close_timeout: float = 30.0
    #: Enabled transports.
    transports: tuple[str, ...] = TRANSPORTS
    #: Accept Engine.IO v3 clients (socket.io-client 2.x).
    allow_eio3: bool = False
    #: Size and count bounds.
    limits: Limits = field(default=DEFAULT_LIMITS)

    def __post_init__(self) -> None:
        for name in ("ping_interval", "ping_timeout", "upgrade_timeout", "close_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
        if not self.transports or any(t not in TRANSPORTS for t in self.transports):
            raise ConfigError(
                f"transports: expected a non-empty subset of {TRANSPORTS}, got {self.transports!r}"
            )
