"""Events an Engine.IO session hands to the code above it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("EngineEvent", "MessageReceived", "SessionClosed", "UpgradeAborted", "Upgraded")


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """The client sent a message packet."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Upgraded:
    """The probe WebSocket became the session's transport."""


@dataclass(frozen=True, slots=True)
class UpgradeAborted:
    """The upgrade was dropped; the I/O layer closes the probe WebSocket."""

    reason: str


@dataclass(frozen=True, slots=True)
class SessionClosed:
    """The session ended. Always the last event of a session."""

    reason: str


EngineEvent = MessageReceived | Upgraded | UpgradeAborted | SessionClosed
