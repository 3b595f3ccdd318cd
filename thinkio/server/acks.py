"""Acknowledgements of incoming events: who sends them, and when (Node's rules).

An event that asks for an ack (``2<id>[...]``) gets at most one answer:

* a handler that takes the ack (a parameter named ``ack``) owns it: the ack is sent when,
  and only when, that handler calls it — never automatically, as in Node, so
  socket.io-client's ``retries``/``ackTimeout`` see a handler that does not answer;
* otherwise the last handler's return value is the ack (a tuple for several values, None for
  an empty ack), unless it returns :data:`NO_ACK`;
* no handler for the event, or a handler that raised: no ack (the client's times out).

Calling an ack twice, or after its socket disconnected, does nothing (a DEBUG line).
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

__all__ = ("NO_ACK", "Ack", "AckOwner", "ack_args")

log = logging.getLogger("thinkio.socketio")


class _NoAck:
    """The type of :data:`NO_ACK`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_ACK"


#: Return this from a handler to send no ack although the client asked for one.
NO_ACK: Final = _NoAck()


def ack_args(result: Any) -> list[Any] | None:
    """The ack arguments a handler's return value stands for (None: send no ack)."""
    if result is NO_ACK:
        return None
    if isinstance(result, tuple):
        return list(result)
    if result is None:
        return []
    return [result]


class AckOwner(Protocol):
    """The socket an ack answers for (:class:`.socket.Socket`)."""

    id: str
    connected: bool

    def send_ack(self, ack_id: int, args: list[Any]) -> None:
        """Send ``3<id>[args]`` on this socket's namespace."""


class Ack:
    """The acknowledgement callback of one incoming event (Node's ``callback``)."""

    __slots__ = ("_id", "_socket", "sent")

    def __init__(self, socket: AckOwner, ack_id: int) -> None:
        self._socket = socket
        self._id = ack_id
        #: The ack was sent (or refused as a second call).
        self.sent = False

    @property
    def id(self) -> int:
        """The ack id the client chose."""
        return self._id

    def __call__(self, *args: Any) -> None:
        """Send the ack with these arguments. Only the first call counts (as in Node)."""
        socket = self._socket
        if self.sent:
            log.debug("ack %d of socket %s called again: ignored", self._id, socket.id)
            return
        self.sent = True
        if not socket.connected:
            log.debug("ack %d of socket %s called after it disconnected", self._id, socket.id)
            return
        socket.send_ack(self._id, list(args))
