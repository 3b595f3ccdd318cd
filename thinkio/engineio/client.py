"""The client side of one Engine.IO v4 session, sans-IO (PROTOCOL.md 1.2-1.7).

The I/O layer (:mod:`thinkio.client`) owns the sockets and the clock; a
:class:`ClientSession` owns every protocol rule a client must follow:

* the handshake: the first packet is ``open`` with ``sid``, ``upgrades``, ``pingInterval``,
  ``pingTimeout`` and ``maxPayload`` (1.3);
* the heartbeat: the server pings, the client answers ``3`` at once, and counts the link as
  dead when no ping came within ``pingInterval + pingTimeout`` (1.5);
* long-polling: every POST body is a ``\\x1e``-joined payload no larger than ``maxPayload``
  bytes, and only one POST is in flight (1.4, 1.9);
* the upgrade from the client's side: ``2probe`` on the probe WebSocket, ``3probe`` back,
  polling pauses (its pending GET comes back, usually as ``6``), then ``5`` on the WebSocket,
  which from then on carries the buffered packets (1.6);
* close: on polling the client POSTs ``1``; on WebSocket it closes the socket (1.7).

Data flows like this::

    I/O layer                              ClientSession                       code above
    ---------                              -------------                       ----------
    GET body -> receive_poll_body          -> decode -> next_event()           -> MessageReceived
    WS message -> receive_ws               -> decode -> next_event()
    take_poll_bodies() / take_ws_messages() <- outbox <- send_message()        <- emit
    begin_upgrade / receive_probe / finish_upgrade   (the probe WebSocket)
    next_deadline / handle_timeout                   (ping deadline, upgrade deadline)

The state machine is small enough to be straight code:

::

    OPENING --open packet--> OPEN --begin_upgrade--> PROBING --3probe--> PAUSED --finish--> OPEN
                               ^                        |                                (websocket)
                               +-----abort_upgrade------+
    any --close / close packet / ping timeout / transport_closed / bad packet--> CLOSED

Errors from the server (a bad packet, a bad handshake) raise
:class:`~thinkio.errors.RemoteProtocolError` *after* the session is closed with
``"parse error"``, so :meth:`ClientSession.next_event` still reports the close.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .. import _json
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import DEFAULT_LIMITS
from .events import MessageReceived, SessionClosed, UpgradeAborted, Upgraded
from .packets import EnginePacket, EnginePacketType, decode_ws, encode_text, encode_ws
from .payload import SEPARATOR, decode_payload

__all__ = ("ClientHandshake", "ClientReason", "ClientSession", "ClientState", "Opened")


class ClientReason:
    """Close reasons a client session reports (the names socket.io-client uses)."""

    FORCED = "forced close"  #: the client closed the session itself
    TRANSPORT_CLOSE = "transport close"  #: the server sent ``1`` or closed the connection
    TRANSPORT_ERROR = "transport error"  #: a request failed or the connection broke
    PARSE_ERROR = "parse error"  #: the server sent something that is not Engine.IO
    PING_TIMEOUT = "ping timeout"  #: no ping within pingInterval + pingTimeout


class ClientState(Enum):
    """Where a client session is in its life."""

    OPENING = "opening"  #: waiting for the server's ``open`` packet
    OPEN = "open"  #: the current transport carries packets
    PROBING = "probing"  #: ``2probe`` sent on a probe WebSocket; polling still carries packets
    PAUSED = "paused"  #: ``3probe`` received; polling drains, packets wait for the WebSocket
    CLOSED = "closed"  #: terminal


@dataclass(frozen=True, slots=True)
class ClientHandshake:
    """The server's ``open`` packet (PROTOCOL.md 1.3), in seconds.

    Attributes:
        sid: the Engine.IO session id.
        upgrades: transports the session may upgrade to (``("websocket",)`` on polling).
        ping_interval: seconds between server pings.
        ping_timeout: seconds the server waits for a pong.
        max_payload: the largest POST body the server takes, in bytes (None if not sent).
    """

    sid: str
    upgrades: tuple[str, ...]
    ping_interval: float
    ping_timeout: float
    max_payload: int | None

    @classmethod
    def parse(cls, data: str) -> ClientHandshake:
        """Parse the JSON data of an ``open`` packet.

        Raises:
            RemoteProtocolError: it is not an object with the fields of PROTOCOL.md 1.3.
        """
        obj: Any = _json.loads(data, max_depth=4)
        if not isinstance(obj, dict):
            raise RemoteProtocolError("open packet: expected a JSON object")
        sid, upgrades = obj.get("sid"), obj.get("upgrades", [])
        interval, timeout = obj.get("pingInterval"), obj.get("pingTimeout")
        max_payload = obj.get("maxPayload")
        if not isinstance(sid, str) or not sid:
            raise RemoteProtocolError("open packet: missing sid")
        if not isinstance(upgrades, list) or not all(isinstance(u, str) for u in upgrades):
            raise RemoteProtocolError("open packet: upgrades must be a list of strings")
        for name, value in (("pingInterval", interval), ("pingTimeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise RemoteProtocolError(f"open packet: {name} must be a positive number")
        if max_payload is not None and (
            isinstance(max_payload, bool) or not isinstance(max_payload, int) or max_payload < 1
        ):
            raise RemoteProtocolError("open packet: maxPayload must be a positive integer")
        assert isinstance(interval, int | float) and isinstance(timeout, int | float)
        return cls(sid, tuple(upgrades), interval / 1000, timeout / 1000, max_payload)


@dataclass(frozen=True, slots=True)
class Opened:
    """The handshake is done: the session is open."""

    handshake: ClientHandshake


ClientEvent = Opened | MessageReceived | Upgraded | UpgradeAborted | SessionClosed

_PONG = EnginePacket(EnginePacketType.PONG)
_CLOSE = EnginePacket(EnginePacketType.CLOSE)
_PROBE = encode_ws(EnginePacket(EnginePacketType.PING, "probe"))
_UPGRADE = encode_ws(EnginePacket(EnginePacketType.UPGRADE))


class ClientSession:
    """The client side of one Engine.IO v4 session.

    Args:
        transport: the handshake's transport, ``"polling"`` or ``"websocket"``.
        now: the current time in seconds (any monotonic origin).
        open_timeout: seconds the server has to send its ``open`` packet.
        upgrade_timeout: seconds an upgrade may take from :meth:`begin_upgrade` to
            :meth:`finish_upgrade`; after that it is dropped (or, once polling is paused,
            the session is closed).
        max_packets: the most packets accepted in one polling payload.
    """

    def __init__(
        self,
        transport: str = "polling",
        *,
        now: float,
        open_timeout: float = 20.0,
        upgrade_timeout: float = 10.0,
        max_packets: int = DEFAULT_LIMITS.max_packets_per_payload,
    ) -> None:
        if transport not in ("polling", "websocket"):
            raise LocalProtocolError(f"unknown transport {transport!r}")
        self._transport = transport
        self._state = ClientState.OPENING
        self._upgrade_timeout = upgrade_timeout
        self._max_packets = max_packets
        self._outbox: deque[EnginePacket] = deque()
        self._events: deque[ClientEvent] = deque()
        self.handshake: ClientHandshake | None = None
        self.close_reason: str | None = None
        #: Before the handshake: the open deadline; after it: the ping deadline (1.5).
        self._alive_deadline: float | None = now + open_timeout
        self._upgrade_deadline: float | None = None

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        """Where the session is in its life."""
        return self._state

    @property
    def transport(self) -> str:
        """The transport that carries packets now: ``"polling"`` or ``"websocket"``."""
        return self._transport

    @property
    def sid(self) -> str | None:
        """The Engine.IO session id, once open."""
        return None if self.handshake is None else self.handshake.sid

    @property
    def closed(self) -> bool:
        """The session has ended."""
        return self._state is ClientState.CLOSED

    @property
    def polling(self) -> bool:
        """The I/O layer should keep a GET outstanding (polling, and not paused for upgrade)."""
        return self._transport == "polling" and self._state in (
            ClientState.OPENING,
            ClientState.OPEN,
            ClientState.PROBING,
        )

    @property
    def can_upgrade(self) -> bool:
        """The session is open on polling and the server offers ``websocket``."""
        return (
            self._state is ClientState.OPEN
            and self._transport == "polling"
            and self.handshake is not None
            and "websocket" in self.handshake.upgrades
        )

    def next_event(self) -> ClientEvent | None:
        """The next event for the code above, or None."""
        return self._events.popleft() if self._events else None

    # -- sending ----------------------------------------------------------------------------

    def send_message(self, data: str | bytes) -> None:
        """Queue one message packet (text or binary) for the server.

        Raises:
            LocalProtocolError: the session is closed, or on polling the text holds the
                record separator ``\\x1e``, which would split it in two (1.2). Socket.IO
                never sends one: JSON escapes control characters.
        """
        if self._state is ClientState.CLOSED:
            raise LocalProtocolError("the Engine.IO session is closed")
        if self._transport == "polling" and isinstance(data, str) and SEPARATOR in data:
            raise LocalProtocolError("a polling message cannot contain the separator \\x1e")
        self._outbox.append(EnginePacket(EnginePacketType.MESSAGE, data))

    def take_poll_bodies(self) -> list[bytes]:
        """Take the queued packets as POST bodies, to be sent one after the other.

        Each body is a v4 payload of at most ``maxPayload`` bytes (PROTOCOL.md 1.9); a single
        packet larger than that goes alone and the server decides. Nothing is handed out
        while polling is paused for an upgrade (those packets wait for the WebSocket). After
        :meth:`close` this still hands out what was queued, ending with the close packet.
        """
        if self._transport != "polling" or self._state is ClientState.PAUSED:
            return []
        if not self._outbox:
            return []
        limit = self.handshake.max_payload if self.handshake else None
        bodies: list[bytes] = []
        current: list[bytes] = []
        size = 0
        sep = SEPARATOR.encode()
        while self._outbox:
            chunk = encode_text(self._outbox.popleft()).encode()
            extra = len(chunk) + (1 if current else 0)
            if current and limit is not None and size + extra > limit:
                bodies.append(sep.join(current))
                current, size, extra = [], 0, len(chunk)
            current.append(chunk)
            size += extra
        bodies.append(sep.join(current))
        return bodies

    def take_ws_messages(self) -> list[str | bytes]:
        """Take the queued packets as WebSocket messages (one packet per message)."""
        if self._transport != "websocket" or not self._outbox:
            return []
        messages = [encode_ws(p) for p in self._outbox]
        self._outbox.clear()
        return messages

    def close(self) -> None:
        """Close the session from the client's side (PROTOCOL.md 1.7).

        On polling the close packet ``1`` is queued after whatever is still queued: take it
        with :meth:`take_poll_bodies` and POST it. On WebSocket, send what
        :meth:`take_ws_messages` still hands out, then close the socket. Closing a closed
        session does nothing.
        """
        if self._state is ClientState.CLOSED:
            return
        if self._transport == "polling" and self._state is not ClientState.OPENING:
            self._outbox.append(_CLOSE)
        # Packets held back by a paused upgrade go out on polling, before the close packet.
        self._end(ClientReason.FORCED, keep_outbox=True)

    def _end(self, reason: str, *, keep_outbox: bool = False) -> None:
        if self._state is ClientState.CLOSED:
            return
        if self._state in (ClientState.PROBING, ClientState.PAUSED):
            self._events.append(UpgradeAborted("session closed"))
        self._state = ClientState.CLOSED
        self._alive_deadline = None
        self._upgrade_deadline = None
        if not keep_outbox:
            self._outbox.clear()
        self.close_reason = reason
        self._events.append(SessionClosed(reason))

    def _fail(self, message: str) -> RemoteProtocolError:
        """End the session for the server's fault; return the error to raise."""
        self._end(ClientReason.PARSE_ERROR)
        return RemoteProtocolError(message, close_reason=ClientReason.PARSE_ERROR)

    # -- receiving ---------------------------------------------------------------------------

    def _receive(self, packet: EnginePacket, now: float) -> None:
        ptype = packet.type
        if self._state is ClientState.OPENING:
            if ptype is not EnginePacketType.OPEN or not isinstance(packet.data, str):
                raise self._fail(f"expected the open packet, got {ptype.name}")
            try:
                handshake = ClientHandshake.parse(packet.data)
            except RemoteProtocolError as exc:
                raise self._fail(str(exc)) from None
            self.handshake = handshake
            self._state = ClientState.OPEN
            self._alive_deadline = now + handshake.ping_interval + handshake.ping_timeout
            self._events.append(Opened(handshake))
        elif ptype is EnginePacketType.MESSAGE:
            self._events.append(MessageReceived(packet.data))
        elif ptype is EnginePacketType.PING:
            # 1.5: answer at once; the server's next ping is due within interval + timeout.
            assert self.handshake is not None
            hs = self.handshake
            self._alive_deadline = now + hs.ping_interval + hs.ping_timeout
            self._outbox.append(_PONG)
        elif ptype is EnginePacketType.CLOSE:
            self._end(ClientReason.TRANSPORT_CLOSE)
        elif ptype in (EnginePacketType.OPEN, EnginePacketType.UPGRADE):
            raise self._fail(f"a server must not send {ptype.name} here")
        # NOOP (a released GET, 1.4/1.6) and a stray PONG are harmless: ignored.

    def receive_poll_body(self, body: bytes, now: float) -> None:
        """A polling GET (or the handshake GET) returned ``body`` with status 200.

        Raises:
            RemoteProtocolError: the body is not a valid v4 payload; the session is closed.
        """
        self.handle_timeout(now)
        if self._state is ClientState.CLOSED or self._transport != "polling":
            return
        try:
            packets = decode_payload(body.decode("utf-8"), max_packets=self._max_packets)
        except (RemoteProtocolError, UnicodeDecodeError) as exc:
            raise self._fail(f"invalid payload: {exc}") from None
        for packet in packets:
            if self.closed:
                break
            self._receive(packet, now)

    def receive_ws(self, message: str | bytes, now: float) -> None:
        """A message arrived on the session's WebSocket transport.

        Raises:
            RemoteProtocolError: it is not a valid packet; the session is closed.
        """
        self.handle_timeout(now)
        if self._state is ClientState.CLOSED or self._transport != "websocket":
            return
        try:
            packet = decode_ws(message)
        except RemoteProtocolError as exc:
            raise self._fail(f"invalid packet: {exc}") from None
        self._receive(packet, now)

    def transport_closed(self, now: float, reason: str = ClientReason.TRANSPORT_CLOSE) -> None:
        """The current transport failed: a request errored, or the WebSocket went away."""
        self.handle_timeout(now)
        self._end(reason)

    # -- upgrade (PROTOCOL.md 1.6) -----------------------------------------------------------

    def begin_upgrade(self, now: float) -> str:
        """Start an upgrade: the I/O layer opens a probe WebSocket with this session's sid.

        Returns:
            The first message to send on the probe: ``2probe``.

        Raises:
            LocalProtocolError: the session cannot upgrade now (see :attr:`can_upgrade`).
        """
        if not self.can_upgrade:
            raise LocalProtocolError(f"cannot upgrade in state {self._state.value}")
        self._state = ClientState.PROBING
        self._upgrade_deadline = now + self._upgrade_timeout
        assert isinstance(_PROBE, str)
        return _PROBE

    def receive_probe(self, message: str | bytes, now: float) -> None:
        """A message arrived on the probe WebSocket.

        ``3probe`` pauses polling (state PAUSED): the I/O layer lets its pending GET come
        back, waits for its POST to finish, then calls :meth:`finish_upgrade`. Anything else
        drops the upgrade (an :class:`UpgradeAborted` event); polling carries on.
        """
        self.handle_timeout(now)
        if self._state is not ClientState.PROBING:
            return
        try:
            packet = decode_ws(message)
        except RemoteProtocolError:
            packet = None
        if packet is not None and packet.type is EnginePacketType.PONG and packet.data == "probe":
            self._state = ClientState.PAUSED
        else:
            self.abort_upgrade("unexpected answer to the probe")

    def finish_upgrade(self, now: float) -> list[str | bytes]:
        """Polling is idle: switch to the probe WebSocket.

        Returns:
            The messages to send on the WebSocket, in order: ``5`` and then every packet
            queued meanwhile.

        Raises:
            LocalProtocolError: polling was not paused by a ``3probe``.
        """
        self.handle_timeout(now)
        if self._state is not ClientState.PAUSED:
            raise LocalProtocolError(f"cannot finish an upgrade in state {self._state.value}")
        self._state = ClientState.OPEN
        self._transport = "websocket"
        self._upgrade_deadline = None
        self._events.append(Upgraded())
        return [_UPGRADE, *self.take_ws_messages()]

    def abort_upgrade(self, reason: str) -> None:
        """The probe failed (could not connect, closed, timed out): stay on polling.

        Once polling is paused the session cannot go back (its GET loop has stopped), so an
        abort then closes the session with ``"transport error"``.
        """
        if self._state is ClientState.PROBING:
            self._state = ClientState.OPEN
            self._upgrade_deadline = None
            self._events.append(UpgradeAborted(reason))
        elif self._state is ClientState.PAUSED:
            self._end(ClientReason.TRANSPORT_ERROR)

    # -- timers ------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must be called next, or None if never."""
        times = [t for t in (self._alive_deadline, self._upgrade_deadline) if t is not None]
        return min(times) if times else None

    def handle_timeout(self, now: float) -> None:
        """Run the timers due at ``now``: the open/ping deadline and the upgrade deadline."""
        if self._state is ClientState.CLOSED:
            return
        if self._alive_deadline is not None and now >= self._alive_deadline:
            self._end(ClientReason.PING_TIMEOUT)
            return
        if self._upgrade_deadline is not None and now >= self._upgrade_deadline:
            self.abort_upgrade("upgrade timeout")
