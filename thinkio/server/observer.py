"""What the server reports to an observer (metrics, the Admin UI) as it runs.

The server holds one optional :class:`ServerObserver` (``Server.observer``, None by
default). Every place that reports checks ``observer is not None`` once, outside any
per-recipient loop, so an unobserved server pays one attribute test per message or
broadcast and nothing more. What can be read from existing state (open sessions, sockets per
namespace, slow consumers dropped) is not reported here: the observer reads it when asked.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ("ServerObserver",)


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
