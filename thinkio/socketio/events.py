"""What a Socket.IO :class:`~thinkio.socketio.connection.Connection` reports to its user.

Immutable records, like h11's events: each one is a fact about the peer, in the order it
happened. Payload lists are the decoded JSON, with ``bytes`` where the client sent binary.
They are named tuples rather than frozen dataclasses because one is made for every packet a
client sends, and a frozen dataclass costs twice as much to build (callgrind: about 5,900
instructions against 3,200).
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeAlias

__all__ = (
    "AckReceived",
    "ConnectRequest",
    "Event",
    "EventReceived",
    "NamespaceDisconnected",
)


class NamedArgs:
    """``name`` and ``params`` of an event's data, ``[name, *arguments]`` (a mixin)."""

    __slots__ = ()

    args: list[Any]

    @property
    def name(self) -> str | int | float:
        """The event name (a string, or a number, which the protocol allows)."""
        name: str | int | float = self.args[0]
        return name

    @property
    def params(self) -> list[Any]:
        """The arguments after the event name."""
        return self.args[1:]


class ConnectRequest(NamedTuple):
    """The client asks to join a namespace (PROTOCOL.md 2.4).

    Answer with :meth:`Connection.accept`, :meth:`Connection.reject` or
    :meth:`Connection.reject_invalid_namespace`.

    Attributes:
        namespace: the namespace, e.g. ``"/"`` or ``"/admin"``.
        auth: the CONNECT payload, or ``{}`` when there was none. Protocol 4: the query of
            the namespace (``0/admin?token=abc,`` gives ``{"token": "abc"}``); for the
            implicit ``/`` connect it is ``{}`` (the handshake query holds the rest).
    """

    namespace: str
    auth: dict[str, Any]


class EventReceived(NamedTuple):
    """The client emitted an event (PROTOCOL.md 2.5).

    Attributes:
        namespace: the namespace it was sent on.
        args: the whole packet data, ``[name, *arguments]`` like Node's ``packet.data``.
        ack_id: the id to answer with :meth:`Connection.ack`, or None when no ack was asked.
    """

    namespace: str
    args: list[Any]
    ack_id: int | None = None

    @property
    def name(self) -> str | int | float:
        """The event name (a string, or a number, which the protocol allows)."""
        name: str | int | float = self.args[0]
        return name

    @property
    def params(self) -> list[Any]:
        """The arguments after the event name."""
        return self.args[1:]


class AckReceived(NamedTuple):
    """The client answered an ack the server asked for (PROTOCOL.md 2.5).

    The id may be unknown to the server (already answered or timed out): look it up in the
    socket's :class:`~thinkio.socketio.acks.AckRegistry` and ignore it if it is not there.

    Attributes:
        namespace: the namespace it was sent on.
        ack_id: the id of the server's EVENT.
        args: the values passed to the client's ack callback.
    """

    namespace: str
    ack_id: int
    args: list[Any]


class NamespaceDisconnected(NamedTuple):
    """A joined namespace is gone (PROTOCOL.md 2.6).

    Attributes:
        namespace: the namespace.
        reason: ``"client namespace disconnect"`` when the client sent DISCONNECT; otherwise
            the reason given to :meth:`Connection.close` (the Engine.IO close reason:
            ``"transport close"``, ``"ping timeout"``, ``"parse error"``, ...).
    """

    namespace: str
    reason: str


#: Any event a :class:`~thinkio.socketio.connection.Connection` reports.
Event: TypeAlias = ConnectRequest | EventReceived | AckReceived | NamespaceDisconnected
