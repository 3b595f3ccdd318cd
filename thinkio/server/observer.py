"""What the server reports to an observer (metrics, the Admin UI) as it runs.

The server holds one optional :class:`ServerObserver` (``Server.observer``, None by
default). Every place that reports checks ``observer is not None`` once, outside any
per-recipient loop, so an unobserved server pays one attribute test per message or
broadcast and nothing more. What can be read from existing state (open sessions, sockets per
namespace, slow consumers dropped) is not reported here: the observer reads it when asked.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ("ObserverGroup", "ServerObserver", "add_observer")


class ServerObserver(Protocol):
    """Receives the server's running counts (see :mod:`thinkio.metrics`)."""

    def messages_in(self, count: int, size: int) -> None:
        """``count`` Engine.IO messages of ``size`` bytes in all arrived from one session."""

    def messages_out(self, count: int, size: int) -> None:
        """``count`` messages of ``size`` bytes in all were queued for one session."""

    def broadcast(self, recipients: int, messages: int, size: int) -> None:
        """One broadcast reached ``recipients`` local sockets with ``messages`` messages of
        ``size`` bytes in all, each."""

    def ack_answered(self, seconds: float) -> None:
        """A client answered the server's ack request after ``seconds``."""

    def event_sent(self, namespace: str, sid: str, args: list[Any]) -> None:
        """``[event, *args]`` was emitted to one socket (not a broadcast)."""


class ObserverGroup:
    """Several observers as one (metrics and the Admin UI on one server)."""

    def __init__(self, *observers: ServerObserver) -> None:
        self.observers = observers

    def messages_in(self, count: int, size: int) -> None:
        for observer in self.observers:
            observer.messages_in(count, size)

    def messages_out(self, count: int, size: int) -> None:
        for observer in self.observers:
            observer.messages_out(count, size)

    def broadcast(self, recipients: int, messages: int, size: int) -> None:
        for observer in self.observers:
            observer.broadcast(recipients, messages, size)

    def ack_answered(self, seconds: float) -> None:
        for observer in self.observers:
            observer.ack_answered(seconds)

    def event_sent(self, namespace: str, sid: str, args: list[Any]) -> None:
        for observer in self.observers:
            observer.event_sent(namespace, sid, args)


def add_observer(current: ServerObserver | None, new: ServerObserver) -> ServerObserver:
    """``current`` and ``new`` together (for ``server.observer = add_observer(...)``).

    Sessions opened before keep the observer they started with.
    """
    return new if current is None else ObserverGroup(current, new)
