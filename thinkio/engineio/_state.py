"""The Engine.IO session state machine, as a table.

Theory of operation
-------------------
A session is born OPEN on the transport of its handshake (polling or WebSocket). A polling
session may move to WebSocket: the client opens a *probe* WebSocket with the session's sid
(PROBING), sends ``2probe`` and gets ``3probe`` (PROBED; from now on a polling GET with
nothing to carry is answered ``6`` at once so the client's poll loop pauses), then sends ``5``
on the probe: the WebSocket becomes the transport and the session is OPEN again. A probe that
misbehaves, dies or times out drops the upgrade and polling carries on.

Closing: a session closed by the server on WebSocket, or by anyone on polling from the
client's side, is CLOSED at once. A polling session closed by the server is CLOSING until a GET
has carried the close packet ``1`` to the client (or ``close_timeout`` passes), then CLOSED.
CLOSED is terminal.

::

    OPEN --probe_open--> PROBING --probe_ping--> PROBED --upgrade--> OPEN (on websocket)
      ^                     |                      |
      +----probe_abort------+----------------------+
    OPEN/PROBING/PROBED --close_polling--> CLOSING --close_delivered--> CLOSED
    any but CLOSED --close--> CLOSED
"""

from __future__ import annotations

from enum import Enum, auto

__all__ = ("TRANSITIONS", "SessionState", "SessionTrigger")


class SessionState(Enum):
    """Where an Engine.IO session is in its life."""

    OPEN = auto()  #: handshake done; the current transport carries packets
    PROBING = auto()  #: a probe WebSocket is connected; waiting for ``2probe``
    PROBED = auto()  #: ``3probe`` sent; waiting for ``5``; idle GETs are answered ``6``
    CLOSING = auto()  #: closed by the server on polling; the close packet awaits a GET
    CLOSED = auto()  #: terminal: nothing is received or sent any more


class SessionTrigger(Enum):
    """What moves a session from one state to another."""

    PROBE_OPEN = auto()  #: a WebSocket arrived with this polling session's sid
    PROBE_PING = auto()  #: the probe sent ``2probe``
    UPGRADE = auto()  #: the probe sent ``5``
    PROBE_ABORT = auto()  #: the probe misbehaved, closed or timed out
    CLOSE_POLLING = auto()  #: the server closed a polling session
    CLOSE_DELIVERED = auto()  #: a GET carried the close packet, or close_timeout passed
    CLOSE = auto()  #: the session ends now


_S, _T = SessionState, SessionTrigger

#: (state, trigger) -> next state. A pair that is missing is not allowed.
TRANSITIONS: dict[tuple[SessionState, SessionTrigger], SessionState] = {
    (_S.OPEN, _T.PROBE_OPEN): _S.PROBING,
    (_S.PROBING, _T.PROBE_PING): _S.PROBED,
    (_S.PROBED, _T.UPGRADE): _S.OPEN,
    (_S.PROBING, _T.PROBE_ABORT): _S.OPEN,
    (_S.PROBED, _T.PROBE_ABORT): _S.OPEN,
    (_S.OPEN, _T.CLOSE_POLLING): _S.CLOSING,
    (_S.PROBING, _T.CLOSE_POLLING): _S.CLOSING,
    (_S.PROBED, _T.CLOSE_POLLING): _S.CLOSING,
    (_S.CLOSING, _T.CLOSE_DELIVERED): _S.CLOSED,
    (_S.OPEN, _T.CLOSE): _S.CLOSED,
    (_S.PROBING, _T.CLOSE): _S.CLOSED,
    (_S.PROBED, _T.CLOSE): _S.CLOSED,
    (_S.CLOSING, _T.CLOSE): _S.CLOSED,
}
