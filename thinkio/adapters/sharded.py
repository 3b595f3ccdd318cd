"""The sharded Redis adapter: Node's ``createShardedAdapter`` on a Redis Cluster (Redis 7).

A :class:`~.cluster.ClusterAdapter` whose transport is sharded pub/sub (``SPUBLISH`` /
``SSUBSCRIBE``: a message goes to the shard owning its channel only, not to every node of
the cluster) and whose codec is Node's ``ClusterAdapter`` model (REDIS-INTEROP.md C2,
:mod:`.cluster_codec`): JSON text, or the whole message as MessagePack when it may carry
binary and does. Channels, per namespace ``nsp`` and prefix ``prefix``:

* ``{prefix}#{nsp}#``: every message; ``server_count()`` is its ``SHARDNUMSUB``;
* ``{prefix}#{nsp}#{uid}#``: responses to the server with that uid;
* with ``subscription_mode`` ``"dynamic"`` (the default), ``{prefix}#{nsp}#{room}#`` for a
  broadcast without acks to exactly one public room (not a socket id): each server
  subscribes the channel of a room while one of its sockets is in it, so such a broadcast
  reaches only the servers that have the room. ``"dynamic-private"`` does so for socket-id
  rooms too, ``"static"`` never.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from .. import _json
from ..errors import LocalProtocolError, RemoteProtocolError
from .cluster import ClusterAdapter, is_request
from .cluster_codec import MAY_CARRY_BINARY, from_dict, has_binary, to_dict
from .messages import Broadcast, Message, Response, SocketsJoin
from .msgpack import DEFAULT_MAX_DEPTH, packb, unpackb
from .options import RedisOptions
from .redis_link import link_for
from .wire import encode_json, js_iso_date

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("SUBSCRIPTION_MODES", "ShardedRedisAdapter")

log = logging.getLogger("thinkio.adapters.redis")

SUBSCRIPTION_MODES = ("dynamic", "dynamic-private", "static")


def encode_cluster_message(body: dict[str, object]) -> bytes:
    """JSON, unless the message may carry binary and does: then MessagePack (Node's rule).

    Raises:
        LocalProtocolError: a value JSON or MessagePack cannot hold.
    """
    if body["type"] in MAY_CARRY_BINARY and has_binary(body.get("data")):
        return packb(body)
    return encode_json(body)


def decode_cluster_message(data: bytes) -> object:
    """JSON if the first byte is ``{``, else MessagePack.

    Raises:
        RemoteProtocolError: neither.
    """
    if data[:1] == b"{":
        try:
            return _json.loads(data.decode("utf-8"), max_depth=DEFAULT_MAX_DEPTH)
        except UnicodeDecodeError:
            raise RemoteProtocolError("message is not UTF-8") from None
    return unpackb(data, on_date=js_iso_date)


class ShardedRedisAdapter(ClusterAdapter):
    """A namespace's adapter on sharded pub/sub (see the module docstring).

    Args:
        namespace: the namespace (given by the server when it calls the factory).
        options: where the Redis Cluster is (``cluster=True``).
        channel_prefix: Node's ``channelPrefix``.
        subscription_mode: ``"dynamic"``, ``"dynamic-private"`` or ``"static"``.
        requests_timeout: seconds to wait for other servers' answers.
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        options: RedisOptions,
        channel_prefix: str = "socket.io",
        subscription_mode: str = "dynamic",
        requests_timeout: float = 5.0,
    ) -> None:
        super().__init__(namespace, requests_timeout=requests_timeout)
        self.link = link_for(namespace.server, options, sharded=True)
        self.mode = subscription_mode
        self.channel = f"{channel_prefix}#{namespace.name}#"
        self.response_channel = f"{self.channel}{self.uid}#"
        self._room_channels: set[str] = set()
        self._started = False

    # -- dynamic room channels -----------------------------------------------------------------

    def _separate(self, room: str) -> bool:
        """Whether a room has a channel of its own (Node's ``shouldUseASeparateNamespace``)."""
        if self.mode == "dynamic-private":
            return True
        return self.mode == "dynamic" and room not in self.namespace.sockets

    def _rooms_changed(self, rooms: Iterable[str]) -> None:
        update = self._channel_update(rooms)
        if update is not None:
            self.namespace.spawn(update)

    def _channel_update(
        self, rooms: Iterable[str], *, joining: bool = False
    ) -> Callable[[], Coroutine[Any, Any, None]] | None:
        """What to (un)subscribe after rooms changed (``joining``: before they change)."""
        if self.mode == "static" or not self._started:
            return None
        rooms = list(rooms)
        wanted = {r for r in rooms if self._separate(r) and (joining or self.rooms.members(r))}
        gone = {r for r in rooms if r in self._room_channels and not self.rooms.members(r)}
        new = {r for r in wanted if r not in self._room_channels}
        if not new and not gone:
            return None
        self._room_channels = (self._room_channels | new) - gone

        async def update() -> None:
            if new:
                channels = {f"{self.channel}{r}#": self._on_message for r in new}
                await self.link.subscribe(channels)
            if gone:
                await self.link.unsubscribe([f"{self.channel}{r}#" for r in gone])

        return update

    def receive(self, sender: str | None, message: Message) -> None:
        """As :meth:`ClusterAdapter.receive`; a remote ``sockets_join`` that needs new room
        channels subscribes them first, so that a broadcast to the room sent once the join
        shows is not missed."""
        if isinstance(message, SocketsJoin) and sender != self.uid:
            update = self._channel_update(message.rooms, joining=True)
            if update is not None:

                async def subscribe_then_join() -> None:
                    try:
                        await update()
                    finally:
                        super(ShardedRedisAdapter, self).receive(sender, message)

                self.namespace.spawn(subscribe_then_join)
                return
        super().receive(sender, message)

    def join(self, sid: str, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        super().join(sid, rooms)
        self._rooms_changed(rooms)

    def leave(self, sid: str, room: str) -> None:
        super().leave(sid, room)
        self._rooms_changed([room])

    def remove(self, sid: str) -> frozenset[str]:
        rooms = super().remove(sid)
        self._rooms_changed(rooms)
        return rooms

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Subscribe the namespace's channels (the link starts on first use).

        Raises:
            RedisUnavailable: not subscribed within the link's ``connect_timeout``.
        """
        if not self._started:
            self._started = True
            self.link.users += 1
        self.link.start(self.namespace.spawn_service)
        await self.link.subscribe(
            {self.channel: self._on_message, self.response_channel: self._on_message}
        )
        self._rooms_changed(self.rooms.all_rooms())

    async def close(self) -> None:
        await super().close()
        if not self._started:
            return
        self._started = False
        channels = [self.channel, self.response_channel]
        channels += [f"{self.channel}{r}#" for r in self._room_channels]
        self._room_channels.clear()
        await self.link.unsubscribe(channels)
        self.link.users -= 1
        if self.link.users <= 0:
            await self.link.aclose()

    # -- the transport -------------------------------------------------------------------------

    def _channel_of(self, message: Message) -> str:
        # An acked broadcast cannot use a room's channel: the acks are counted per server
        # of the whole namespace (Node's computeChannel).
        if isinstance(message, Broadcast) and message.request_id is None:
            rooms = message.opts.rooms
            if len(rooms) == 1:
                room = next(iter(rooms))
                looks_like_socket = len(room) == 20
                if self.mode == "dynamic-private" or (
                    self.mode == "dynamic" and not looks_like_socket
                ):
                    return f"{self.channel}{room}#"
        return self.channel

    async def publish(self, message: Message) -> None:
        body = to_dict(self.uid, self.namespace.name, message)
        data = encode_cluster_message(body)
        await self.link.publish(self._channel_of(message), data, wait=is_request(message))

    async def publish_response(self, requester: str, response: Response) -> None:
        body = to_dict(self.uid, self.namespace.name, response)
        await self.link.publish(f"{self.channel}{requester}#", encode_cluster_message(body))

    async def server_count(self) -> int:
        """Servers subscribed to this namespace's channel (``PUBSUB SHARDNUMSUB``).

        Raises:
            RedisUnavailable: Redis cannot be reached.
        """
        return await self.link.subscribers(self.channel)

    def _on_message(self, channel: bytes, data: bytes) -> None:
        try:
            uid, nsp, item = from_dict(decode_cluster_message(data))
        except (RemoteProtocolError, LocalProtocolError) as exc:
            log.debug("ignoring a malformed message on %r: %s", channel, exc)
            return
        if nsp == self.namespace.name:
            self.receive_any(uid, item)
