"""What the fuzzer knows about each session it opened, and how sure it is."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from protocol._client import WebSocket

from .model import SioState

__all__ = ("Session", "State", "Target")

#: Allowance for timers and a loaded machine when deciding that a session is surely alive.
SLACK = 0.15


@dataclass(frozen=True)
class Target:
    """The server under test, set up as protocol/README.md describes.

    Attributes:
        url: base URL, ``http://127.0.0.1:PORT``.
        lacks: capabilities it is declared to lack (:mod:`fuzz.net.checks`).
        restricted_path: the mount open to ``allowed_origin`` only ("" if none).
        allowed_origin: that origin.
        connect_timeout: the server's connectTimeout in seconds (PROTOCOL.md 5.2: 1 s).
        timeout: seconds a prompt answer may take.
    """

    url: str
    lacks: frozenset[str] = frozenset()
    restricted_path: str = "/restricted/"
    allowed_origin: str = "http://allowed.example"
    connect_timeout: float = 1.0
    timeout: float = 2.0

    @property
    def address(self) -> tuple[str, int]:
        """(host, port)."""
        rest = self.url.split("://", 1)[-1]
        host, _, port = rest.partition(":")
        return host, int(port.rstrip("/") or 80)


class State(enum.Enum):
    """How the fuzzer sees a session."""

    ALIVE = "alive"  #: open, as far as the fuzzer knows
    DYING = "dying"  #: the fuzzer sent something that must end it
    UNSURE = "unsure"  #: it may or may not be open (the notes allow both, or time ran out)
    GONE = "gone"  #: ended


@dataclass
class Session:
    """One Engine.IO session the fuzzer opened."""

    name: str
    mount: str
    sid: str
    #: ``polling`` or ``websocket`` (after an upgrade too).
    transport: str
    ping_interval: float
    ping_timeout: float
    max_payload: int
    state: State = State.ALIVE
    ws: WebSocket | None = None
    #: The Socket.IO state on ``/socket.io/`` (None on the bare Engine.IO mount).
    sio: SioState | None = None
    opened_at: float = field(default_factory=time.monotonic)
    last_pong: float = field(default_factory=time.monotonic)

    def surely_alive(self, connect_timeout: float) -> bool:
        """Whether the server cannot have ended it by now: alive as far as the fuzzer knows,
        within its heartbeat (a ping answered in time) and, on ``/socket.io/``, joined or
        still within the connect timeout."""
        if self.state is not State.ALIVE:
            return False
        now = time.monotonic()
        if now > self.last_pong + self.ping_interval + self.ping_timeout - SLACK:
            return False
        if self.sio is not None and not self.sio.ever_joined:
            return now < self.opened_at + connect_timeout - SLACK
        return True

    def doubt(self, connect_timeout: float) -> None:
        """Downgrade ALIVE to UNSURE once the session may have timed out."""
        if self.state is State.ALIVE and not self.surely_alive(connect_timeout):
            self.state = State.UNSURE

    def query(self, transport: str = "polling") -> str:
        """Path and query of this session's requests."""
        return f"{self.mount}?EIO=4&transport={transport}&sid={self.sid}"
