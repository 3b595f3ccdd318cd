"""Adapters: who is in which room, and how a broadcast reaches every process (DESIGN.md).

An adapter belongs to one namespace. It keeps the room index of the namespace's *local*
sockets and carries every operation that may reach several servers: broadcasts (with or
without acks), joining and leaving rooms by selector, disconnecting, fetching sockets,
server-side events and the server count. :class:`Adapter` does each of them for this
process only; that is the whole in-memory adapter. Cluster adapters
(:mod:`thinkio.adapters`, the worker bus) override them to reach their peers too, and use
the ``apply_*`` methods below to carry out what a peer asks of this process.

An adapter never writes to a socket itself. It hands already-encoded packets to
:meth:`Namespace.deliver`, which queues them on each session, and otherwise uses sockets
through their public API only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..socketio import Packet, PacketType, RoomIndex
from .recovery import RecoveredSession, RecoveryOptions, RecoveryStore, SavedSession

__all__ = ("AckCallback", "Adapter", "AdapterHome", "BroadcastOptions", "InMemoryAdapter")

#: Called with the arguments of one client's ack to a broadcast.
AckCallback = Callable[[list[Any]], None]


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
    #: Extra flags peers may need (Node's ``flags``: ``timeout`` in ms for acked
    #: broadcasts, ``compress``...), passed through untouched.
    flags: dict[str, Any] = field(default_factory=dict)


class AdapterHome(Protocol):
    """What an adapter needs from its namespace (:class:`.namespace.Namespace`)."""

    @property
    def name(self) -> str:
        """The namespace's name."""

    @property
    def server(self) -> Any:
        """The server the namespace belongs to (adapters may share a connection per server)."""

    @property
    def sockets(self) -> Mapping[str, Any]:
        """The namespace's sockets on this server, by id."""

    def deliver(
        self,
        sids: Iterable[str],
        payloads: list[str | bytes],
        *,
        volatile: bool = False,
        data: list[Any] | None = None,
        compress: bool = True,
    ) -> None:
        """Queue an encoded packet on local sockets (``data``: the event and its arguments,
        for ``on_any_outgoing`` listeners; ``compress=False``: never compressed)."""

    def next_ack_id(self) -> int:
        """A fresh ack id of the namespace."""

    def encode(self, packet: Packet) -> list[str | bytes]:
        """Encode a packet with the server's parser (once for every recipient)."""

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server; a graceful shutdown waits for it
        (before the adapter's ``close``)."""

    def spawn_service(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server that lives until the adapter's
        ``close`` ends it (a subscriber loop); a graceful shutdown does not wait for it."""

    async def run_server_side(self, event: str, args: list[Any]) -> tuple[bool, Any]:
        """Run the handlers of a server-side event another server sent."""

    @property
    def recovery(self) -> RecoveryOptions | None:
        """The server's connection state recovery options (None: off)."""

    def now(self) -> float:
        """The server's clock, in seconds."""


def _recoverable(packet: Packet, opts: BroadcastOptions) -> bool:
    """Whether a broadcast is kept for recovery (Node: an EVENT without an ack id, not
    volatile)."""
    return packet.type is PacketType.EVENT and packet.id is None and not opts.volatile


class Adapter:
    """The adapter interface, done for this process alone (the in-memory adapter).

    Every fan-out method reaches the whole cluster in a cluster adapter, unless
    ``opts.local`` is set.
    """

    def __init__(self, namespace: AdapterHome) -> None:
        self.namespace = namespace
        self.rooms = RoomIndex()
        options = namespace.recovery
        #: The packets and dropped sessions kept for connection state recovery (None: off).
        self.recovery: RecoveryStore | None = (
            None if options is None else RecoveryStore(options, namespace.now)
        )
        #: Called with ``("join" | "leave", room, sid)`` when a local socket joins or leaves
        #: a room (Node's ``join-room`` / ``leave-room``; the Admin UI listens). None: nobody.
        self.room_listener: Callable[[str, str, str], None] | None = None

    # -- membership (local sockets) ------------------------------------------------------------

    def add(self, sid: str) -> None:
        """A socket joined the namespace (it is put in the room named by its id)."""
        self.rooms.add(sid)

    def remove(self, sid: str) -> frozenset[str]:
        """A socket left the namespace; returns the rooms it was in."""
        return self.rooms.remove(sid)

    def join(self, sid: str, rooms: Iterable[str]) -> None:
        """Put a local socket in rooms."""
        listener = self.room_listener
        for room in rooms:
            self.rooms.join(sid, room)
            if listener is not None:
                listener("join", room, sid)

    def leave(self, sid: str, room: str) -> None:
        """Take a local socket out of a room."""
        self.rooms.leave(sid, room)
        if self.room_listener is not None:
            self.room_listener("leave", room, sid)

    def rooms_of(self, sid: str) -> frozenset[str]:
        """The rooms a local socket is in."""
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

    async def close(self) -> None:
        """Release what the adapter holds (subscriptions, connections)."""

    # -- fan-out -------------------------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Deliver a Socket.IO EVENT packet to every target socket.

        The packet is encoded once and the same encoded packets are queued on every target
        (see :meth:`Namespace.deliver`).
        """
        if self.recovery is not None:
            packet = self.stamp(packet, opts)
        self.apply_broadcast(packet, opts)

    async def broadcast_with_ack(
        self,
        packet: Packet,
        opts: BroadcastOptions,
        on_count: Callable[[int], None],
        on_ack: AckCallback,
    ) -> None:
        """Deliver a packet that every target client acknowledges (Node's ``broadcastWithAck``).

        ``on_count(n)`` is called once per server with the number of clients it sent the
        packet to; ``on_ack(args)`` once per client ack. The caller counts servers with
        :meth:`server_count` and stops waiting after ``opts.flags["timeout"]`` ms.
        """
        on_count(self.apply_broadcast_with_ack(packet, opts, on_ack))

    def broadcast_nowait(self, packet: Packet, opts: BroadcastOptions) -> None:
        """:meth:`broadcast` from sync code: local sockets get the packet now.

        An adapter whose :meth:`broadcast` also reaches other servers has it run in a task
        of the server (the local delivery then happens there too).
        """
        if type(self).broadcast is Adapter.broadcast:
            if self.recovery is not None:
                packet = self.stamp(packet, opts)
            self.apply_broadcast(packet, opts)
        else:
            self.namespace.spawn(self.broadcast, packet, opts)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make every target socket join ``rooms`` (Node's ``socketsJoin``)."""
        self.apply_join(opts, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Make every target socket leave ``rooms`` (Node's ``socketsLeave``)."""
        self.apply_leave(opts, rooms)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect every target socket (Node's ``disconnectSockets``)."""
        await self.apply_disconnect(opts, close)

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        """The target sockets: local :class:`Socket` objects, then remote ones on a cluster."""
        sockets = self.namespace.sockets
        return [sockets[sid] for sid in self.local_targets(opts) if sid in sockets]

    async def all_rooms(self) -> set[str]:
        """Every room of the namespace, on every server (Node's ``allRooms``)."""
        return set(self.rooms.all_rooms())

    async def server_count(self) -> int:
        """How many servers share this namespace (1 without a cluster)."""
        return 1

    async def server_side_emit(self, data: list[Any]) -> None:
        """Send ``[event, *args]`` to the server-side handlers of every *other* server."""

    async def server_side_call(self, data: list[Any], timeout: float | None = None) -> list[Any]:
        """Send ``[event, *args]`` to every other server; returns their acks (one value each).

        ``timeout`` (seconds) defaults to the adapter's own request timeout.
        """
        return []

    # -- connection state recovery (see thinkio.server.recovery) --------------------------------

    def stamp(self, packet: Packet, opts: BroadcastOptions) -> Packet:
        """The packet to send for a broadcast when recovery is on: a recoverable one gets a
        fresh offset as its last argument and is kept; any other is returned as is."""
        store = self.recovery
        if store is None or not _recoverable(packet, opts):
            return packet
        offset = store.new_offset()
        data = [*packet.data, offset]
        store.log(offset, opts.rooms, opts.except_rooms, data)
        return Packet(packet.type, packet.namespace, data, packet.id)

    def keep(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Keep a recoverable broadcast another server stamped (its offset is its last
        argument), so that a session restored here gets it too."""
        store = self.recovery
        if store is not None and _recoverable(packet, opts):
            data = packet.data
            if data and isinstance(data[-1], str):
                store.log(data[-1], opts.rooms, opts.except_rooms, data)

    def stamp_direct(self, sid: str, data: list[Any]) -> list[Any]:
        """``[event, *args]`` sent to one socket (``socket.emit``), with its offset, kept
        for recovery (called only when recovery is on)."""
        store = self.recovery
        assert store is not None
        offset = store.new_offset()
        data = [*data, offset]
        store.log(offset, frozenset((sid,)), frozenset(), data, shared=False)
        return data

    def persist_session(self, session: SavedSession) -> None:
        """A socket dropped for a recoverable reason: keep its session (Node's
        ``persistSession``)."""
        if self.recovery is not None:
            self.recovery.persist(session)

    async def restore_session(self, pid: str, offset: str) -> RecoveredSession | None:
        """Give back a dropped session and the packets it missed after ``offset``, or None
        (Node's ``restoreSession``). A cluster adapter may look further (Redis); the
        in-memory one answers without suspending, so no packet slips between the answer and
        the socket joining its rooms."""
        if self.recovery is None:
            return None
        return self.recovery.restore(pid, offset)

    # -- carrying out an operation on this process's sockets -----------------------------------

    def apply_broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Deliver a packet to the local target sockets (encoded once)."""
        targets = self.local_targets(opts)
        if targets:
            ns = self.namespace
            flags = opts.flags  # compress(False), from this server or another: never compressed
            ns.deliver(
                targets,
                ns.encode(packet),
                volatile=opts.volatile,
                data=packet.data,
                compress=not flags or flags.get("compress") is not False,
            )

    def apply_broadcast_with_ack(
        self, packet: Packet, opts: BroadcastOptions, on_ack: AckCallback
    ) -> int:
        """Deliver a packet with one ack id to the local targets; returns how many.

        As in Node, the id comes from the namespace's counter, the packet is encoded once, and
        each target socket waits for its client's ack under that id. A socket that disconnects
        first is not answered for.
        """
        ns = self.namespace
        sockets = [ns.sockets[sid] for sid in self.local_targets(opts) if sid in ns.sockets]
        if not sockets:
            return 0
        ack_id = ns.next_ack_id()
        acked = Packet(PacketType.EVENT, ns.name, packet.data, ack_id)

        def answered(args: list[Any] | None) -> None:
            if args is not None:
                on_ack(args)

        for socket in sockets:
            socket.expect_ack(ack_id, answered)
        ns.deliver(
            [s.id for s in sockets],
            ns.encode(acked),
            volatile=opts.volatile,
            data=packet.data,
            compress=opts.flags.get("compress") is not False,
        )
        return len(sockets)

    def apply_join(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Put every local target socket in ``rooms``."""
        rooms = list(rooms)
        for sid in self.local_targets(opts):
            self.join(sid, rooms)

    def apply_leave(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        """Take every local target socket out of ``rooms``."""
        rooms = list(rooms)
        for sid in self.local_targets(opts):
            for room in rooms:
                self.leave(sid, room)

    async def apply_disconnect(self, opts: BroadcastOptions, close: bool) -> None:
        """Disconnect every local target socket."""
        sockets = self.namespace.sockets
        for sid in self.local_targets(opts):
            socket = sockets.get(sid)
            if socket is not None:
                await socket.disconnect(close)


class InMemoryAdapter(Adapter):
    """The default adapter: one process, no peers (every method of :class:`Adapter` as is)."""
