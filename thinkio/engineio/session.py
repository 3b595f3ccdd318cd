"""One Engine.IO session, sans-IO (PROTOCOL.md 1.3-1.7, 4).

The I/O layer owns the sockets and the clock; a :class:`Session` owns every protocol rule.
Every entry point takes ``now`` (seconds, any monotonic origin) and first runs the timers that
are due, so a request that arrives after a deadline sees the session as the deadline left it
even if the I/O layer's timer has not fired yet (the suites rely on exact ping-timeout
behaviour, PROTOCOL.md 5.3).

Data flows like this::

    I/O layer                       Session                            code above
    ---------                       -------                            ----------
    begin_get / take_poll_response  <- outbox <- send()/send_message() <- emit
    begin_post / end_post(body)     -> decode -> next_event()           -> MessageReceived
    receive_ws(message)             -> decode -> next_event()
    take_ws_packets()               <- outbox
    begin_upgrade / receive_probe   (the probe WebSocket of an upgrade)
    next_deadline / handle_timeout  (pings, ping timeout, upgrade and close timeouts)

Two ways to end, as in Node: :meth:`Session.close` is the server's graceful close (a polling
session keeps its close packet for the next GET); a protocol error, a client close or a dead
transport ends the session at once. Either way :class:`SessionClosed` is queued exactly once,
and the I/O layer forgets the sid when :attr:`Session.closed` is true.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Final

from ..errors import LocalProtocolError, RemoteProtocolError, RequestRejected
from ._state import TRANSITIONS, SessionState, SessionTrigger
from .events import EngineEvent, MessageReceived, SessionClosed, UpgradeAborted, Upgraded
from .handshake import open_packet_data
from .options import EngineOptions
from .packets import EnginePacket, EnginePacketType, decode_ws
from .payload import (
    SEPARATOR,
    TEXT_CONTENT_TYPE,
    decode_payload,
    decode_payload_v3,
    encode_payload,
    encode_payload_v3,
)

__all__ = ("Reason", "Session")


class Reason:
    """The close reasons a session reports; Socket.IO passes them on as disconnect reasons.

    (``Final``: mypyc compiles this module, and only a ``Final`` class attribute can be read
    from the class there.)
    """

    TRANSPORT_CLOSE: Final = "transport close"  #: the client closed, or its connection went away
    #: overlapping requests, an aborted poll, a full outbox
    TRANSPORT_ERROR: Final = "transport error"
    PARSE_ERROR: Final = "parse error"  #: the client sent something that is not Engine.IO
    PING_TIMEOUT: Final = "ping timeout"  #: no pong (v4) or no ping (v3) in time
    HEARTBEAT: Final = "invalid heartbeat direction"  #: a v4 client pinged, or a v3 client ponged
    FORCED: Final = "forced close"  #: the server closed the session
    SHUTDOWN: Final = "server shutting down"  #: the server is stopping


#: Enum members the per-message path reads, as module constants: on Python 3.11 reading
#: ``SessionState.OPEN`` goes through the enum metaclass's ``__getattr__`` hook (~80 ns), a
#: global ~6 ns.
_STATE_OPEN = SessionState.OPEN
_STATE_CLOSING = SessionState.CLOSING
_STATE_CLOSED = SessionState.CLOSED
_STATE_PROBING = SessionState.PROBING
_STATE_PROBED = SessionState.PROBED
_MESSAGE = EnginePacketType.MESSAGE
_NOOP = EnginePacket(EnginePacketType.NOOP)
_CLOSE = EnginePacket(EnginePacketType.CLOSE)
_PING = EnginePacket(EnginePacketType.PING)
_PONG = EnginePacket(EnginePacketType.PONG)
_PROBE_PONG = EnginePacket(EnginePacketType.PONG, "probe")


class Session:
    """The server side of one Engine.IO session.

    Args:
        sid: the session id (opaque, URL-safe).
        transport: ``"polling"`` or ``"websocket"``: the handshake's transport.
        options: server options (timers, transports, limits).
        now: the current time in seconds.
        protocol: 4, or 3 for Engine.IO v3 clients.
        b64: v3 polling only: binary goes as base64 text (``b64=1``).
    """

    def __init__(
        self,
        sid: str,
        transport: str,
        *,
        options: EngineOptions,
        now: float,
        protocol: int = 4,
        b64: bool = False,
    ) -> None:
        self.sid = sid
        self.protocol = protocol
        self.options = options
        self.close_reason: str | None = None
        #: The session was closed because its outbox overflowed (a slow consumer).
        self.overflowed = False
        self._transport = transport
        self._state = _STATE_OPEN
        self._b64 = b64
        self._limits = options.limits
        self._outbox: deque[EnginePacket] = deque()
        self._outbox_bytes = 0
        self._events: deque[EngineEvent] = deque()
        self._get_pending = False
        self._post_in_flight = False
        #: What a pending GET gets when the session ended under it ("1" or "6").
        self._final_poll: EnginePacket | None = None
        self._next_ping: float | None = None
        self._pong_deadline: float | None = None
        self._upgrade_deadline: float | None = None
        self._close_deadline: float | None = None
        if protocol >= 4:
            self._next_ping = now + options.ping_interval
        else:
            # v3: the client pings; it must do so within interval + timeout.
            self._pong_deadline = now + options.ping_interval + options.ping_timeout
        # The handshake reply itself, queued past the limits (as the close packet is).
        opened = EnginePacket(EnginePacketType.OPEN, open_packet_data(sid, transport, options))
        self._outbox.append(opened)
        self._outbox_bytes += len(opened.data)

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Where the session is in its life (see :mod:`._state`)."""
        return self._state

    @property
    def transport(self) -> str:
        """The transport that carries packets now: ``"polling"`` or ``"websocket"``."""
        return self._transport

    @property
    def closed(self) -> bool:
        """The session has ended; its sid is unknown from now on."""
        return self._state is _STATE_CLOSED

    @property
    def unsettled(self) -> bool:
        """Events are waiting in :meth:`next_event`, or the session has ended: what the I/O
        layer checks after each message it delivered (one look instead of two)."""
        return bool(self._events) or self._state is _STATE_CLOSED

    @property
    def get_pending(self) -> bool:
        """A polling GET is waiting for packets."""
        return self._get_pending

    @property
    def poll_ready(self) -> bool:
        """A polling GET is waiting and :meth:`take_poll_response` would answer it now."""
        return self._get_pending and (
            bool(self._outbox)
            or self._state is _STATE_CLOSED
            or self._state is _STATE_PROBED
            or self._transport != "polling"
        )

    @property
    def outbox_size(self) -> int:
        """Packets queued and not yet taken by a transport.

        For inspection: the I/O layer does not need it; the fuzz harness checks it against
        ``Limits.max_outbox_packets``.
        """
        return len(self._outbox)

    def _fire(self, trigger: SessionTrigger) -> None:
        try:
            self._state = TRANSITIONS[self._state, trigger]
        except KeyError:
            raise LocalProtocolError(
                f"session {self.sid}: {trigger.name} is not allowed in state {self._state.name}"
            ) from None

    def next_event(self) -> EngineEvent | None:
        """The next event for the code above, or None."""
        return self._events.popleft() if self._events else None

    # -- sending ----------------------------------------------------------------------------

    def _push(self, packet: EnginePacket) -> None:
        """Queue a packet the session itself sends (open, ping, pong), within the limits."""
        if not self._fits(1, len(packet.data)):
            self.overflowed = True
            self._end(Reason.TRANSPORT_ERROR, final=_CLOSE)
            return
        self._outbox.append(packet)
        self._outbox_bytes += len(packet.data)

    def _fits(self, count: int, size: int) -> bool:
        limits = self._limits
        return (
            len(self._outbox) + count <= limits.max_outbox_packets
            and self._outbox_bytes + size <= limits.max_outbox_bytes
        )

    @property
    def has_events(self) -> bool:
        """Events are waiting in :meth:`next_event`."""
        return bool(self._events)

    def send(
        self, packets: Iterable[EnginePacket], *, volatile: bool = False, size: int | None = None
    ) -> bool:
        """Queue packets for the client.

        Args:
            packets: packets to queue, in order. They may be shared with other sessions.
            volatile: drop them instead of queueing behind a backlog (Socket.IO's volatile
                emits): they are sent only if the transport can take them now.
            size: the packets' total data length, if the caller already knows it (a
                broadcast sends the same packets to many sessions).

        Returns:
            Whether they were queued. False if the session is closing or closed, if volatile
            packets were dropped, or if the outbox was full: then the session is closed as a
            slow consumer ("transport error").
        """
        state = self._state
        if state is _STATE_CLOSING or state is _STATE_CLOSED:
            return False
        items = packets if isinstance(packets, (list, tuple)) else list(packets)
        if volatile and (self._outbox or (self._transport == "polling" and not self._get_pending)):
            return False
        if size is None:
            size = 0
            for p in items:
                size += len(p.data)
        limits = self._limits
        if (
            len(self._outbox) + len(items) > limits.max_outbox_packets
            or self._outbox_bytes + size > limits.max_outbox_bytes
        ):
            self.overflowed = True
            self._end(Reason.TRANSPORT_ERROR, final=_CLOSE)
            return False
        if self._transport == "polling" and self.protocol >= 4:
            for p in items:
                if p.holds_separator():
                    raise LocalProtocolError(
                        "a text message sent over v4 polling cannot contain \\x1e, the payload "
                        "separator (Socket.IO's JSON never does; send binary instead)"
                    )
        self._outbox.extend(items)
        self._outbox_bytes += size
        return True

    def send_message(self, data: str | bytes, *, volatile: bool = False) -> bool:
        """Queue one message packet. See :meth:`send`."""
        return self.send((EnginePacket(EnginePacketType.MESSAGE, data),), volatile=volatile)

    def close(self, now: float, reason: str = Reason.FORCED, *, close_packet: bool = True) -> None:
        """Close the session from the server's side, gracefully.

        Queued packets are still delivered. On WebSocket the I/O layer takes them and then
        closes the socket; on polling the close packet waits for a GET (at most
        ``close_timeout``). Closing a closed session does nothing.

        Args:
            now: the current time.
            reason: the close reason reported to the code above.
            close_packet: False ends a polling session the way a WebSocket one ends, without
                the close packet: a pending GET is released with a noop once the queue is
                drained, and the next request finds the sid unknown. Clients take that as a
                lost transport and reconnect (used when the server shuts down:
                python-socketio reads a close packet as "do not reconnect").
        """
        self._advance(now)
        if self._state is _STATE_CLOSING or self._state is _STATE_CLOSED:
            return
        self._drop_upgrade("session closed")
        if self._transport == "polling" and not close_packet and not self._outbox:
            self._end(reason, final=_NOOP)
            return
        if self._transport == "polling":
            self._fire(SessionTrigger.CLOSE_POLLING)
            if close_packet:
                self._outbox.append(_CLOSE)  # past the limits too: the session is ending
            self._close_deadline = now + self.options.close_timeout
            self._stop_heartbeat()
            self.close_reason = reason
            self._events.append(SessionClosed(reason))
        else:
            self._end(reason)

    def _end(self, reason: str, *, final: EnginePacket | None = None) -> None:
        """End the session now. ``final`` answers a GET that is still pending."""
        if self._state is _STATE_CLOSED:
            return
        self._drop_upgrade("session closed")
        announced = self._state is _STATE_CLOSING
        self._fire(SessionTrigger.CLOSE)
        self._stop_heartbeat()
        self._close_deadline = None
        self._final_poll = final
        if self._transport == "polling":
            self._outbox.clear()
            self._outbox_bytes = 0
        if not announced:
            self.close_reason = reason
            self._events.append(SessionClosed(reason))

    def _fail(self, message: str, reason: str, **kwargs: int) -> RemoteProtocolError:
        """End the session for a client's fault; return the error to raise."""
        self._end(reason, final=_CLOSE)
        return RemoteProtocolError(message, close_reason=reason, **kwargs)

    def _stop_heartbeat(self) -> None:
        self._next_ping = None
        self._pong_deadline = None

    # -- receiving ---------------------------------------------------------------------------

    def _receive(self, packet: EnginePacket, now: float) -> None:
        ptype = packet.type
        if ptype is _MESSAGE:
            self._events.append(MessageReceived(packet.data))
        elif ptype is EnginePacketType.PONG:
            if self.protocol < 4:
                raise self._fail("a v3 client must not send pong", Reason.HEARTBEAT)
            if self._pong_deadline is not None:
                self._pong_deadline = None
                self._next_ping = now + self.options.ping_interval
        elif ptype is EnginePacketType.PING:
            if self.protocol >= 4:
                raise self._fail("a v4 client must not send ping", Reason.HEARTBEAT)
            self._pong_deadline = now + self.options.ping_interval + self.options.ping_timeout
            self._push(_PONG)  # Node answers a plain "3", whatever the ping carried
        elif ptype is EnginePacketType.CLOSE:
            self._end(Reason.TRANSPORT_CLOSE, final=_NOOP)
        elif ptype is EnginePacketType.OPEN:
            raise self._fail("a client must not send open", Reason.PARSE_ERROR)
        # NOOP, and UPGRADE on a transport that is already current, are harmless: ignored.

    # -- polling -----------------------------------------------------------------------------

    def _check_request(self, now: float) -> None:
        self._advance(now)
        if self._state is _STATE_CLOSED:
            raise RequestRejected(1, detail="session closed")
        if self._transport != "polling":
            raise RequestRejected(3, detail="transport mismatch")

    def begin_get(self, now: float) -> None:
        """A polling GET arrived. Follow with :meth:`take_poll_response`.

        Raises:
            RequestRejected: the session is closed or no longer on polling.
            RemoteProtocolError: a GET was already pending; the session is now closed and the
                pending GET gets the close packet. Answer this request with ``http_status``.
        """
        self._check_request(now)
        if self._get_pending:
            raise self._fail("overlapping GET requests", Reason.TRANSPORT_ERROR)
        self._get_pending = True

    def take_poll_response(self, now: float) -> tuple[bytes, str] | None:
        """The body and content type for the pending GET, or None to keep waiting.

        Call it again whenever the session may have changed (after any other call).
        """
        if not self._get_pending:
            raise LocalProtocolError("no GET is pending")
        self._advance(now)
        if self._state is _STATE_CLOSED or self._transport != "polling":
            packets = [self._final_poll or _NOOP]
            self._final_poll = None
        elif self._outbox:
            outbox = self._outbox
            if len(outbox) <= self._limits.max_packets_per_poll:
                packets = list(outbox)  # all of them, the usual case
                outbox.clear()
                self._outbox_bytes = 0
            else:
                count = self._limits.max_packets_per_poll
                packets = [outbox.popleft() for _ in range(count)]
                self._outbox_bytes -= sum(len(p.data) for p in packets)
            if self._state is _STATE_CLOSING and not outbox:
                self._fire(SessionTrigger.CLOSE_DELIVERED)  # the close packet went out last
                self._close_deadline = None
        elif self._state is _STATE_PROBED:
            packets = [_NOOP]
        else:
            return None
        self._get_pending = False
        if self.protocol >= 4:
            return encode_payload(packets).encode(), TEXT_CONTENT_TYPE
        return encode_payload_v3(packets, b64=self._b64)

    def abort_get(self, now: float) -> None:
        """The pending GET's connection went away before it was answered."""
        if not self._get_pending:
            return
        self._get_pending = False
        self._advance(now)
        if self._state is not _STATE_CLOSED and self._transport == "polling":
            self._end(Reason.TRANSPORT_ERROR)

    def begin_post(self, now: float) -> None:
        """A polling POST arrived; read its body, then call :meth:`end_post`.

        Raises:
            RequestRejected: the session is closed or no longer on polling.
            RemoteProtocolError: a POST was already in flight; the session is now closed.
        """
        self._check_request(now)
        if self._post_in_flight:
            raise self._fail("overlapping POST requests", Reason.TRANSPORT_ERROR)
        self._post_in_flight = True

    def end_post(self, body: bytes | None, now: float, *, binary: bool = False) -> None:
        """The POST's body was read (``None``: it was refused or lost, e.g. too large).

        Args:
            body: the raw body.
            now: the current time.
            binary: the body was sent as ``application/octet-stream``.

        Raises:
            RemoteProtocolError: the body is not a valid payload; the session is now closed.
        """
        self._post_in_flight = False
        self._advance(now)
        if body is None or self._state is _STATE_CLOSING or self._state is _STATE_CLOSED:
            return
        max_packets = self._limits.max_packets_per_payload
        try:
            if self.protocol < 4:
                packets = decode_payload_v3(body, binary=binary, max_packets=max_packets)
            elif binary:
                raise RemoteProtocolError("a v4 payload must be text, not octet-stream")
            else:
                text = body.decode("utf-8")
                if text[:1] == "4" and SEPARATOR not in text:
                    # The usual POST, one message: what decode_payload and _receive would
                    # make of it, without building the packet.
                    self._events.append(MessageReceived(text[1:]))
                    return
                packets = decode_payload(text, max_packets=max_packets)
        except (RemoteProtocolError, UnicodeDecodeError) as exc:
            raise self._fail(f"invalid payload: {exc}", Reason.PARSE_ERROR) from None
        for packet in packets:
            if self.closed:
                break
            self._receive(packet, now)

    # -- websocket ---------------------------------------------------------------------------

    def receive_ws(self, message: str | bytes, now: float) -> None:
        """A message arrived on the session's WebSocket transport.

        Raises:
            RemoteProtocolError: it is not a valid packet; the session is now closed.
        """
        self._advance(now)
        if self._state is _STATE_CLOSED:
            return
        try:
            packet = decode_ws(message, protocol=self.protocol)
        except RemoteProtocolError as exc:
            raise self._fail(f"invalid packet: {exc}", Reason.PARSE_ERROR) from None
        self._receive(packet, now)

    def receive_ws_message(self, message: str | bytes, now: float) -> str | bytes | None:
        """:meth:`receive_ws`, handing the data of a message packet straight back.

        The common packet of a WebSocket session is a message; instead of queueing a
        :class:`MessageReceived`, its data is returned for the caller to deliver at once
        (which it must, before asking for :meth:`next_event`). Every other packet, and a
        message while other events are waiting, goes the way of :meth:`receive_ws` (events
        queued, None returned).

        Raises:
            RemoteProtocolError: as :meth:`receive_ws`.
        """
        self._advance(now)
        if self._state is _STATE_OPEN and not self._events and self.protocol >= 4:
            if isinstance(message, str):
                if message[:1] == "4" and message.isascii():
                    return message[1:]
            elif message:
                return bytes(message)
        self.receive_ws(message, now)
        return None

    def take_ws_packets(self) -> list[EnginePacket]:
        """Take every queued packet, for the WebSocket transport to write in order.

        After the session closed, this still hands out what was queued before the close, so the
        I/O layer can flush it before closing the socket.
        """
        if self._transport != "websocket" or not self._outbox:
            return []
        packets = list(self._outbox)
        self._outbox.clear()
        self._outbox_bytes = 0
        return packets

    def transport_closed(self, now: float, reason: str = Reason.TRANSPORT_CLOSE) -> None:
        """The current transport's connection went away (a WebSocket closed or broke)."""
        self._advance(now)
        self._end(reason)

    # -- upgrade -----------------------------------------------------------------------------

    def begin_upgrade(self, now: float) -> None:
        """A WebSocket arrived with this session's sid: the probe of an upgrade.

        Raises:
            RemoteProtocolError: the session is not a polling session ready to upgrade (it is
                upgrading, upgraded or closing). Only the new WebSocket is refused; the session
                itself is untouched.
        """
        self._advance(now)
        if self._transport != "polling" or self._state is not _STATE_OPEN:
            raise RemoteProtocolError(
                f"session {self.sid} cannot upgrade now ({self._transport}, {self._state.name})",
                close_reason="upgrade refused",
            )
        self._fire(SessionTrigger.PROBE_OPEN)
        self._upgrade_deadline = now + self.options.upgrade_timeout

    @property
    def upgrading(self) -> bool:
        """A probe WebSocket is open and the upgrade not finished."""
        return self._state is _STATE_PROBING or self._state is _STATE_PROBED

    def receive_probe(self, message: str | bytes, now: float) -> list[EnginePacket]:
        """A message arrived on the probe WebSocket.

        Returns:
            Packets to write on the probe WebSocket (``3probe``, or a v3 pong).
            After it, check :meth:`next_event` for :class:`Upgraded` or
            :class:`UpgradeAborted` (then close the probe).
        """
        self._advance(now)
        if not self.upgrading:
            return []
        try:
            packet = decode_ws(message, protocol=self.protocol)
        except RemoteProtocolError:
            self._drop_upgrade("invalid packet on the probe")
            return []
        if packet.type is EnginePacketType.PING and packet.data == "probe":
            if self._state is _STATE_PROBING:
                self._fire(SessionTrigger.PROBE_PING)
            return [_PROBE_PONG]
        if packet.type is EnginePacketType.UPGRADE and self._state is _STATE_PROBED:
            self._fire(SessionTrigger.UPGRADE)
            self._transport = "websocket"
            self._upgrade_deadline = None
            self._events.append(Upgraded())
            return []
        if packet.type is EnginePacketType.NOOP:
            return []
        self._drop_upgrade(f"unexpected {packet.type.name} packet on the probe")
        return []

    def probe_closed(self, now: float) -> None:
        """The probe WebSocket went away before the upgrade finished."""
        self._advance(now)
        self._drop_upgrade("probe closed", announce=False)

    def _drop_upgrade(self, reason: str, *, announce: bool = True) -> None:
        if self.upgrading:
            self._fire(SessionTrigger.PROBE_ABORT)
            self._upgrade_deadline = None
            if announce:
                self._events.append(UpgradeAborted(reason))

    # -- timers ------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must be called next, or None if never."""
        if (
            self._pong_deadline is None
            and self._upgrade_deadline is None
            and self._close_deadline is None
        ):
            return self._next_ping  # an open session between pings (asked after every request)
        deadline = None
        for t in (
            self._next_ping,
            self._pong_deadline,
            self._upgrade_deadline,
            self._close_deadline,
        ):
            if t is not None and (deadline is None or t < deadline):
                deadline = t
        return deadline

    def handle_timeout(self, now: float) -> None:
        """Run every timer that is due at ``now``: pings, ping timeout, upgrade, close."""
        self._advance(now)

    def _advance(self, now: float) -> None:
        if self._state is _STATE_CLOSED:
            return
        if self._next_ping is not None and now >= self._next_ping:
            # The pong deadline counts from when the ping was due, so a session dies exactly
            # interval + timeout after the last pong (what the official suite times). But a
            # timer that fired very late (a busy loop, a stalled process) still leaves the
            # client half the timeout to answer the ping it is only now sent, never none.
            timeout = self.options.ping_timeout
            self._pong_deadline = max(self._next_ping + timeout, now + timeout / 2)
            self._next_ping = None
            self._push(_PING)
        if self._pong_deadline is not None and now >= self._pong_deadline:
            self._end(Reason.PING_TIMEOUT, final=_CLOSE)
            return
        if self._upgrade_deadline is not None and now >= self._upgrade_deadline:
            self._drop_upgrade("upgrade timeout")
        if self._close_deadline is not None and now >= self._close_deadline:
            self._close_deadline = None
            self._fire(SessionTrigger.CLOSE_DELIVERED)
