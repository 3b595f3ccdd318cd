"""The Redis adapter: thinkio and Node.js socket.io servers sharing one Redis.

It speaks the wire format of Node's ``@socket.io/redis-adapter`` classic adapter
(``createAdapter(pub, sub)``, REDIS-INTEROP.md C1; messages in :mod:`.wire`), so a thinkio
server is one more node of a Node cluster and the other way round::

    from thinkio.adapters import redis_adapter

    io = Server(adapter=redis_adapter("redis://127.0.0.1:6379/0"))

Every namespace gets a :class:`RedisAdapter`; the adapters of one server share one
:class:`~.link.RedisLink` (one subscriber and one publisher connection). The link's reader
runs in the server's task group: :meth:`RedisAdapter.start`, which ``Server.run`` awaits,
starts it and waits until the namespace's channels are subscribed.

What goes through Redis: broadcasts (``io.to(room).emit``), ``sockets_join``,
``sockets_leave``, ``disconnect_sockets``, ``fetch_sockets``, :meth:`RedisAdapter.all_rooms`,
server-side emits, and the server count (``PUBSUB NUMSUB``). Requests from Node servers
(and from ``@socket.io/redis-emitter``) are answered, including acked broadcasts (type 7).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from ..errors import ConfigError, LocalProtocolError, RemoteProtocolError
from ..server.adapter import Adapter, BroadcastOptions
from ..socketio import Packet, PacketType, encode
from .answers import answer, answer_acked_broadcast
from .errors import AdapterError, ClusterTimeout
from .link import LinkOptions, link_for
from .remote import RemoteSocket
from .resp import RedisAddress
from .wire import (
    Channels,
    Request,
    RequestType,
    Response,
    decode_broadcast,
    decode_request,
    decode_response,
    encode_broadcast,
    encode_json,
    js_iso_date,
    new_uid,
    opts_to_wire,
    request_body,
)

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("DEFAULT_URL", "RedisAdapter", "ServerSideHandler")

log = logging.getLogger("thinkio.adapters.redis")

DEFAULT_URL = "redis://127.0.0.1:6379"

#: A server-side event handler: ``handler(*args)``, sync or async; its return value is the
#: ack sent back when the emitting server asked for one.
ServerSideHandler = Callable[..., Any]


@dataclass(slots=True)
class _Pending:
    """A request of ours waiting for answers."""

    name: str
    expected: int
    received: int
    items: list[Any] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)

    def answered(self, count: int = 1) -> None:
        self.received += count
        if self.received >= self.expected:
            self.done.set()


class RedisAdapter(Adapter):
    """A namespace's adapter on Redis, wire-compatible with Node's redis-adapter 8.

    Args:
        namespace: the namespace (given by the server when it calls the factory).
        url: ``redis://[[user]:password@]host[:port][/db]``.
        key: the channel prefix (Node's ``key``), ``socket.io`` by default.
        requests_timeout: seconds to wait for peers' answers (Node's ``requestsTimeout``).
        publish_on_specific_response_channel: answer a request on the requester's own
            response channel (Node's option of the same name).
        link_options: connection timeouts and reconnection backoff.

    Raises:
        ConfigError: a bad URL, or a timeout that is not positive.
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        url: str = DEFAULT_URL,
        key: str = "socket.io",
        requests_timeout: float = 5.0,
        publish_on_specific_response_channel: bool = False,
        link_options: LinkOptions | None = None,
    ) -> None:
        super().__init__(namespace)
        if not requests_timeout > 0:
            raise ConfigError(f"requests_timeout: expected seconds > 0, got {requests_timeout!r}")
        #: This adapter's id on the wire (Node: one per namespace and server).
        self.uid = new_uid()
        self.key = key
        self.requests_timeout = requests_timeout
        self.publish_on_specific_response_channel = publish_on_specific_response_channel
        self.channels = Channels(key, namespace.name, self.uid)
        self.link = link_for(namespace.server, RedisAddress.from_url(url), link_options)
        self._pending: dict[str, _Pending] = {}
        #: Server-side event name -> handlers (see :meth:`on`).
        self.server_handlers: dict[str, list[ServerSideHandler]] = {}
        self._started = False

    def __repr__(self) -> str:
        return f"<RedisAdapter {self.namespace.name} uid={self.uid} {self.link.address}>"

    # -- lifecycle -----------------------------------------------------------------------------

    def _subscriptions(self) -> tuple[dict[str, Any], dict[str, Any]]:
        ch = self.channels
        channels = {ch.request: self._on_request, ch.response: self._on_response}
        channels[ch.specific_response()] = self._on_response
        return channels, {ch.pattern: self._on_broadcast}

    async def start(self) -> None:
        """Subscribe the namespace's channels (the link starts on first use).

        Raises:
            RedisUnavailable: not subscribed within the link's ``connect_timeout``.
        """
        if not self._started:
            self._started = True
            self.link.users += 1
        # Also when started before: a server cancelled without shutdown() and run again
        # finds its link stopped (subscribing the same handlers again changes nothing).
        self.link.start(self.namespace.spawn)
        channels, patterns = self._subscriptions()
        await self.link.subscribe(channels, patterns)

    async def close(self) -> None:
        """Unsubscribe; the last adapter of the server closes the connections."""
        if not self._started:
            return
        self._started = False
        for pending in self._pending.values():
            pending.done.set()  # its waiter sees too few answers and raises
        channels, patterns = self._subscriptions()
        await self.link.unsubscribe(channels, patterns)
        self.link.users -= 1
        if self.link.users <= 0:
            await self.link.aclose()

    # -- fan-out -------------------------------------------------------------------------------

    async def _publish(self, channel: str, data: bytes, what: str) -> None:
        try:
            await self.link.publish(channel, data)
        except (AdapterError, RemoteProtocolError) as exc:
            # The link logs the outage once; peers miss this message (no offline queue).
            log.debug("%s not sent to other servers: %s", what, exc)

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Deliver locally, then publish to peers unless ``opts.local`` (C1 broadcast).

        Raises:
            LocalProtocolError: the packet cannot be encoded (JSON or msgpack).
        """
        await super().broadcast(packet, opts)
        if opts.local:
            return
        ch = self.channels
        channel = ch.room(next(iter(opts.rooms))) if len(opts.rooms) == 1 else ch.broadcast
        await self._publish(channel, encode_broadcast(self.uid, packet, opts), "broadcast")

    async def _request(self, rtype: RequestType, **fields: Any) -> None:
        body = request_body(self.uid, rtype, **fields)
        await self._publish(self.channels.request, encode_json(body), rtype.name)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        await super().add_sockets(opts, rooms)
        if not opts.local:
            await self._request(RequestType.REMOTE_JOIN, opts=opts_to_wire(opts), rooms=rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        await super().del_sockets(opts, rooms)
        if not opts.local:
            await self._request(RequestType.REMOTE_LEAVE, opts=opts_to_wire(opts), rooms=rooms)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        await super().disconnect_sockets(opts, close)
        if not opts.local:
            await self._request(RequestType.REMOTE_DISCONNECT, opts=opts_to_wire(opts), close=close)

    # -- requests that wait for answers ------------------------------------------------------

    async def server_count(self) -> int:
        """Servers subscribed to this namespace's request channel (``PUBSUB NUMSUB``).

        Raises:
            RedisUnavailable: Redis cannot be reached.
            RemoteProtocolError: Redis answered something else than ``[channel, count]``.
        """
        reply = await self.link.execute("PUBSUB", "NUMSUB", self.channels.request)
        if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], int):
            return reply[1]
        raise RemoteProtocolError(f"unexpected PUBSUB NUMSUB reply {reply!r}")

    async def _ask(
        self, rtype: RequestType, name: str, *, self_counts: bool, **fields: Any
    ) -> list[Any]:
        """Publish a request and collect the answers of every other server.

        Node counts its own (local) answer for fetch/allRooms but not for serverSideEmit.
        """
        servers = await self.server_count()
        expected = servers if self_counts else servers - 1
        received = 1 if self_counts else 0
        if expected <= received:
            return []
        request_id = new_uid()
        pending = self._pending[request_id] = _Pending(name, expected, received)
        try:
            body = request_body(self.uid, rtype, request_id=request_id, **fields)
            await self.link.publish(self.channels.request, encode_json(body))
            with anyio.move_on_after(self.requests_timeout):
                await pending.done.wait()
        finally:
            del self._pending[request_id]
        if pending.received < pending.expected:
            raise ClusterTimeout(name, pending.expected, pending.received)
        return pending.items

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        """Local :class:`~thinkio.server.Socket` objects, then :class:`RemoteSocket` ones.

        Raises:
            ClusterTimeout: a server did not answer within ``requests_timeout``.
            RedisUnavailable: Redis cannot be reached.
        """
        local = await super().fetch_sockets(opts)
        if opts.local:
            return local
        remote: list[Any] = []
        for item in await self._ask(
            RequestType.REMOTE_FETCH, "fetchSockets", self_counts=True, opts=opts_to_wire(opts)
        ):
            try:
                remote.append(RemoteSocket.from_wire(self.namespace, item))
            except RemoteProtocolError as exc:
                log.debug("ignoring a fetched socket: %s", exc)
        return local + remote

    async def all_rooms(self) -> set[str]:
        """Every room of the namespace on every server (Node's ``allRooms``).

        Raises:
            ClusterTimeout: a server did not answer within ``requests_timeout``.
            RedisUnavailable: Redis cannot be reached.
        """
        rooms = set(self.rooms.all_rooms())
        rooms.update(await self._ask(RequestType.ALL_ROOMS, "allRooms", self_counts=True))
        return rooms

    # -- server-side events (Node's serverSideEmit) -------------------------------------------

    def on(self, event: str, handler: ServerSideHandler) -> ServerSideHandler:
        """Handle an event other servers send with ``serverSideEmit``."""
        self.server_handlers.setdefault(event, []).append(handler)
        return handler

    async def server_side_emit(self, event: str, *args: Any) -> None:
        """Send an event to every *other* server's handlers (no answer awaited)."""
        await self._request(RequestType.SERVER_SIDE_EMIT, data=[event, *args])

    async def server_side_call(self, event: str, *args: Any) -> list[Any]:
        """Send an event to every other server and return their acks (first argument each).

        Raises:
            ClusterTimeout: a server did not answer within ``requests_timeout``.
            RedisUnavailable: Redis cannot be reached.
        """
        return await self._ask(
            RequestType.SERVER_SIDE_EMIT, "serverSideEmit", self_counts=False, data=[event, *args]
        )

    # -- what peers send -----------------------------------------------------------------------

    def _on_broadcast(self, channel: bytes, data: bytes) -> None:
        prefix = self.channels.broadcast.encode()
        if not channel.startswith(prefix):
            return
        # "{key}#{nsp}#" or "{key}#{nsp}#{room}#": the room is between the prefix and the last #.
        room = channel[len(prefix) : -1].decode("utf-8", "replace")
        if room and not self.rooms.members(room):
            return  # a room with no socket here: skip decoding (Node does the same)
        try:
            message = decode_broadcast(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed broadcast on %r: %s", channel, exc)
            return
        if message.uid == self.uid or message.namespace != self.namespace.name:
            return
        try:
            payloads = encode(Packet(PacketType.EVENT, self.namespace.name, message.data))
        except LocalProtocolError as exc:
            log.debug("ignoring a broadcast thinkio cannot encode: %s", exc)
            return
        opts = message.opts
        self.namespace.deliver(self.local_targets(opts), payloads, volatile=opts.volatile)

    def _on_response(self, channel: bytes, data: bytes) -> None:
        if not self._pending:
            return  # the common case: answers to other servers' requests
        try:
            response = decode_response(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed response: %s", exc)
            return
        pending = self._pending.get(response.request_id)
        if pending is not None:
            _collect(pending, response)

    def _on_request(self, channel: bytes, data: bytes) -> None:
        try:
            request = decode_request(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed request: %s", exc)
            return
        if request.uid == self.uid or request.request_id in self._pending:
            return  # our own: applied or answered locally already
        if request.type == RequestType.BROADCAST:
            answer_acked_broadcast(self, request)
            return

        async def run() -> None:
            try:
                await answer(self, request)
            except (AdapterError, RemoteProtocolError, LocalProtocolError) as exc:
                log.warning("could not answer %s request: %s", request.type, exc)

        self.namespace.spawn(run)

    async def reply(self, request: Request, body: bytes) -> None:
        """Publish an answer to a peer's request on the channel it listens to."""
        channel = self.channels.response
        if self.publish_on_specific_response_channel and request.uid:
            channel = self.channels.specific_response(request.uid)
        await self._publish(channel, body, "response")


def _collect(pending: _Pending, response: Response) -> None:
    """Count one answer, the way Node's ``onresponse`` does."""
    if pending.name == "serverSideEmit":
        pending.items.append(response.data)
        pending.answered()
        return
    values = response.sockets if pending.name == "fetchSockets" else response.rooms
    if values is None:
        pending.received += 1  # Node counts it, but never completes on it
        return
    pending.items.extend(values)
    pending.answered()
