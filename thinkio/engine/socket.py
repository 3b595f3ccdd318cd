"""The I/O side of one Engine.IO session: its transport binding, its timer, its events.

:class:`EngineSocket` is what the code above (Socket.IO) holds for a session: it queues
packets (:meth:`EngineSocket.send`) and closes (:meth:`EngineSocket.close`). It writes what
the session queued to whichever transport carries it now — frames on the WebSocket, or the
answer to a parked polling GET — when the server's current batch ends (see
:class:`~.server.EngineServer`): packets queued while reading one socket's data, or by one
broadcast, go out in one write per socket.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from ..engineio import (
    EnginePacket,
    EnginePacketType,
    MessageReceived,
    Reason,
    Session,
    SessionClosed,
    UpgradeAborted,
    Upgraded,
)
from ..engineio.payload import BINARY_CONTENT_TYPE, TEXT_CONTENT_TYPE
from ..errors import RemoteProtocolError
from ..http import HttpExchange
from ..limits import Limits
from ..net import Clock, Timer, TimerService
from ..websocket import ClosingHandshake
from .handshake import Handshake

__all__ = (
    "EngineApp",
    "EngineHost",
    "EngineSocket",
    "SessionHandler",
    "SessionTransport",
    "WebSocketTransport",
)

log = logging.getLogger("thinkio.engineio")

_NO_STORE = (b"cache-control", b"no-store")
#: The Content-Type header of each kind of polling payload.
_CONTENT_TYPE = {
    kind: (b"content-type", kind.encode()) for kind in (TEXT_CONTENT_TYPE, BINARY_CONTENT_TYPE)
}
#: Close reasons after which the client is not worth waiting for (see EngineSocket.flush).
_GONE_SILENT = frozenset({Reason.TRANSPORT_ERROR, Reason.PING_TIMEOUT})


class _NoHandler:
    """The handler of a session whose app has not answered yet: drops what comes."""

    def opened(self) -> None:
        pass

    def receive(self, data: str | bytes) -> None:
        pass

    def ended(self, reason: str) -> None:
        pass


_NO_HANDLER = _NoHandler()


class SessionHandler(Protocol):
    """What handles one session's messages (Socket.IO's per-session driver, or a raw app's).

    Its methods run synchronously in the callback that received the data, in order; anything
    slow must be handed to a task.
    """

    def opened(self) -> None:
        """The session is open. Packets sent now go out with the open packet."""

    def receive(self, data: str | bytes) -> None:
        """A message arrived. Raising RemoteProtocolError closes the session with its reason."""

    def ended(self, reason: str) -> None:
        """The session ended (always called once, last)."""


class EngineApp(Protocol):
    """What an Engine.IO server hands sessions to."""

    def on_open(self, socket: EngineSocket) -> SessionHandler:
        """A session opened: return the handler of its messages."""


class EngineHost(Protocol):
    """What sessions and their WebSockets need from the server that holds them
    (:class:`~.server.EngineServer`)."""

    app: EngineApp
    clock: Clock
    timers: TimerService
    limits: Limits
    #: WebSockets waiting for the client's close frame (a shutdown stops waiting).
    closing_handshakes: set[ClosingHandshake]

    def begin(self) -> None:
        """Start a batch of writes."""

    def end(self) -> None:
        """End a batch of writes (the outermost one flushes)."""

    def want_flush(self, esock: EngineSocket) -> None:
        """``esock`` has something to write."""

    def forget(self, esock: EngineSocket) -> None:
        """The session ended."""

    def probe_of(self, esock: EngineSocket) -> WebSocketTransport | None:
        """The WebSocket probing an upgrade of the session now, if any."""

    def upgraded(self, esock: EngineSocket) -> None:
        """The session's probe WebSocket became its transport."""

    def upgrade_aborted(self, esock: EngineSocket, reason: str) -> None:
        """The session's upgrade was dropped."""

    def websocket_closed(self) -> None:
        """A WebSocket connection ended."""


class SessionTransport(Protocol):
    """A WebSocket carrying a session (see :mod:`.websocket`)."""

    #: Whether writing now would not pile up in the transport's buffer.
    writable: bool

    def write_packets(self, packets: list[EnginePacket]) -> None:
        """Write packets as frames."""

    def finish(self, *, abort: bool = False) -> None:
        """The session is over: close (``abort``: at once, dropping what is buffered)."""


