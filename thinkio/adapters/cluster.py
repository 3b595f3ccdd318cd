"""The cluster adapter: one fan-out model for every transport (Node's ``ClusterAdapter``).

Theory of operation. Every cross-server operation is a frozen message of
:mod:`.messages`. A :class:`ClusterAdapter` does an operation for its own sockets (through
the ``apply_*`` methods of :class:`~thinkio.server.Adapter`) and publishes the message;
every other server's adapter receives it (:meth:`ClusterAdapter.receive`) and applies it to
*its* sockets with the same ``apply_*`` methods. That is the one local executor. Requests
(fetch sockets, all rooms, server-side emit with acks, acked broadcasts) are answered
with a response addressed to the requester's ``uid`` and collected here, bounded by
``requests_timeout``: a server that does not answer in time makes the request raise
:class:`~.errors.ClusterTimeout`, the one timeout error of the cluster.

A transport (a subclass) implements three things and nothing else: :meth:`publish` (to
every other server of the namespace), :meth:`publish_response` (to one server) and
:meth:`server_count`; and it hands what arrives to :meth:`receive` and
:meth:`receive_response`. How messages look on its wire is its codec's business.

Ordering: :meth:`receive` applies broadcasts, joins and leaves at once, in arrival order,
so a transport that delivers one sender's messages in order (all of thinkio's do) keeps
that order for the clients. What has to wait (disconnects, answers, server-side handlers)
runs in a task of the server.

Connection state recovery across servers (:attr:`ClusterAdapter.hands_over_sessions`, the
worker bus): a client that comes back to a server that does not hold its session is
restored from the server that does. The new server asks every other one
(:class:`~.messages.RestoreSession`); the holder takes the session out of its store (so
it cannot be restored twice) and hands it over with the packets it kept for it since the
client's offset, in the order it kept them, and a note of which broadcasts it had received
(the counter of the last one from each server: :meth:`RecoveryStore.heard
<thinkio.server.recovery.RecoveryStore.heard>`). Each server keeps every broadcast, but
not in the same order as the others and not at the same moment, so the new server adds,
from its own store, the broadcasts the holder had not received yet (past its note), after
waiting (briefly) until it has received every broadcast the holder had: then nothing the
client got or is handed comes again live, and nothing broadcast meanwhile is lost. What is
handed over is sent with fresh offsets of the new server, in the order it is sent, so that
the client's next offset means the same thing here as in what it received. A server that
does not answer within ``requests_timeout`` means a new session.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anyio

from ..errors import LocalProtocolError, RemoteProtocolError, ThinkioError
from ..server.adapter import AckCallback, Adapter, BroadcastOptions
from ..server.recovery import RecoveredSession, SavedSession
from ..socketio import Packet, PacketType
from .errors import ClusterTimeout
from .messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    HandedSession,
    Message,
    Response,
    RestoreSession,
    RestoreSessionResponse,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
    new_request_id,
)
from .remote import RemoteSocket, describe

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("ClusterAdapter", "is_request")

log = logging.getLogger("thinkio.adapters")


@dataclass(slots=True)
class _Pending:
    """A request of ours waiting for ``expected`` answers."""

    what: str
    expected: int
    items: list[Any] = field(default_factory=list)
    received: int = 0
    done: anyio.Event = field(default_factory=anyio.Event)

    def answered(self, *items: Any) -> None:
        self.items.extend(items)
        self.received += 1
        if self.received >= self.expected:
            self.done.set()


_RESPONSES = (
    FetchSocketsResponse,
    AllRoomsResponse,
    ServerSideEmitResponse,
    BroadcastClientCount,
    BroadcastAck,
    RestoreSessionResponse,
)

#: At most this many seconds to wait, once a session is handed over, for the broadcasts the
#: holder had received and this server not yet (they are on their way).
_CATCH_UP = 1.0


def is_request(message: Message) -> bool:
    """Whether a message waits for answers (a transport should then report a failure to
    send it, rather than let the requester wait for its timeout)."""
    if isinstance(message, Broadcast | ServerSideEmit):
        return message.request_id is not None
    return isinstance(message, FetchSockets | AllRooms | RestoreSession)


def _here(opts: BroadcastOptions) -> BroadcastOptions:
    """What a peer sent is carried out here only, never published again."""
    return opts if opts.local else replace(opts, local=True)


class ClusterAdapter(Adapter):
    """A namespace's adapter on a cluster transport (see the module docstring).

    Args:
        namespace: the namespace (given by the server when it calls the factory).
        uid: this adapter's id on the wire (a fresh one by default).
        requests_timeout: seconds to wait for other servers' answers.
    """

    namespace: Namespace

    #: Whether a session dropped on one server is restored on another by asking the other
    #: servers for it (see the module docstring). A transport whose codec carries
    #: :class:`~.messages.RestoreSession` and whose peers all answer it sets this.
    hands_over_sessions = False

    def __init__(
        self, namespace: Namespace, *, uid: str | None = None, requests_timeout: float = 5.0
    ) -> None:
        super().__init__(namespace)
        self.uid = uid or new_request_id()
        self.requests_timeout = requests_timeout
        self._pending: dict[str, _Pending] = {}
        self._acks: dict[str, tuple[Callable[[int], None], AckCallback]] = {}
        if self.recovery is not None and self.hands_over_sessions:
            self.recovery.track_sources = True
        #: Set (and dropped) when a broadcast from another server is kept, while a restore
        #: waits for broadcasts on their way.
        self._kept: anyio.Event | None = None

    @property
    def awaiting_responses(self) -> bool:
        """Whether a request of this adapter waits for answers (a transport may skip
        decoding responses when none does)."""
        return bool(self._pending or self._acks)

    # -- the transport: what a subclass implements ----------------------------------------------

    async def publish(self, message: Message) -> None:
        """Send a message to every other server of the namespace.

        Raises:
            AdapterError: the transport could not send it.
        """
        raise NotImplementedError

    async def publish_response(self, requester: str, response: Response) -> None:
        """Send a response to the server whose adapter has the uid ``requester``.

        Raises:
            AdapterError: the transport could not send it.
        """
        raise NotImplementedError

    async def server_count(self) -> int:
        """How many servers share this namespace, this one included.

        Raises:
            AdapterError: the transport cannot tell.
        """
        raise NotImplementedError

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, message: Message) -> None:
        """Publish a message nobody answers; a failure is logged, not raised (as in Node:
        this server's own sockets were served, the others miss it)."""
        try:
            await self.publish(message)
        except (ThinkioError, OSError) as exc:
            log.debug("%s not sent to other servers: %s", type(message).__name__, exc)

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Deliver here, then publish to the other servers unless ``opts.local``.

        With connection state recovery, the packet carries its offset to the other servers,
        which keep it too (:meth:`keep`)."""
        if self.recovery is not None:
            packet = self.stamp(packet, opts)
        self.apply_broadcast(packet, opts)
        if not opts.local:
            await self._send(Broadcast(opts, packet.data))

    async def broadcast_with_ack(
        self,
        packet: Packet,
        opts: BroadcastOptions,
        on_count: Callable[[int], None],
        on_ack: AckCallback,
    ) -> None:
        """Publish the acked broadcast, then deliver here (Node's order)."""
        if not opts.local:
            request_id = new_request_id()
            self._acks[request_id] = (on_count, on_ack)
            timeout = opts.flags.get("timeout")
            seconds = timeout / 1000 if isinstance(timeout, int | float) else self.requests_timeout

            async def forget() -> None:
                # Nobody knows how many acks will come: stop listening after the timeout.
                # (A service: a graceful shutdown need not wait for this bookkeeping.)
                await anyio.sleep(seconds)
                self._acks.pop(request_id, None)

            try:
                self.namespace.spawn_service(forget)
            except RuntimeError:  # the server is not running: no peer answers anyway
                self._acks.pop(request_id, None)
            else:
                await self._send(Broadcast(opts, packet.data, request_id))
        on_count(self.apply_broadcast_with_ack(packet, opts, on_ack))

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = tuple(rooms)
        self.apply_join(opts, rooms)
        if not opts.local:
            await self._send(SocketsJoin(opts, rooms))

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = tuple(rooms)
        self.apply_leave(opts, rooms)
        if not opts.local:
            await self._send(SocketsLeave(opts, rooms))

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        await self.apply_disconnect(opts, close)
        if not opts.local:
            await self._send(DisconnectSockets(opts, close))

    async def _ask(
        self, what: str, build: Callable[[str], Message], timeout: float | None = None
    ) -> list[Any]:
        """Publish a request and collect one answer from every other server.

        Raises:
            ClusterTimeout: not every server answered within the timeout.
            AdapterError: the request could not be published.
        """
        expected = await self.server_count() - 1
        if expected <= 0:
            return []
        request_id = new_request_id()
        pending = self._pending[request_id] = _Pending(what, expected)
        try:
            await self.publish(build(request_id))
            with anyio.move_on_after(timeout if timeout is not None else self.requests_timeout):
                await pending.done.wait()
        finally:
            del self._pending[request_id]
        if pending.received < pending.expected:
            raise ClusterTimeout(what, pending.expected, pending.received)
        return pending.items

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        """Local :class:`~thinkio.server.Socket` objects, then a :class:`RemoteSocket` for
        each target socket of the other servers.

        Raises:
            ClusterTimeout: a server did not answer within ``requests_timeout``.
            AdapterError: the request could not be published.
        """
        local = await super().fetch_sockets(opts)
        if opts.local:
            return local
        remote: list[Any] = []
        found = await self._ask("fetchSockets", lambda rid: FetchSockets(opts, rid))
        for item in found:
            try:
                remote.append(RemoteSocket.from_wire(self.namespace, item))
            except RemoteProtocolError as exc:
                log.debug("ignoring a fetched socket: %s", exc)
        return local + remote

    async def all_rooms(self) -> set[str]:
        """Every room of the namespace on every server.

        Raises:
            ClusterTimeout: a server did not answer within ``requests_timeout``.
            AdapterError: the request could not be published.
        """
        rooms = set(self.rooms.all_rooms())
        rooms.update(await self._ask("allRooms", AllRooms))
        return rooms

    async def server_side_emit(self, data: list[Any]) -> None:
        await self._send(ServerSideEmit(data))

    async def server_side_call(self, data: list[Any], timeout: float | None = None) -> list[Any]:
        """Send a server-side event and return every other server's answer.

        Raises:
            ClusterTimeout: a server did not answer in time (as in Node, a server with no
                handler for the event never answers).
            AdapterError: the request could not be published.
        """
        return await self._ask("serverSideEmit", lambda rid: ServerSideEmit(data, rid), timeout)

    # -- connection state recovery across servers ----------------------------------------------

    def keep(self, packet: Packet, opts: BroadcastOptions) -> None:
        super().keep(packet, opts)
        kept = self._kept
        if kept is not None:
            self._kept = None
            kept.set()

    async def restore_session(self, pid: str, offset: str) -> RecoveredSession | None:
        """The session from this server's store, else (with :attr:`hands_over_sessions`)
        from the server that kept it (see the module docstring); None if nobody has it,
        or the others did not answer within ``requests_timeout``."""
        local = await super().restore_session(pid, offset)
        store = self.recovery
        if local is not None or store is None or not self.hands_over_sessions:
            return local
        since = store.position()
        try:
            expected = await self.server_count() - 1
            if expected <= 0:
                return None
            request_id = new_request_id()
            pending = self._pending[request_id] = _Pending("restoreSession", expected)
            try:
                await self.publish(RestoreSession(pid, offset, request_id))
                with anyio.move_on_after(self.requests_timeout):
                    await pending.done.wait()
            finally:
                del self._pending[request_id]
        except (ThinkioError, OSError) as exc:
            log.debug("could not ask the other servers for session %s: %s", pid, exc)
            return None
        handed: HandedSession | None = next((s for s in pending.items if s is not None), None)
        if handed is None:
            return None
        with anyio.move_on_after(min(_CATCH_UP, self.requests_timeout)):
            while not store.has_heard(handed.heard):
                kept = self._kept = self._kept or anyio.Event()
                await kept.wait()
        # No await from here until the socket is in its rooms: what comes next comes live.
        rooms = handed.rooms
        missed = [*handed.missed, *store.unheard(rooms, handed.heard, since)]
        # Each goes out with a fresh offset of this server, kept for this socket alone, in
        # the order it is sent: a client that drops again before anything else came is
        # given what follows in *that* order, here or on the next server.
        sid = handed.sid
        missed = [self.stamp_direct(sid, data[:-1]) for data in missed]
        return RecoveredSession(sid, handed.pid, rooms, handed.data, missed, offset)

    def _hand_over(self, requester: str | None, message: RestoreSession) -> None:
        """Another server was asked for a session: hand it over if it dropped here."""
        store = self.recovery
        session = store.restore(message.pid, message.offset) if store is not None else None
        handed = None
        if session is not None and store is not None:
            handed = HandedSession(
                session.sid,
                session.pid,
                session.rooms,
                session.data,
                tuple(session.missed),
                store.heard(),
            )

        async def send() -> None:
            try:
                await self._respond(requester, RestoreSessionResponse(message.request_id, handed))
                return
            except (ThinkioError, OSError) as exc:
                log.debug("could not hand session %s over: %s", message.pid, exc)
            if session is not None:
                # (its data or a packet the transport cannot carry, say): kept again here,
                # and the asker told at once that it is not coming.
                self.persist_session(
                    SavedSession(session.sid, session.pid, session.rooms, session.data)
                )
                with contextlib.suppress(ThinkioError, OSError):
                    await self._respond(requester, RestoreSessionResponse(message.request_id, None))

        self.namespace.spawn(send)

    # -- receiving: the one local executor -----------------------------------------------------

    def receive(self, sender: str | None, message: Message) -> None:
        """Apply a message another server published to this server's sockets.

        ``sender`` is the publishing adapter's uid (None from an emitter). Messages from this
        adapter itself are ignored. Never raises for the message's content.
        """
        if sender == self.uid:
            return
        if isinstance(message, Broadcast):
            opts = _here(message.opts)
            packet = Packet(PacketType.EVENT, self.namespace.name, message.data)
            try:
                if message.request_id is None:
                    if self.recovery is not None:
                        self.keep(packet, opts)
                    self.apply_broadcast(packet, opts)
                else:
                    self._answer_acked_broadcast(sender, packet, opts, message.request_id)
            except LocalProtocolError as exc:
                log.debug("ignoring a broadcast thinkio cannot send: %s", exc)
        elif isinstance(message, SocketsJoin):
            self.apply_join(_here(message.opts), message.rooms)
        elif isinstance(message, SocketsLeave):
            self.apply_leave(_here(message.opts), message.rooms)
        elif isinstance(message, RestoreSession):
            self._hand_over(sender, message)
        else:
            self.namespace.spawn(lambda: self._receive_later(sender, message))

    async def _receive_later(self, sender: str | None, message: Message) -> None:
        try:
            if isinstance(message, DisconnectSockets):
                await self.apply_disconnect(_here(message.opts), message.close)
            elif isinstance(message, FetchSockets):
                opts = _here(message.opts)
                sockets = tuple(describe(s) for s in await Adapter.fetch_sockets(self, opts))
                await self._respond(sender, FetchSocketsResponse(message.request_id, sockets))
            elif isinstance(message, AllRooms):
                rooms = self.rooms.all_rooms()
                await self._respond(sender, AllRoomsResponse(message.request_id, rooms))
            elif isinstance(message, ServerSideEmit):
                event, args = message.data[0], message.data[1:]
                handled, value = await self.namespace.run_server_side(event, args)
                if message.request_id is not None and handled:
                    await self._respond(sender, ServerSideEmitResponse(message.request_id, value))
        except (ThinkioError, OSError) as exc:
            log.warning("could not carry out %s: %s", type(message).__name__, exc)
        except Exception:
            log.exception("a server-side handler failed on %s", self.namespace.name)

    async def _respond(self, requester: str | None, response: Response) -> None:
        if requester is not None:  # an emitter asks nothing
            await self.publish_response(requester, response)

    def _answer_acked_broadcast(
        self, requester: str | None, packet: Packet, opts: BroadcastOptions, request_id: str
    ) -> None:
        def on_ack(args: list[Any]) -> None:
            self._spawn_response(requester, BroadcastAck(request_id, args[0] if args else None))

        count = self.apply_broadcast_with_ack(packet, opts, on_ack)
        self._spawn_response(requester, BroadcastClientCount(request_id, count))

    def _spawn_response(self, requester: str | None, response: Response) -> None:
        async def send() -> None:
            try:
                await self._respond(requester, response)
            except (ThinkioError, OSError) as exc:
                log.debug("%s not sent: %s", type(response).__name__, exc)

        self.namespace.spawn(send)

    def receive_any(self, sender: str | None, item: Message | Response | None) -> None:
        """:meth:`receive` a message or :meth:`receive_response` a response (for codecs that
        carry both on one channel); None (a heartbeat, an unknown type) is ignored."""
        if item is None:
            return
        if isinstance(item, _RESPONSES):
            if sender != self.uid:
                self.receive_response(item)
        else:
            self.receive(sender, item)

    def receive_response(self, response: Response) -> None:
        """Count an answer to one of this adapter's requests (others' are ignored)."""
        rid = response.request_id
        if isinstance(response, BroadcastClientCount | BroadcastAck):
            callbacks = self._acks.get(rid)
            if callbacks is None:
                # The broadcast's timeout passed (or the adapter closed): as an ack called
                # after its emitter gave up in Node, nothing happens.
                log.debug(
                    "%s for finished acked broadcast %s ignored", type(response).__name__, rid
                )
            elif isinstance(response, BroadcastClientCount):
                callbacks[0](response.count)
            else:
                callbacks[1]([response.value])
            return
        pending = self._pending.get(rid)
        if pending is None:
            return
        if isinstance(response, RestoreSessionResponse):
            pending.answered(response.session)
            if response.session is not None:  # the holder answered: nobody else has it
                pending.done.set()
        elif isinstance(response, FetchSocketsResponse):
            pending.answered(*response.sockets)
        elif isinstance(response, AllRoomsResponse):
            pending.answered(*response.rooms)
        else:
            pending.answered(response.value)

    async def close(self) -> None:
        """Stop waiting: pending requests see too few answers and raise."""
        for pending in self._pending.values():
            pending.done.set()
        self._acks.clear()
