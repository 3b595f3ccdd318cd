"""One Engine.IO session's Socket.IO side: namespaces multiplexed over it (PROTOCOL.md 2.3-2.6).

Sans-IO, in the manner of h11's ``Connection``::

    conn = Connection(now=clock())
    conn.receive_message(payload, now=clock())      # every Engine.IO message payload
    while (event := conn.next_event()) is not None:
        ...                                         # ConnectRequest -> conn.accept(...)
    for payload in conn.data_to_send():
        ...                                         # Engine.IO message payloads to send

The per-namespace rules live in :mod:`._state`. Errors:

* :class:`~thinkio.errors.RemoteProtocolError` from :meth:`Connection.receive_message` or
  :meth:`Connection.handle_timeout`: close the Engine.IO session with ``err.close_reason``
  ("parse error" for bad packets and bad states, "connect timeout" for the connect timer),
  then call :meth:`Connection.close` with the reason to get the namespace disconnects.
* :class:`~thinkio.errors.LocalProtocolError` from the server methods: the caller sent in a
  state that does not allow it (e.g. an emit on a namespace not joined, or after close).
  An async app that may race a disconnect should check :meth:`Connection.state_of` first.

Protocol 4 (socket.io 2.x, PROTOCOL.md 4): the server joins ``/`` without a CONNECT from the
client. The connection therefore starts with ``/`` CONNECTING and a ``ConnectRequest("/", {})``
waiting in :meth:`Connection.next_event`; answering it with :meth:`Connection.accept` sends
the ``0`` the 2.x client waits for.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from ._state import CLIENT_TRIGGERS, TRANSITIONS, NamespaceState, NamespaceTrigger
from .events import AckReceived, ConnectRequest, Event, EventReceived, NamespaceDisconnected
from .packets import Packet, PacketType
from .parsers import DEFAULT_PARSER, Parser

__all__ = ("INVALID_NAMESPACE", "Connection")

_ABSENT = NamespaceState.ABSENT
_CONNECTED = NamespaceState.CONNECTED
#: Makes a NamedTuple from its fields in C (its own ``__new__`` is a Python function).
_new_tuple = tuple.__new__
_EVENT = PacketType.EVENT  # (read per message: a global is cheaper than the enum's hook)
# (and these once per connection)
_CONNECT = PacketType.CONNECT
_CLIENT_CONNECT = NamespaceTrigger.CLIENT_CONNECT
_SERVER_ACCEPT = NamespaceTrigger.SERVER_ACCEPT

#: The message Node sends for a namespace that does not exist (PROTOCOL.md 2.4).
INVALID_NAMESPACE = "Invalid namespace"


class Connection:
    """The Socket.IO state of one Engine.IO session.

    Args:
        limits: the bounds to enforce (decoder limits, namespaces per connection).
        protocol: the client's Socket.IO protocol: 5 (Engine.IO v4 clients) or 4 (socket.io
            2.x over Engine.IO v3).
        now: the current time, in seconds, on the caller's clock.
        connect_timeout: seconds the client has to join a namespace; None for no limit.
            Node's default is 45 s; the official suite expects 1 s (PROTOCOL.md 2.3).
        parser: the wire format (:mod:`.parsers`); chosen here, once for the connection.
    """

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        protocol: int = 5,
        now: float,
        connect_timeout: float | None = 45.0,
        parser: Parser = DEFAULT_PARSER,
    ) -> None:
        self._decoder = parser.new_decoder(limits, protocol=protocol)
        self._encode = parser.encode
        self._encode_ack = parser.encode_ack
        self._encode_event = parser.encode_event
        self._encode_connect = parser.encode_connect
        self._limits = limits
        self._protocol = protocol
        self._states: dict[str, NamespaceState] = {}
        self._events: deque[Event] = deque()
        self._outbox: list[str | bytes] = []
        self._deadline = None if connect_timeout is None else now + connect_timeout
        self._closed = False
        if protocol == 4:
            # PROTOCOL.md 4: socket.io 2.x clients are joined to "/" by the server.
            self._states["/"] = NamespaceState.CONNECTING
            self._events.append(ConnectRequest("/", {}))

    # ------------------------------------------------------------------ inspection

    @property
    def protocol(self) -> int:
        """The Socket.IO protocol revision of the client (5 or 4)."""
        return self._protocol

    @property
    def namespaces(self) -> frozenset[str]:
        """The namespaces joined (CONNECTED), not those still being connected."""
        return frozenset(n for n, s in self._states.items() if s is NamespaceState.CONNECTED)

    @property
    def closed(self) -> bool:
        """True after :meth:`close` or after a RemoteProtocolError."""
        return self._closed

    def state_of(self, namespace: str) -> NamespaceState:
        """Where a namespace stands (ABSENT for one never seen)."""
        return self._states.get(namespace, _ABSENT)

    # ------------------------------------------------------------------ input

    def receive_message(self, data: str | bytes, now: float) -> None:
        """Feed one Engine.IO message payload (text or binary) from the client.

        The connect timer is checked first, so a CONNECT arriving after the deadline is too
        late even if :meth:`handle_timeout` was not called in time.

        Args:
            data: the message payload, without the Engine.IO ``4`` prefix.
            now: the current time, in seconds.

        Raises:
            RemoteProtocolError: the message is not a valid packet (PROTOCOL.md 2.2), breaks
                the namespace rules (2.3), exceeds ``limits.max_namespaces_per_connection``,
                or the connect timer ran out. The connection is closed afterwards.
            LocalProtocolError: the connection is already closed.
        """
        if self._closed:
            self._check_open()
        if self._deadline is not None and now >= self._deadline:
            self.handle_timeout(now)
        try:
            if type(data) is str and self._states.get("/") is _CONNECTED:
                # The common packet straight to its event (no Packet in between).
                common = self._decoder.decode_common(data)
                if common is not None:
                    kind, ack_id, args = common
                    if kind is _EVENT:
                        self._events.append(_new_tuple(EventReceived, ("/", args, ack_id)))
                        return
                    if ack_id is not None:
                        self._events.append(_new_tuple(AckReceived, ("/", ack_id, args)))
                        return
            packet = self._decoder.feed(data)
            if packet is not None:
                self._on_packet(packet)
        except RemoteProtocolError:
            self._closed = True
            raise

    def _on_packet(self, packet: Packet) -> None:
        namespace = packet.namespace
        ptype = packet.type
        if self._states.get(namespace) is _CONNECTED:
            # The table's answer for the common packets, without the lookups: an EVENT or
            # ACK keeps a joined namespace joined.
            if ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT:
                self._events.append(EventReceived(namespace, packet.data, packet.id))
                return
            if (
                ptype is PacketType.ACK or ptype is PacketType.BINARY_ACK
            ) and packet.id is not None:
                self._events.append(AckReceived(namespace, packet.id, packet.data))
                return
        trigger = CLIENT_TRIGGERS[ptype]
        state = self._states.get(namespace, _ABSENT)
        new_state = TRANSITIONS.get((state, trigger))
        if new_state is None:
            raise RemoteProtocolError(
                f"{trigger.value} for namespace {namespace!r} in state {state.value}"
            )
        if trigger is _CLIENT_CONNECT:
            if len(self._states) >= self._limits.max_namespaces_per_connection:
                raise RemoteProtocolError("too many namespaces on one connection")
            auth = packet.data if packet.data is not None else {}
            self._events.append(_new_tuple(ConnectRequest, (namespace, auth)))
        elif trigger is NamespaceTrigger.CLIENT_EVENT:
            self._events.append(EventReceived(namespace, packet.data, packet.id))
        elif trigger is NamespaceTrigger.CLIENT_ACK:
            assert packet.id is not None  # the decoder guarantees it
            self._events.append(AckReceived(namespace, packet.id, packet.data))
        else:  # CLIENT_DISCONNECT: nothing is sent back (PROTOCOL.md 2.6)
            self._events.append(NamespaceDisconnected(namespace, "client namespace disconnect"))
        self._set_state(namespace, new_state)

    def next_event(self) -> Event | None:
        """The next event from the client, or None when there is none left."""
        return self._events.popleft() if self._events else None

    # ------------------------------------------------------------------ timers

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` should run next, or None."""
        return None if self._closed else self._deadline

    def handle_timeout(self, now: float) -> None:
        """Run the connect timer (PROTOCOL.md 2.3).

        As in Node, the check happens once, at the deadline: if no namespace is joined then
        (one still CONNECTING does not count), the connection must be closed.

        Raises:
            RemoteProtocolError: with ``close_reason="connect timeout"``, when the deadline
                has passed and no namespace is joined. The connection is closed afterwards.
        """
        if self._deadline is None or now < self._deadline or self._closed:
            return
        self._deadline = None
        if not self.namespaces:
            self._closed = True
            raise RemoteProtocolError(
                "no namespace joined before the connect timeout", close_reason="connect timeout"
            )

    # ------------------------------------------------------------------ server side

    def accept(self, namespace: str, sid: str, pid: str | None = None) -> None:
        """Accept a CONNECT: queue ``0[nsp,]{"sid":...}`` (PROTOCOL.md 2.4).

        Args:
            namespace: a namespace in state CONNECTING.
            sid: the socket id: fresh and random, not the Engine.IO sid (protocol 5).
            pid: the private session id of connection state recovery (PROTOCOL.md 2.7),
                sent as ``{"sid":...,"pid":...}``; None when recovery is off.

        Protocol 4 sends ``0[nsp,]`` with no payload; ``sid`` and ``pid`` are not sent.

        Raises:
            LocalProtocolError: the namespace is not CONNECTING, or the connection is closed.
        """
        if self._protocol == 4:
            data = None
        elif pid is None:
            data = {"sid": sid}
        else:
            data = {"sid": sid, "pid": pid}
        new_state = self._next_state(namespace, _SERVER_ACCEPT)
        if self._encode_connect is not None:  # (a parser's shortcut for the usual packet)
            payloads = self._encode_connect(namespace, data, self._protocol)
        else:
            payloads = self._encode(Packet(_CONNECT, namespace, data), protocol=self._protocol)
        self._set_state(namespace, new_state)
        self._outbox.extend(payloads)
        # The connect timer is over once a namespace is joined (Node clears it then too).
        self._deadline = None

    def reject(self, namespace: str, message: str, data: Any = None) -> None:
        """Refuse a CONNECT: queue CONNECT_ERROR and forget the namespace (PROTOCOL.md 2.4).

        Protocol 5 sends ``{"message": message, "data": data}`` (``data`` left out when
        None). Protocol 4 sends ``data`` if it is not None, else ``message``, as a JSON value
        (Node: ``err.data || err.message``). The Engine.IO session stays open.

        Raises:
            LocalProtocolError: the namespace is not CONNECTING, the connection is closed, or
                ``data`` cannot be encoded.
        """
        if self._protocol == 4:
            payload: Any = data if data is not None else message
        else:
            payload = {"message": message} if data is None else {"message": message, "data": data}
        packet = Packet(PacketType.CONNECT_ERROR, namespace, payload)
        self._transition(namespace, NamespaceTrigger.SERVER_REJECT, packet)

    def reject_invalid_namespace(self, namespace: str) -> None:
        """Refuse a CONNECT to a namespace that does not exist (PROTOCOL.md 2.4).

        Sends ``4<nsp>,{"message":"Invalid namespace"}`` in both protocols (Node sends the
        object form even to 2.x clients).

        Raises:
            LocalProtocolError: the namespace is not CONNECTING, or the connection is closed.
        """
        packet = Packet(PacketType.CONNECT_ERROR, namespace, {"message": INVALID_NAMESPACE})
        self._transition(namespace, NamespaceTrigger.SERVER_REJECT, packet)

    def emit(self, namespace: str, args: list[Any], *, ack_id: int | None = None) -> None:
        """Queue an EVENT (BINARY_EVENT when ``args`` holds bytes), PROTOCOL.md 2.5.

        Args:
            namespace: a joined namespace.
            args: ``[name, *arguments]``.
            ack_id: the id from the socket's AckRegistry when an answer is wanted.

        Raises:
            LocalProtocolError: the namespace is not joined, the connection is closed, or the
                packet is not allowed (reserved or missing event name, unencodable data).
        """
        if self._closed or self._states.get(namespace) is not _CONNECTED:
            self._check_sendable(namespace, NamespaceTrigger.SERVER_EMIT)  # raises the right error
        self._outbox.extend(self._encode_event(namespace, args, ack_id))

    def ack(self, namespace: str, ack_id: int, args: list[Any]) -> None:
        """Answer the client's ack ``ack_id`` with ``args`` (PROTOCOL.md 2.5).

        Sending at most once per id is the caller's job (Node ignores later calls).

        Raises:
            LocalProtocolError: the namespace is not joined, the connection is closed, or the
                values cannot be encoded.
        """
        if self._closed or self._states.get(namespace) is not _CONNECTED:
            self._check_sendable(namespace, NamespaceTrigger.SERVER_ACK)  # raises the right error
        self._outbox.extend(self._encode_ack(namespace, ack_id, args))

    def disconnect(self, namespace: str) -> None:
        """Queue ``1[nsp,]`` and forget the namespace (PROTOCOL.md 2.6).

        No NamespaceDisconnected event is produced: the caller made this happen. To close the
        whole Engine.IO session instead, close it and call :meth:`close`.

        Raises:
            LocalProtocolError: the namespace is not joined, or the connection is closed.
        """
        self._transition(
            namespace, NamespaceTrigger.SERVER_DISCONNECT, Packet(PacketType.DISCONNECT, namespace)
        )

    def data_to_send(self) -> list[str | bytes]:
        """Take the queued Engine.IO message payloads: text headers and attachments, in order."""
        out, self._outbox = self._outbox, []
        return out

    def close(self, reason: str) -> None:
        """The Engine.IO session is gone: disconnect every namespace (PROTOCOL.md 2.6).

        Queues a :class:`NamespaceDisconnected` with ``reason`` for each joined namespace.
        Namespaces still CONNECTING are dropped silently (their sockets never existed).
        Anything not yet taken from :meth:`data_to_send` is discarded. Idempotent in effect:
        a second call finds no namespaces left.

        Args:
            reason: the Engine.IO close reason ("transport close", "ping timeout", ...).
        """
        for namespace in self.namespaces:
            self._events.append(NamespaceDisconnected(namespace, reason))
        self._states.clear()
        self._outbox = []
        self._deadline = None
        self._closed = True

    # ------------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._closed:
            raise LocalProtocolError("the Socket.IO connection is closed")

    def _check_sendable(self, namespace: str, trigger: NamespaceTrigger) -> None:
        # Fast path of _transition for triggers that keep the state CONNECTED.
        self._check_open()
        if self._states.get(namespace) is not NamespaceState.CONNECTED:
            state = self._states.get(namespace, _ABSENT)
            raise LocalProtocolError(
                f"cannot {trigger.value} on namespace {namespace!r} in state {state.value}"
            )

    def _next_state(self, namespace: str, trigger: NamespaceTrigger) -> NamespaceState:
        """Where ``trigger`` takes the namespace (TRANSITIONS); nothing changes yet.

        Raises:
            LocalProtocolError: the table does not allow it, or the connection is closed.
        """
        self._check_open()
        state = self._states.get(namespace, _ABSENT)
        new_state = TRANSITIONS.get((state, trigger))
        if new_state is None:
            raise LocalProtocolError(
                f"cannot {trigger.value} on namespace {namespace!r} in state {state.value}"
            )
        return new_state

    def _transition(self, namespace: str, trigger: NamespaceTrigger, packet: Packet) -> None:
        # Encode before changing state, so a packet that cannot be sent changes nothing.
        new_state = self._next_state(namespace, trigger)
        payloads = self._encode(packet, protocol=self._protocol)
        self._set_state(namespace, new_state)
        self._outbox.extend(payloads)

    def _set_state(self, namespace: str, state: NamespaceState) -> None:
        if state is _ABSENT:
            self._states.pop(namespace, None)
        else:
            self._states[namespace] = state
