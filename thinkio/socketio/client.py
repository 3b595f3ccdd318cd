"""The client side of Socket.IO v5 over one Engine.IO session, sans-IO (PROTOCOL.md 2).

The mirror of :class:`~thinkio.socketio.connection.Connection`::

    conn = ClientConnection()
    conn.connect("/", auth={"token": "abc"})         # queue CONNECT
    for payload in conn.data_to_send(): ...           # Engine.IO message payloads to send
    conn.receive_message(payload)                     # every message from the server
    while (event := conn.next_event()) is not None:   # NamespaceConnected, ServerEvent, ...
        ...

Per namespace the client goes ABSENT --connect--> CONNECTING --CONNECT reply--> CONNECTED,
and back to ABSENT on CONNECT_ERROR, a server DISCONNECT, :meth:`ClientConnection.disconnect`
or :meth:`ClientConnection.close` (reusing :class:`~thinkio.socketio.NamespaceState`).

Like socket.io-client, packets for a namespace that is not in a state to take them (an event
for a namespace the client has just left, a CONNECT reply nobody asked for) are ignored: they
can legitimately cross a DISCONNECT on the wire. A packet that does not decode is an error
(PROTOCOL.md 2.2): :meth:`ClientConnection.receive_message` raises and the caller closes the
Engine.IO session with ``"parse error"``.

Acks the client asks for take ids from a per-namespace :class:`AckRegistry` counting from 0,
as Node's client does. Their timeouts belong to the caller (a cancel scope around the wait);
:meth:`ClientConnection.cancel_ack` forgets an id whose waiter gave up, and every pending ack
of a namespace that goes away is reported as :class:`AckFailed`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ..errors import LocalProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from ._state import NamespaceState
from .acks import AckRegistry
from .events import NamedArgs
from .packets import Packet, PacketType
from .parsers import DEFAULT_PARSER, Parser

__all__ = (
    "AckFailed",
    "ClientConnection",
    "ClientEvent",
    "NamespaceClosed",
    "NamespaceConnected",
    "NamespaceRefused",
    "ServerAck",
    "ServerEvent",
)

#: Disconnect reasons a client reports (socket.io-client's names).
IO_SERVER_DISCONNECT = "io server disconnect"
IO_CLIENT_DISCONNECT = "io client disconnect"


@dataclass(frozen=True, slots=True)
class NamespaceConnected:
    """The server accepted the CONNECT (PROTOCOL.md 2.4).

    Attributes:
        namespace: the namespace joined.
        sid: the socket id the server gave it (not the Engine.IO sid).
    """

    namespace: str
    sid: str


@dataclass(frozen=True, slots=True)
class NamespaceRefused:
    """The server answered the CONNECT with CONNECT_ERROR (PROTOCOL.md 2.4).

    Attributes:
        namespace: the namespace refused.
        message: the error message (``"Invalid namespace"``, a middleware's message).
        data: the error's ``data``, or None.
    """

    namespace: str
    message: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class NamespaceClosed:
    """A joined namespace is gone (PROTOCOL.md 2.6).

    Attributes:
        namespace: the namespace.
        reason: ``"io server disconnect"`` (the server sent DISCONNECT),
            ``"io client disconnect"`` (:meth:`ClientConnection.disconnect`), or the reason
            given to :meth:`ClientConnection.close` (the Engine.IO close reason).
    """

    namespace: str
    reason: str


@dataclass(frozen=True, slots=True)
class ServerEvent(NamedArgs):
    """The server emitted an event (PROTOCOL.md 2.5).

    Attributes:
        namespace: the namespace it came on.
        args: ``[name, *arguments]``, with ``bytes`` where the server sent binary.
        ack_id: the id to answer with :meth:`ClientConnection.ack`, or None.
    """

    namespace: str
    args: list[Any]
    ack_id: int | None = None


@dataclass(frozen=True, slots=True)
class ServerAck:
    """The server answered one of the client's acks.

    Attributes:
        namespace: the namespace.
        ack_id: the id :meth:`ClientConnection.emit` returned.
        args: the values the server's ack callback was called with.
    """

    namespace: str
    ack_id: int
    args: list[Any]


@dataclass(frozen=True, slots=True)
class AckFailed:
    """A pending ack will never be answered: its namespace went away.

    Attributes:
        namespace: the namespace.
        ack_id: the id :meth:`ClientConnection.emit` returned.
        reason: the namespace's close reason.
    """

    namespace: str
    ack_id: int
    reason: str


ClientEvent = (
    NamespaceConnected | NamespaceRefused | NamespaceClosed | ServerEvent | ServerAck | AckFailed
)

_S = NamespaceState


class _AckToken:
    """What the ack registry holds for one pending ack: its own id."""

    __slots__ = ("ack_id",)

    def __init__(self) -> None:
        self.ack_id = -1


class ClientConnection:
    """The client's Socket.IO state over one Engine.IO session.

    Args:
        limits: decoder bounds and the most pending acks per namespace.
        parser: the wire format (:mod:`.parsers`); the server must use the same one.
    """

    def __init__(self, *, limits: Limits = DEFAULT_LIMITS, parser: Parser = DEFAULT_PARSER) -> None:
        self._limits = limits
        self._decoder = parser.new_decoder(limits)
        self._encode = parser.encode
        self._states: dict[str, NamespaceState] = {}
        self._sids: dict[str, str] = {}
        self._acks: dict[str, AckRegistry[_AckToken]] = {}
        self._events: deque[ClientEvent] = deque()
        self._outbox: list[str | bytes] = []
        self._closed = False

    # -- inspection -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def state_of(self, namespace: str) -> NamespaceState:
        """Where a namespace stands (ABSENT for one never joined)."""
        return self._states.get(namespace, _S.ABSENT)

    def sid_of(self, namespace: str) -> str | None:
        """The socket id of a joined namespace, or None."""
        return self._sids.get(namespace)

    @property
    def namespaces(self) -> frozenset[str]:
        """The namespaces joined (CONNECTED)."""
        return frozenset(n for n, s in self._states.items() if s is _S.CONNECTED)

    def next_event(self) -> ClientEvent | None:
        """The next event, or None."""
        return self._events.popleft() if self._events else None

    def data_to_send(self) -> list[str | bytes]:
        """Take the queued Engine.IO message payloads (text headers and attachments)."""
        out, self._outbox = self._outbox, []
        return out

    # -- client actions ---------------------------------------------------------------------

    def connect(self, namespace: str, auth: dict[str, Any] | None = None) -> None:
        """Queue CONNECT for ``namespace``, with the auth payload if any (PROTOCOL.md 2.4).

        Raises:
            LocalProtocolError: the namespace is already joined or being joined, its name is
                invalid, ``auth`` is not a dict, or the connection is closed.
        """
        self._check_open()
        if self.state_of(namespace) is not _S.ABSENT:
            state = self.state_of(namespace).value
            raise LocalProtocolError(f"namespace {namespace!r} is already {state}")
        payloads = self._encode(Packet(PacketType.CONNECT, namespace, auth))
        self._states[namespace] = _S.CONNECTING
        self._outbox.extend(payloads)

    def disconnect(self, namespace: str) -> None:
        """Queue DISCONNECT and leave the namespace (PROTOCOL.md 2.6).

        Reports :class:`NamespaceClosed` (``"io client disconnect"``) and fails its pending
        acks. Leaving a namespace that is not joined (or being joined) does nothing.
        """
        if self._closed or self.state_of(namespace) is _S.ABSENT:
            return
        self._outbox.extend(self._encode(Packet(PacketType.DISCONNECT, namespace)))
        self._leave(namespace, IO_CLIENT_DISCONNECT)

    def emit(self, namespace: str, args: list[Any], *, ack: bool = False) -> int | None:
        """Queue an EVENT (BINARY_EVENT when ``args`` holds bytes), PROTOCOL.md 2.5.

        Args:
            namespace: a joined namespace.
            args: ``[name, *arguments]``.
            ack: ask the server for an answer; it comes back as :class:`ServerAck`.

        Returns:
            The ack id when ``ack`` is set, else None.

        Raises:
            LocalProtocolError: the namespace is not joined, the name is reserved or missing,
                the data cannot be encoded, or too many acks are pending.
        """
        self._check_connected(namespace)
        ack_id: int | None = None
        if ack:
            # The registry hands tokens back on clear(); the token is the id's own box.
            token = _AckToken()
            ack_id = token.ack_id = self._acks[namespace].register(token)
        try:
            payloads = self._encode(Packet(PacketType.EVENT, namespace, args, ack_id))
        except LocalProtocolError:
            if ack_id is not None:
                self._acks[namespace].pop(ack_id)
            raise
        self._outbox.extend(payloads)
        return ack_id

    def ack(self, namespace: str, ack_id: int, args: list[Any]) -> None:
        """Answer the server's ack request ``ack_id`` with ``args`` (PROTOCOL.md 2.5).

        Raises:
            LocalProtocolError: the namespace is not joined or the values cannot be encoded.
        """
        self._check_connected(namespace)
        self._outbox.extend(self._encode(Packet(PacketType.ACK, namespace, args, ack_id)))

    def cancel_ack(self, namespace: str, ack_id: int) -> None:
        """Forget a pending ack (its waiter timed out); a late answer is then ignored."""
        registry = self._acks.get(namespace)
        if registry is not None:
            registry.pop(ack_id)

    def close(self, reason: str) -> None:
        """The Engine.IO session is gone: every namespace is closed with ``reason``.

        Joined namespaces report :class:`NamespaceClosed`; pending acks :class:`AckFailed`.
        Namespaces still CONNECTING are dropped silently. Idempotent.
        """
        for namespace in list(self._states):
            self._leave(namespace, reason)
        self._outbox = []
        self._closed = True

    # -- server input -----------------------------------------------------------------------

    def receive_message(self, data: str | bytes) -> None:
        """Feed one Engine.IO message payload from the server.

        Raises:
            RemoteProtocolError: it is not a valid packet (PROTOCOL.md 2.2). Close the
                Engine.IO session ("parse error"), then call :meth:`close`.
            LocalProtocolError: the connection is closed.
        """
        self._check_open()
        packet = self._decoder.feed(data)
        if packet is not None:
            self._on_packet(packet)

    def _on_packet(self, packet: Packet) -> None:
        namespace, ptype = packet.namespace, packet.type
        state = self.state_of(namespace)
        if ptype is PacketType.CONNECT:
            if state is not _S.CONNECTING:
                return
            sid = packet.data.get("sid") if isinstance(packet.data, dict) else None
            if not isinstance(sid, str) or not sid:
                # What socket.io-client says when a v2 server answers a v3+ client.
                self._refuse(namespace, "CONNECT reply without a sid (a Socket.IO v2 server?)")
                return
            self._states[namespace] = _S.CONNECTED
            self._sids[namespace] = sid
            self._acks[namespace] = AckRegistry(self._limits.max_pending_acks)
            self._events.append(NamespaceConnected(namespace, sid))
        elif ptype is PacketType.CONNECT_ERROR:
            if state is _S.ABSENT:
                return
            data = packet.data
            if isinstance(data, dict):
                message = data.get("message")
                self._refuse(namespace, str(message), data.get("data"))
            else:
                self._refuse(namespace, str(data))
        elif state is not _S.CONNECTED:
            return
        elif ptype is PacketType.DISCONNECT:
            self._leave(namespace, IO_SERVER_DISCONNECT)
        elif ptype in (PacketType.EVENT, PacketType.BINARY_EVENT):
            self._events.append(ServerEvent(namespace, packet.data, packet.id))
        else:  # ACK, BINARY_ACK: the decoder guarantees an id; unknown ids are ignored (2.5).
            assert packet.id is not None
            if self._acks[namespace].pop(packet.id) is not None:
                self._events.append(ServerAck(namespace, packet.id, packet.data))

    # -- internals --------------------------------------------------------------------------

    def _refuse(self, namespace: str, message: str, data: Any = None) -> None:
        self._leave(namespace, "connect error", report=False)
        self._events.append(NamespaceRefused(namespace, message, data))

    def _leave(self, namespace: str, reason: str, *, report: bool = True) -> None:
        state = self._states.pop(namespace, _S.ABSENT)
        self._sids.pop(namespace, None)
        registry = self._acks.pop(namespace, None)
        if state is _S.CONNECTED and report:
            self._events.append(NamespaceClosed(namespace, reason))
        if registry is not None:
            for token in registry.clear():
                self._events.append(AckFailed(namespace, token.ack_id, reason))

    def _check_open(self) -> None:
        if self._closed:
            raise LocalProtocolError("the Socket.IO connection is closed")

    def _check_connected(self, namespace: str) -> None:
        self._check_open()
        if self.state_of(namespace) is not _S.CONNECTED:
            raise LocalProtocolError(
                f"namespace {namespace!r} is {self.state_of(namespace).value}, not connected"
            )
