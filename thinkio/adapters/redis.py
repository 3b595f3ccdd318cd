"""The Redis adapter: thinkio and Node.js socket.io servers sharing one Redis.

A :class:`~.cluster.ClusterAdapter` whose transport is Redis pub/sub and whose codec is the
wire format of Node's ``@socket.io/redis-adapter`` classic adapter (``createAdapter(pub,
sub)``, REDIS-INTEROP.md C1; :mod:`.wire`), so a thinkio server is one more node of a Node
cluster and the other way round::

    from thinkio.adapters import redis_adapter

    io = Server(adapter=redis_adapter("redis://127.0.0.1:6379/0"))

Every namespace gets a :class:`RedisAdapter`; the adapters of one server share one
:class:`~.redis_link.RedisLink` (one subscriber, one command pool). The link runs in the
server's task group: :meth:`RedisAdapter.start`, which ``Server.run`` awaits, starts it and
waits until the namespace's channels are subscribed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..errors import ConfigError, RemoteProtocolError
from .cluster import ClusterAdapter, is_request
from .messages import Message, Response
from .options import RedisOptions
from .redis_link import link_for
from .wire import (
    Channels,
    decode_broadcast,
    decode_request,
    decode_response,
    encode_message,
    encode_response,
    js_iso_date,
    new_uid,
)

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("RedisAdapter",)

log = logging.getLogger("thinkio.adapters.redis")


class RedisAdapter(ClusterAdapter):
    """A namespace's adapter on Redis pub/sub, wire-compatible with Node's redis-adapter 8.

    Args:
        namespace: the namespace (given by the server when it calls the factory).
        options: where Redis is (:class:`~.redis_link.RedisOptions`).
        key: the channel prefix (Node's ``key``), ``socket.io`` by default.
        requests_timeout: seconds to wait for peers' answers (Node's ``requestsTimeout``).
        publish_on_specific_response_channel: answer a request on the requester's own
            response channel (Node's option of the same name).

    Raises:
        ConfigError: a timeout that is not positive.
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        options: RedisOptions | None = None,
        key: str = "socket.io",
        requests_timeout: float = 5.0,
        publish_on_specific_response_channel: bool = False,
    ) -> None:
        if not requests_timeout > 0:
            raise ConfigError(f"requests_timeout: expected seconds > 0, got {requests_timeout!r}")
        # Node's classic adapter names servers with six characters (uid2(6)).
        super().__init__(namespace, uid=new_uid(), requests_timeout=requests_timeout)
        self.key = key
        self.publish_on_specific_response_channel = publish_on_specific_response_channel
        self.channels = Channels(key, namespace.name, self.uid)
        self.link = link_for(namespace.server, options or RedisOptions())
        self._started = False
        #: How packb starts [uid, packet, opts] for our uid (fixarray 3, fixstr 6, the uid).
        self._own_prefix = b"\x93\xa6" + self.uid.encode()

    def __repr__(self) -> str:
        return f"<RedisAdapter {self.namespace.name} uid={self.uid} {self.link!r}>"

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
        ch = self.channels
        await self.link.subscribe(
            {
                ch.request: self._on_request,
                ch.response: self._on_response,
                ch.specific_response(): self._on_response,
            },
            {ch.pattern: self._on_broadcast},
        )

    async def close(self) -> None:
        """Unsubscribe; the last adapter of the server closes the connections."""
        await super().close()
        if not self._started:
            return
        self._started = False
        ch = self.channels
        await self.link.unsubscribe([ch.request, ch.response, ch.specific_response()], [ch.pattern])
        self.link.users -= 1
        if self.link.users <= 0:
            await self.link.aclose()

    # -- the transport -------------------------------------------------------------------------

    async def publish(self, message: Message) -> None:
        channel, body = encode_message(message, self.uid, self.channels)
        await self.link.publish(channel, body, wait=is_request(message))

    async def publish_response(self, requester: str, response: Response) -> None:
        channel = self.channels.response
        if self.publish_on_specific_response_channel:
            channel = self.channels.specific_response(requester)
        await self.link.publish(channel, encode_response(response))

    async def server_count(self) -> int:
        """Servers subscribed to this namespace's request channel (``PUBSUB NUMSUB``).

        Raises:
            RedisUnavailable: Redis cannot be reached.
        """
        return await self.link.subscribers(self.channels.request)

    # -- what peers publish --------------------------------------------------------------------

    def _on_broadcast(self, channel: bytes, data: bytes) -> None:
        prefix = self.channels.broadcast.encode()
        if not channel.startswith(prefix):
            return
        # "{key}#{nsp}#" or "{key}#{nsp}#{room}#": the room is between the prefix and the last #.
        room = channel[len(prefix) : -1].decode("utf-8", "replace")
        if room and not self.rooms.members(room) and self.recovery is None:
            # A room with no socket here: skip decoding (Node does the same). Not with
            # connection state recovery: a socket of the room may come back and need it.
            return
        if data.startswith(self._own_prefix):
            return  # our own broadcast, back from Redis: [uid, ...] starts with our uid
        try:
            uid, nsp, message = decode_broadcast(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed broadcast on %r: %s", channel, exc)
            return
        if nsp == self.namespace.name:
            self.receive(uid, message)

    def _on_request(self, channel: bytes, data: bytes) -> None:
        try:
            uid, nsp, message = decode_request(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed request: %s", exc)
            return
        if nsp in (None, self.namespace.name):
            self.receive(uid, message)

    def _on_response(self, channel: bytes, data: bytes) -> None:
        if not self.awaiting_responses:
            return  # the common case: answers to other servers' requests
        try:
            response = decode_response(data, on_date=js_iso_date)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed response: %s", exc)
            return
        self.receive_response(response)
