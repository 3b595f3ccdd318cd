"""The server's side of the WebSocket closing handshake, over a transport (RFC 6455 §7.1.1).

A server that closes a WebSocket sends its close frame and then keeps the TCP connection open,
reading, until the peer's close frame comes back; only then does it close TCP. Closing TCP at
once is what the RFC warns against: whatever the client is still sending lands on a closed
socket, the kernel answers with a reset, and the reset can destroy the close frame before the
client reads it (a client closed with 1008 for flooding would see a broken connection, not the
1008). So after :class:`ClosingHandshake` starts, the connection's protocol goes on feeding
what it reads to its :class:`~.connection.WebSocketConnection`, drops the data frames, and
calls :meth:`ClosingHandshake.finish` once the peer's close frame (or a protocol error) ends
the connection. A peer that never answers (or never reads our close frame) is cut after a
bounded timeout; one that closes TCP itself ends it as well.

Used by every server-side WebSocket on thinkio's own transports: the Engine.IO one
(:mod:`thinkio.engine.websocket`) and the plain ``ws`` / SockJS one
(:mod:`thinkio.plain.websocket`). It only drives :mod:`thinkio.net`'s interfaces (a
``Transport`` and a ``TimerService``), which it does not import at run time: the rest of this
package stays sans-IO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..net import Timer, TimerService, Transport

__all__ = ("ClosingHandshake",)

log = logging.getLogger("thinkio.websocket")


class ClosingHandshake:
    """Our close frame is written; the connection stays open for the peer's, at most ``timeout``.

    Args:
        transport: the connection.
        frame: our close frame (written now; empty: already sent).
        timers: where the timeout runs.
        timeout: seconds the peer has to answer (and to read what is queued before it).
        on_cut: called when the timeout cuts the connection (for the caller's log line).
    """

    __slots__ = ("_on_cut", "_timer", "_transport")

    def __init__(
        self,
        transport: Transport,
        frame: bytes,
        timers: TimerService,
        timeout: float,
        on_cut: Callable[[], None] | None = None,
    ) -> None:
        self._transport = transport
        self._on_cut = on_cut
        if frame:
            transport.write(frame)
        self._timer: Timer | None = timers.call_later(timeout, self._expired)

    def finish(self, reply: bytes = b"") -> None:
        """The peer's close frame came (or the connection failed): write ``reply`` (what the
        connection still has to send) and close TCP once the buffer is written. The timeout
        still covers a peer that does not read the rest."""
        transport = self._transport
        if reply:
            transport.write(reply)
        transport.close()

    def cancel(self) -> None:
        """The connection is gone: the timeout is not needed any more."""
        timer = self._timer
        if timer is not None:
            self._timer = None
            timer.cancel()

    def _expired(self, now: float) -> None:
        self._timer = None
        if self._on_cut is not None:
            self._on_cut()
        else:
            log.info("a WebSocket peer did not finish the closing handshake in time; cut")
        self._transport.abort()
