"""The per-namespace state machine of a Socket.IO connection, as a table.

Theory of operation (PROTOCOL.md 2.3, Node's ``Client.ondecoded``): one Engine.IO session
multiplexes namespaces. Each namespace is in one of three states. A client CONNECT starts
the join; the server answers it (accept or reject); a joined namespace carries events and
acks both ways until either side disconnects it.

::

    ABSENT --client CONNECT--> CONNECTING --server accept--> CONNECTED
       ^                          |                            |  ^
       +------server reject-------+                            |  | events, acks
       +------client DISCONNECT / server disconnect------------+--+

Any (state, trigger) pair missing from :data:`TRANSITIONS` is a protocol violation. When the
trigger comes from the client, the whole connection is closed (RemoteProtocolError): an
EVENT/ACK/DISCONNECT for a namespace not joined, a CONNECT for one joined or being joined,
and any CONNECT_ERROR from the client. When it comes from the server, the caller is at fault
(LocalProtocolError).
"""

from __future__ import annotations

from enum import Enum

from .packets import PacketType

__all__ = ("CLIENT_TRIGGERS", "TRANSITIONS", "NamespaceState", "NamespaceTrigger")


class NamespaceState(Enum):
    """Where one namespace of a connection stands."""

    # Members are singletons, so identity is their hash: in C, where Enum's own ``__hash__``
    # is a Python call (two per TRANSITIONS lookup, two lookups per namespace joined).
    __hash__ = object.__hash__

    #: Not joined, and no CONNECT pending.
    ABSENT = "absent"
    #: The client sent CONNECT; the server has not answered yet.
    CONNECTING = "connecting"
    #: Joined: the server sent the CONNECT reply.
    CONNECTED = "connected"


class NamespaceTrigger(Enum):
    """What can happen to a namespace: a packet from the client or a call by the server."""

    __hash__ = object.__hash__  # (as NamespaceState's)

    #: The client sent CONNECT (0).
    CLIENT_CONNECT = "client CONNECT"
    #: The client sent DISCONNECT (1).
    CLIENT_DISCONNECT = "client DISCONNECT"
    #: The client sent EVENT or BINARY_EVENT (2, 5).
    CLIENT_EVENT = "client EVENT"
    #: The client sent ACK or BINARY_ACK (3, 6).
    CLIENT_ACK = "client ACK"
    #: The client sent CONNECT_ERROR (4): only servers send it, so it is always an error.
    CLIENT_CONNECT_ERROR = "client CONNECT_ERROR"
    #: The server accepted a CONNECT.
    SERVER_ACCEPT = "accept"
    #: The server refused a CONNECT (CONNECT_ERROR).
    SERVER_REJECT = "reject"
    #: The server sent an EVENT (or pre-encoded packets).
    SERVER_EMIT = "emit"
    #: The server answered a client's ack.
    SERVER_ACK = "ack"
    #: The server sent DISCONNECT.
    SERVER_DISCONNECT = "disconnect"


ABSENT = NamespaceState.ABSENT
CONNECTING = NamespaceState.CONNECTING
CONNECTED = NamespaceState.CONNECTED

#: (state, trigger) -> next state. Everything not listed is a protocol violation.
TRANSITIONS: dict[tuple[NamespaceState, NamespaceTrigger], NamespaceState] = {
    (ABSENT, NamespaceTrigger.CLIENT_CONNECT): CONNECTING,
    (CONNECTING, NamespaceTrigger.SERVER_ACCEPT): CONNECTED,
    (CONNECTING, NamespaceTrigger.SERVER_REJECT): ABSENT,
    (CONNECTED, NamespaceTrigger.CLIENT_EVENT): CONNECTED,
    (CONNECTED, NamespaceTrigger.CLIENT_ACK): CONNECTED,
    (CONNECTED, NamespaceTrigger.CLIENT_DISCONNECT): ABSENT,
    (CONNECTED, NamespaceTrigger.SERVER_EMIT): CONNECTED,
    (CONNECTED, NamespaceTrigger.SERVER_ACK): CONNECTED,
    (CONNECTED, NamespaceTrigger.SERVER_DISCONNECT): ABSENT,
}

#: The trigger each decoded packet type fires.
CLIENT_TRIGGERS: dict[PacketType, NamespaceTrigger] = {
    PacketType.CONNECT: NamespaceTrigger.CLIENT_CONNECT,
    PacketType.DISCONNECT: NamespaceTrigger.CLIENT_DISCONNECT,
    PacketType.EVENT: NamespaceTrigger.CLIENT_EVENT,
    PacketType.BINARY_EVENT: NamespaceTrigger.CLIENT_EVENT,
    PacketType.ACK: NamespaceTrigger.CLIENT_ACK,
    PacketType.BINARY_ACK: NamespaceTrigger.CLIENT_ACK,
    PacketType.CONNECT_ERROR: NamespaceTrigger.CLIENT_CONNECT_ERROR,
}
