"""What the suite knows about the server under test: its address and its capabilities."""

from __future__ import annotations

from dataclasses import dataclass

#: Requirements a target may lack: name -> what the requirement is.
CAPABILITIES: dict[str, str] = {
    "ws-refuses-before-upgrade": (
        "a WebSocket upgrade request with a missing or unsupported EIO, or with "
        "transport=polling, is refused with HTTP 400 before any 101 (PROTOCOL.md 1.8; Node "
        "answers 101 first, then closes)"
    ),
    "ws-close-packet": (
        "a close packet (1) sent over WebSocket ends the session at once (PROTOCOL.md 1.7; "
        "Node ignores it and the session ends only at the ping timeout)"
    ),
    "post-parse-error-400": (
        "a POST whose payload does not decode is answered 400 (what the official suite means "
        "to check, PROTOCOL.md 5.3; Node answers 200 ok and then closes the session)"
    ),
}

#: --server-kind presets: what each kind of server is known to lack.
KINDS: dict[str, frozenset[str]] = {
    "strict": frozenset(),
    "thinkio": frozenset(),
    "node": frozenset({"ws-refuses-before-upgrade", "ws-close-packet", "post-parse-error-400"}),
}


@dataclass(frozen=True)
class Target:
    """The server under test."""

    #: Base URL, e.g. ``http://127.0.0.1:3000`` (no trailing slash).
    url: str
    #: The --server-kind in effect.
    kind: str
    #: Capabilities the target is declared to lack.
    lacks: frozenset[str]
    #: Mount whose only allowed origin is ``allowed_origin`` ("" if the target has none).
    restricted_path: str
    allowed_origin: str
