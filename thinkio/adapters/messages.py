"""The operations servers of a cluster send each other, as typed, frozen messages.

Every cluster adapter (Redis pub/sub and sharded, Redis Streams, the worker bus) sends and
receives these and nothing else; each transport only has a codec that turns them into its
wire format and back (:mod:`.wire` for Node's classic Redis adapter, :mod:`.cluster_codec`
for Node's ``ClusterAdapter`` model). :class:`~.cluster.ClusterAdapter` sends them and
applies the ones it receives to this server's sockets.

Requests (they carry a ``request_id`` and are answered with a :data:`Response`):
:class:`FetchSockets`, :class:`AllRooms`, :class:`ServerSideEmit` with an id,
:class:`Broadcast` with an id (an acked broadcast, answered with one
:class:`BroadcastClientCount` per server then one :class:`BroadcastAck` per client), and
:class:`RestoreSession` (connection state recovery across servers, answered with a
:class:`RestoreSessionResponse` by every server; the one that kept the session hands it over).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..server.adapter import BroadcastOptions

__all__ = (
    "AllRooms",
    "AllRoomsResponse",
    "Broadcast",
    "BroadcastAck",
    "BroadcastClientCount",
    "DisconnectSockets",
    "FetchSockets",
    "FetchSocketsResponse",
    "HandedSession",
    "Message",
    "Response",
    "RestoreSession",
    "RestoreSessionResponse",
    "ServerSideEmit",
    "ServerSideEmitResponse",
    "SocketsJoin",
    "SocketsLeave",
    "new_request_id",
)


def new_request_id() -> str:
    """A fresh request id (16 hex digits, as Node's ``ClusterAdapter`` makes them)."""
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class Broadcast:
    """An EVENT to the target sockets; with ``request_id``, every client acks it."""

    opts: BroadcastOptions
    #: ``[event, *args]``.
    data: list[Any]
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class SocketsJoin:
    """The target sockets join ``rooms`` (Node's ``socketsJoin``)."""

    opts: BroadcastOptions
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SocketsLeave:
    """The target sockets leave ``rooms`` (Node's ``socketsLeave``)."""

    opts: BroadcastOptions
    rooms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DisconnectSockets:
    """The target sockets are disconnected; with ``close``, their whole session."""

    opts: BroadcastOptions
    close: bool = False


@dataclass(frozen=True, slots=True)
class FetchSockets:
    """Describe the target sockets (answered with :class:`FetchSocketsResponse`)."""

    opts: BroadcastOptions
    request_id: str


@dataclass(frozen=True, slots=True)
class AllRooms:
    """List every room (answered with :class:`AllRoomsResponse`)."""

    request_id: str


@dataclass(frozen=True, slots=True)
class ServerSideEmit:
    """``[event, *args]`` for the server-side handlers; with ``request_id``, answered."""

    data: list[Any]
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class RestoreSession:
    """Hand over the dropped session ``pid`` whose client's last packet was ``offset``
    (answered with :class:`RestoreSessionResponse`)."""

    pid: str
    offset: str
    request_id: str


@dataclass(frozen=True, slots=True)
class HandedSession:
    """A dropped session one server hands to another (and forgets)."""

    sid: str
    pid: str
    rooms: tuple[str, ...]
    data: Any
    #: The EVENT payloads it missed on the server that kept it, in the order it kept them.
    missed: tuple[list[Any], ...]
    #: That server's :meth:`~thinkio.server.recovery.RecoveryStore.heard` when it handed
    #: the session over: which broadcasts ``missed`` (or the client) already accounts for.
    heard: dict[str, int]


@dataclass(frozen=True, slots=True)
class FetchSocketsResponse:
    """One server's target sockets, each ``{id, handshake, rooms, data}``."""

    request_id: str
    sockets: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class AllRoomsResponse:
    """One server's rooms."""

    request_id: str
    rooms: frozenset[str]


@dataclass(frozen=True, slots=True)
class ServerSideEmitResponse:
    """One server's answer to a server-side event (its first handler's value)."""

    request_id: str
    value: Any


@dataclass(frozen=True, slots=True)
class BroadcastClientCount:
    """How many clients one server sent an acked broadcast to."""

    request_id: str
    count: int


@dataclass(frozen=True, slots=True)
class BroadcastAck:
    """One client's ack to an acked broadcast (its first argument)."""

    request_id: str
    value: Any


@dataclass(frozen=True, slots=True)
class RestoreSessionResponse:
    """One server's answer to :class:`RestoreSession`: the session, or None."""

    request_id: str
    session: HandedSession | None


Message = (
    Broadcast | SocketsJoin | SocketsLeave | DisconnectSockets | FetchSockets | AllRooms
    | ServerSideEmit | RestoreSession
)  # fmt: skip
Response = (
    FetchSocketsResponse | AllRoomsResponse | ServerSideEmitResponse | BroadcastClientCount
    | BroadcastAck | RestoreSessionResponse
)  # fmt: skip
