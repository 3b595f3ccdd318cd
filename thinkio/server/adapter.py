"""Adapters: who is in which room, and how a broadcast reaches every process (DESIGN.md).

An adapter belongs to one namespace. It keeps the room index of the namespace's *local*
sockets and carries broadcasts. The in-memory adapter delivers to local sockets only; a
cluster adapter (Redis, the worker bus) also publishes the broadcast to its peers and delivers
what peers publish to its local sockets. An adapter never writes to a socket itself: it hands
the already-encoded packets to :meth:`Namespace.deliver`, which queues them on each session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..socketio import Packet, RoomIndex, encode

__all__ = (
    "Adapter",
    "AdapterHome",
    "BroadcastOptions",
    "BroadcastTarget",
    "InMemoryAdapter",
    "RemoteSocketActions",
)


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """Who a broadcast goes to, as in Node's adapter ``opts``."""

    #: Every socket in any of these rooms; every socket of the namespace if empty.
    rooms: frozenset[str] = frozenset()
    #: Minus every socket in any of these rooms (a socket id is a room of one).
    except_rooms: frozenset[str] = frozenset()
    #: Drop the packet for sockets that cannot take it right now.
    volatile: bool = False
    #: This process only (no cluster fan-out).
    local: bool = False
    #: Extra flags peers may need (Node's ``flags``), passed through untouched.
    flags: dict[str, Any] = field(default_factory=dict)


class BroadcastTarget(Protocol):
    """What a broadcast to some sockets can do (:class:`.broadcast.BroadcastOperator`)."""

    async def emit(self, event: str, *args: Any) -> None: ...

    async def sockets_join(self, *rooms: str) -> None: ...

    async def sockets_leave(self, *rooms: str) -> None: ...

    async def disconnect_sockets(self, close: bool = False) -> None: ...


class AdapterHome(Protocol):
    """What an adapter needs from its namespace (:class:`.namespace.Namespace`)."""

    @property
    def name(self) -> str:
        """The namespace's name."""

    @property
    def server(self) -> object:
        """The server the namespace belongs to (adapters may share a connection per server)."""

    @property
    def sockets(self) -> Mapping[str, Any]:
        """The namespace's sockets on this server, by id."""

    def deliver(
        self, sids: Iterable[str], payloads: list[str | bytes], *, volatile: bool = False
    ) -> None:
        """Queue an encoded packet on local sockets."""

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server."""

    def to(self, *rooms: str) -> BroadcastTarget:
        """A broadcast to these rooms."""


class Adapter:
    """The adapter interface, with the in-process room index every adapter keeps."""

    def __init__(self, namespace: AdapterHome) -> None:
        self.namespace = namespace
        self.rooms = RoomIndex()

    # -- membership (local sockets) ------------------------------------------------------------

    def add(self, sid: str) -> None:
        """A socket joined the namespace (it is put in the room named by its id)."""
        self.rooms.add(sid)

    def remove(self, sid: str) -> frozenset[str]:
        """A socket left the namespace; returns the rooms it was in."""
        return self.rooms.remove(sid)

    def join(self, sid: str, rooms: Iterable[str]) -> None:
        for room in rooms:
            self.rooms.join(sid, room)

    def leave(self, sid: str, room: str) -> None:
        self.rooms.leave(sid, room)

    def rooms_of(self, sid: str) -> frozenset[str]:
        return self.rooms.rooms_of(sid)

    def local_targets(self, opts: BroadcastOptions) -> list[str]:
        """The local sockets a broadcast with these options reaches."""
        return self.rooms.select(opts.rooms, opts.except_rooms)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Called by the server once it runs (inside its task group), or at once for a
        namespace created while it runs: open connections, start background tasks with
        ``namespace.spawn``. An error raised here fails :meth:`Server.run` at start-up.
        """

    # -- fan-out: every method reaches the whole cluster unless ``opts.local`` -----------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Deliver a Socket.IO packet to every target socket, here and on peers.

        Each process encodes the packet once and queues the same encoded packets on every
        local target (see :meth:`Namespace.deliver`).
        """
        self.namespace.deliver(self.local_targets(opts), encode(packet), volatile=opts.volatile)

    def broadcast_nowait(self, packet: Packet, opts: BroadcastOptions) -> None:
        """:meth:`broadcast` from sync code: local sockets get the packet now.

        An adapter whose :meth:`broadcast` also reaches other servers has it run in a task
        of the server (the local delivery then happens there too).
        """
        if type(self).broadcast is Adapter.broadcast:
            self.namespace.deliver(self.local_targets(opts), encode(packet), volatile=opts.volatile)
        else:
            self.namespace.spawn(self.broadcast, packet, opts)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make every target socket join ``rooms`` (Node's ``socketsJoin``)."""
        rooms = list(rooms)
        for sid in self.local_targets(opts):
            self.join(sid, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make every target socket leave ``rooms`` (Node's ``socketsLeave``)."""
        rooms = list(rooms)
        for sid in self.local_targets(opts):
            for room in rooms:
                self.leave(sid, room)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect every target socket (Node's ``disconnectSockets``)."""
        sockets = self.namespace.sockets
        for sid in self.local_targets(opts):
            socket = sockets.get(sid)
            if socket is not None:
                await socket.disconnect(close)

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        """The target sockets: local :class:`Socket` objects, plus remote ones on a cluster."""
        sockets = self.namespace.sockets
        return [sockets[sid] for sid in self.local_targets(opts) if sid in sockets]

    async def server_count(self) -> int:
        """How many servers share this namespace (1 without a cluster)."""
        return 1

    async def close(self) -> None:
        """Release what the adapter holds (subscriptions, connections)."""


class RemoteSocketActions:
    """What a socket on another server can be asked to do, through the namespace's adapter
    (Node's ``RemoteSocket``). Cluster adapters' fetched-socket snapshots mix this in."""

    __slots__ = ()

    id: str
    namespace: AdapterHome

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to this socket, wherever it is connected."""
        await self.namespace.to(self.id).emit(event, *args)

    async def join(self, *rooms: str) -> None:
        """Put this socket in rooms (on its server)."""
        await self.namespace.to(self.id).sockets_join(*rooms)

    async def leave(self, *rooms: str) -> None:
        """Take this socket out of rooms (on its server)."""
        await self.namespace.to(self.id).sockets_leave(*rooms)

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect this socket; with ``close``, end its whole Engine.IO session."""
        await self.namespace.to(self.id).disconnect_sockets(close)


class InMemoryAdapter(Adapter):
    """The default: one process, no peers."""