class WebSocketTransport(SessionTransport, Protocol):
    """A WebSocket accepted for a session, as the server drives it: its own
    (:class:`~.websocket.EngineWebSocket`) or an ASGI server's (:mod:`thinkio.asgi`)."""

    def start(self) -> None:
        """Answer the handshake and take what arrives: a session's transport is attached to
        it now; a probe's messages go to :meth:`EngineSocket.receive_probe`."""

    def upgraded(self) -> None:
        """The probe became the session's transport (:meth:`EngineSocket.attach_ws`)."""

    def refuse(self) -> None:
        """Close a WebSocket that cannot become the session's transport (1008)."""


class EngineSocket:
    """One session's I/O (see the module docstring)."""

    __slots__ = (
        "_closed_here",
        "_cors",
        "_poll",
        "_pumping",
        "_server",
        "_timer",
        "_ws",
        "dirty",
        "handler",
        "handshake",
        "session",
    )

    def __init__(self, server: EngineHost, session: Session, handshake: Handshake) -> None:
        self._server = server
        self.session = session
        self.handshake = handshake
        self._ws: SessionTransport | None = None
        self._poll: HttpExchange | None = None
        self._cors: list[tuple[bytes, bytes]] = []
        self._timer: Timer | None = None
        self._pumping = False
        self._closed_here = False
        #: Waiting in the server's list of sockets to flush.
        self.dirty = False
        #: What handles the session's messages (set by the server when it opens).
        self.handler: SessionHandler = _NO_HANDLER

    def __repr__(self) -> str:
        return f"<EngineSocket {self.session.sid} {self.session.transport}>"

    @property
    def sid(self) -> str:
        return self.session.sid

    @property
    def protocol(self) -> int:
        return self.session.protocol

    @property
    def transport(self) -> str:
        return self.session.transport

    @property
    def closed(self) -> bool:
        """The session is closing or closed: nothing more can be sent."""
        return self.session.close_reason is not None

    # -- sending ----------------------------------------------------------------------------

    def send(
        self, packets: Sequence[EnginePacket], *, volatile: bool = False, size: int | None = None
    ) -> bool:
        """Queue packets (shared packets are fine: they are framed once). Never blocks.

        ``size``: the packets' data length, when the caller (a broadcast) computed it once.
        Returns whether they were queued (see :meth:`thinkio.engineio.Session.send`).
        """
        ok = self.session.send(packets, volatile=volatile, size=size)
        if not ok:
            self.pump()  # perhaps closed as a slow consumer
        if not self.dirty:
            self._server.want_flush(self)
        return ok

    def send_message(self, data: str | bytes, *, volatile: bool = False) -> bool:
        """Queue one message packet."""
        return self.send((EnginePacket(EnginePacketType.MESSAGE, data),), volatile=volatile)

    def close(self, reason: str = Reason.FORCED, *, close_packet: bool = True) -> None:
        """Close gracefully: what is queued is still delivered (see ``Session.close``)."""
        self._closed_here = True
        self.session.close(self._server.clock.now(), reason, close_packet=close_packet)
        self.pump()
        self._server.want_flush(self)

    # -- what the transports report ---------------------------------------------------------

    def receive_ws(self, message: str | bytes) -> None:
        """A message arrived on the session's WebSocket."""
        session = self.session
        now = self._server.clock.now()
        try:
            data = session.receive_ws_message(message, now)
        except RemoteProtocolError as exc:
            log.info("session %s: %s", self.sid, exc)
            data = None
        if data is None or self._pumping:
            self.pump()
            return
        # The common case: one message, nothing else queued (see Session.receive_ws_message).
        self._pumping = True
        try:
            self._deliver(data)
        finally:
            self._pumping = False
        if session.unsettled:
            self.pump()
            return
        timer = self._timer
        if timer is None or now >= timer.deadline:
            # A deadline was due (a ping went out): the session's next one moved. Before
            # its timer comes due, a message moves none.
            self._arm()

    def receive_probe(self, message: str | bytes) -> list[EnginePacket]:
        """A message arrived on the probe WebSocket of an upgrade; returns its replies."""
        replies = self.session.receive_probe(message, self._server.clock.now())
        self.pump()
        return replies

    def receive_post(self, body: bytes, *, binary: bool) -> RemoteProtocolError | None:
        """A POST's body; returns the error to answer with if it was not a valid payload."""
        session = self.session
        error = None
        try:
            session.end_post(body, self._server.clock.now(), binary=binary)
        except RemoteProtocolError as exc:
            log.info("session %s: %s", self.sid, exc)
            error = exc
        self.pump()
        return error

    def transport_lost(self, ws: SessionTransport) -> None:
        """The session's WebSocket closed or broke."""
        if ws is self._ws:
            self._ws = None
            if not self.session.closed:
                self.session.transport_closed(self._server.clock.now())
                self.pump()

    def websocket_lost(self, ws: SessionTransport, *, probe: bool, refused: bool) -> None:
        """A WebSocket of this session went away (called once by each): the probe of an
        upgrade (``refused``: the upgrade was already turned down) or the one carrying it."""
        server = self._server
        server.begin()
        try:
            if probe:
                # Only the probe of the upgrade under way: an earlier one, dropped already,
                # may close after the client started the next upgrade.
                if self.session.upgrading and not refused and server.probe_of(self) is ws:
                    self.probe_lost()
            else:
                self.transport_lost(ws)
        finally:
            server.end()
            server.websocket_closed()

    def probe_lost(self) -> None:
        """The probe WebSocket went away before the upgrade finished."""
        self.session.probe_closed(self._server.clock.now())
        self.pump()

    def attach_ws(self, ws: SessionTransport) -> None:
        """``ws`` carries the session from now on."""
        self._ws = ws
        self._server.want_flush(self)

    def park_get(self, exchange: HttpExchange, cors: list[tuple[bytes, bytes]]) -> None:
        """A polling GET waits for packets."""
        self._poll = exchange
        self._cors = cors
        exchange.park(self._get_aborted)

    def _get_aborted(self) -> None:
        if self._poll is None:
            return
        self._poll = None
        self.session.abort_get(self._server.clock.now())
        self.pump()

    # -- events and timers ------------------------------------------------------------------

    def pump(self) -> None:
        """Deliver the session's events to the app, and re-arm its timer."""
        if self._pumping:
            return  # the outer call drains what the inner one queued, in order
        self._pumping = True
        server = self._server
        session = self.session
        try:
            while (event := session.next_event()) is not None:
                kind = type(event)
                if kind is MessageReceived:
                    self._deliver(event.data)  # type: ignore[union-attr]
                elif kind is Upgraded:
                    server.upgraded(self)
                elif kind is UpgradeAborted:
                    server.upgrade_aborted(self, event.reason)  # type: ignore[union-attr]
                elif kind is SessionClosed:
                    log.debug("session %s closed: %s", self.sid, event.reason)  # type: ignore[union-attr]
                    try:
                        self.handler.ended(event.reason)  # type: ignore[union-attr]
                    except Exception:
                        log.exception("session %s: the app failed on close", self.sid)
        finally:
            self._pumping = False
        if session.closed:
            server.forget(self)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        else:
            self._arm()
        server.want_flush(self)

    def _deliver(self, data: str | bytes) -> None:
        if self._closed_here:
            # The server closed the session while messages of the same read were still
            # queued: like Node, it takes no more from a closing session.
            return
        try:
            self.handler.receive(data)
        except RemoteProtocolError as exc:
            log.info("closing session %s: %s", self.sid, exc, extra={"sid": self.sid})
            self._closed_here = True
            self.session.close(self._server.clock.now(), exc.close_reason)
        except Exception:
            # A bug above must not take the connection down with it.
            log.exception("session %s: the app failed on a message", self.sid)

    def _arm(self) -> None:
        deadline = self.session.next_deadline()
        timer = self._timer
        if timer is not None and timer.active:
            if timer.deadline == deadline:
                return
            timer.cancel()
        self._timer = None if deadline is None else self._server.timers.call_at(deadline, self._due)

    def _due(self, now: float) -> None:
        self._timer = None
        server = self._server
        server.begin()
        try:
            if not self.session.closed:
                self.session.handle_timeout(now)
                self.pump()
        finally:
            server.end()

    # -- writing ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the session queued to its current transport (the server calls this
        at the end of a batch)."""
        session = self.session
        ws = self._ws
        if ws is not None:
            if ws.writable:
                packets = session.take_ws_packets()
                if packets:
                    ws.write_packets(packets)
            reason = session.close_reason
            if reason is not None and session.closed:
                self._ws = None
                # What is queued for a client that does not read (a full buffer, a slow
                # consumer) or does not answer (a ping timeout) is not worth waiting for: its
                # connection is cut at once, so its memory and descriptor go with the session.
                abort = not ws.writable or reason in _GONE_SILENT
                if abort:
                    session.take_ws_packets()  # dropped: their memory goes now, not at GC
                ws.finish(abort=abort)
            return
        exchange = self._poll
        if exchange is not None:
            result = session.take_poll_response(self._server.clock.now())
            if result is not None:
                self._poll = None
                body, content_type = result
                exchange.respond(200, [_CONTENT_TYPE[content_type], _NO_STORE, *self._cors], body)
                if session.unsettled:
                    self.pump()  # the session closed (the close packet went out)
