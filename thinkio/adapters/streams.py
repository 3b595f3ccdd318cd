"""The Redis Streams adapter: wire-compatible with Node's ``@socket.io/redis-streams-adapter``.

A :class:`~.cluster.ClusterAdapter` (Node's ``ClusterAdapter`` message model,
:mod:`.cluster_codec`) whose lasting messages go through a Redis stream, so a server whose
link to Redis was down reads what it missed when the link comes back, up to the stream's
length (REDIS-INTEROP.md C3):

* broadcasts, joins, leaves and disconnects: ``XADD {stream} MAXLEN ~ {max_len} * uid ..
  nsp .. type "<int>" data ..``, ``data`` being JSON text, or base64 MessagePack when it holds
  binary. Every server reads the stream from where it last was (``XREAD COUNT BLOCK``), so a
  reader that lost its connection resumes at its offset and misses nothing still in the
  stream;
* what is useless later (acked broadcasts, server-side emits, fetch requests) and every
  response: pub/sub, MessagePack, on ``{prefix}#{nsp}#`` and ``{prefix}#{nsp}#{uid}#``;
* ``server_count()``: ``PUBSUB NUMSUB {prefix}#{nsp}#``.

Beyond Node: an entry this server could not add (Redis was down) waits in a bounded
backlog (``max_len`` entries) and is added, in order, once Redis answers again, so a
broadcast published during a Redis restart is not lost either. Connection state recovery
(Node's ``restoreSession``) is not implemented.
"""

from __future__ import annotations

import base64
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import anyio
from coredis.exceptions import RedisError
from coredis.tokens import PureToken

from .. import _json
from .._backoff import Backoff
from ..errors import RemoteProtocolError
from .cluster import ClusterAdapter
from .cluster_codec import MAY_CARRY_BINARY, from_dict, has_binary, to_dict
from .errors import AdapterError
from .messages import Broadcast, FetchSockets, Message, Response, ServerSideEmit
from .msgpack import DEFAULT_MAX_DEPTH, packb, unpackb
from .options import RedisOptions
from .redis_link import RedisLink, link_for, open_client
from .wire import encode_json, js_iso_date

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("RedisStreamsAdapter", "StreamOptions")

#: Retrying a read or an add that Redis refused: 50 ms, doubling up to 2 s.
_RETRY_BACKOFF = Backoff(0.05, 2.0)

log = logging.getLogger("thinkio.adapters.redis")


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """The stream's name and bounds (Node's ``streamName``, ``maxLen``, ``readCount``,
    ``blockTimeInMs``)."""

    name: str = "socket.io"
    max_len: int = 10_000
    read_count: int = 100
    #: Seconds one ``XREAD`` blocks.
    block_time: float = 5.0


def _ephemeral(message: Message) -> bool:
    """Messages that mean nothing later go through pub/sub (Node's ``isEphemeral``)."""
    if isinstance(message, Broadcast):
        return message.request_id is not None
    return isinstance(message, ServerSideEmit | FetchSockets)


def encode_entry(uid: str, namespace: str, message: Message) -> dict[str, str]:
    """A stream entry's fields, as Node's adapter writes them.

    Raises:
        LocalProtocolError: a value JSON or MessagePack cannot hold.
    """
    body = to_dict(uid, namespace, message)
    fields = {"uid": uid, "nsp": namespace, "type": str(body["type"])}
    data = body["data"]
    if body["type"] in MAY_CARRY_BINARY and has_binary(data):
        fields["data"] = base64.b64encode(packb(data)).decode("ascii")
    else:
        fields["data"] = encode_json(data).decode("utf-8")
    return fields


def decode_entry(fields: dict[bytes, bytes]) -> tuple[str | None, str, Any]:
    """Read a stream entry: ``(uid, namespace, message or None)``.

    Raises:
        RemoteProtocolError: fields of the wrong form.
    """
    try:
        text = {k.decode(): v.decode() for k, v in fields.items()}
        mtype = int(text["type"])
        raw = text.get("data")
        data: Any = None
        if raw:
            if raw.startswith("{"):
                data = _json.loads(raw, max_depth=DEFAULT_MAX_DEPTH)
            else:
                data = unpackb(base64.b64decode(raw, validate=True), on_date=js_iso_date)
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise RemoteProtocolError(f"bad stream entry: {exc}") from None
    return from_dict({"uid": text.get("uid"), "nsp": text.get("nsp"), "type": mtype, "data": data})


class _StreamReader:
    """One server's reader of one stream, shared by its namespaces' adapters."""

    def __init__(self, options: RedisOptions, stream: StreamOptions) -> None:
        self.options = options
        self.stream = stream
        self.adapters: dict[str, RedisStreamsAdapter] = {}
        self.offset = "$"
        self.running = False
        self.scope: anyio.CancelScope | None = None

    async def run(self) -> None:
        block_ms = round(self.stream.block_time * 1000)
        reading = RedisOptions(
            self.options.url,
            sentinels=self.options.sentinels,
            service_name=self.options.service_name,
            cluster=self.options.cluster,
            ssl_context=self.options.ssl_context,
            connect_timeout=self.options.connect_timeout,
            command_timeout=self.options.command_timeout + self.stream.block_time,
        )
        failures = 0
        try:
            with anyio.CancelScope() as self.scope:
                async with open_client(reading) as client:
                    if self.offset == "$":
                        # Start after the last entry now in the stream (Node's "$", but
                        # kept as an id, so that a reconnection resumes from it).
                        info = await client.xrevrange(self.stream.name, "+", "-", count=1)
                        if info:
                            self.offset = _text(info[0].identifier)
                    while True:
                        try:
                            reply = await client.xread(
                                {self.stream.name: self.offset},
                                count=self.stream.read_count,
                                block=block_ms,
                            )
                        except (RedisError, OSError) as exc:
                            failures += 1
                            delay = _RETRY_BACKOFF.duration(failures)
                            log.debug("stream read failed (%s); retrying in %.2f s", exc, delay)
                            await anyio.sleep(delay)
                            continue
                        failures = 0
                        for entries in (reply or {}).values():
                            for entry in entries:
                                self.offset = _text(entry.identifier)
                                self._dispatch(entry.field_values)
        finally:
            self.running = False

    def _dispatch(self, fields: dict[bytes, bytes]) -> None:
        try:
            uid, nsp, item = decode_entry(fields)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed stream entry: %s", exc)
            return
        adapter = self.adapters.get(nsp)
        if adapter is not None:
            adapter.receive_any(uid, item)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_READERS: WeakKeyDictionary[object, dict[tuple[RedisOptions, StreamOptions], _StreamReader]] = (
    WeakKeyDictionary()
)


class _Backlog:
    """Entries not yet added to the stream, added in order once Redis answers (bounded)."""

    def __init__(self, link: RedisLink, stream: StreamOptions) -> None:
        self.link = link
        self.stream = stream
        self.entries: deque[dict[str, str]] = deque(maxlen=stream.max_len)
        self.flushing = False

    async def add(self, fields: dict[str, str]) -> None:
        self.entries.append(fields)
        if not self.flushing:
            await self.flush_once()

    async def flush_once(self) -> bool:
        """Add what waits; False if Redis still refuses."""
        while self.entries:
            try:
                await self.link.client.xadd(
                    self.stream.name,
                    self.entries[0],
                    trim_strategy=PureToken.MAXLEN,
                    threshold=self.stream.max_len,
                    trim_operator=PureToken.APPROXIMATELY,
                )
            except (RedisError, OSError, AdapterError) as exc:
                log.debug("stream entry kept for later (%d waiting): %s", len(self.entries), exc)
                return False
            self.entries.popleft()
        return True

    async def flush_until_done(self) -> None:
        self.flushing = True
        failures = 0
        try:
            while not await self.flush_once():
                failures += 1
                await anyio.sleep(_RETRY_BACKOFF.duration(failures))
        finally:
            self.flushing = False


class RedisStreamsAdapter(ClusterAdapter):
    """A namespace's adapter on Redis Streams (see the module docstring).

    Args:
        namespace: the namespace (given by the server when it calls the factory).
        options: where Redis is.
        stream: the stream's name and bounds.
        channel_prefix: the pub/sub channel prefix (Node's ``channelPrefix``).
        requests_timeout: seconds to wait for other servers' answers.
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        options: RedisOptions | None = None,
        stream: StreamOptions | None = None,
        channel_prefix: str = "socket.io",
        requests_timeout: float = 5.0,
    ) -> None:
        super().__init__(namespace, requests_timeout=requests_timeout)
        options = options or RedisOptions()
        self.stream = stream or StreamOptions()
        self.link = link_for(namespace.server, options)
        readers = _READERS.setdefault(namespace.server, {})
        key = (options, self.stream)
        self.reader = readers.get(key) or readers.setdefault(
            key, _StreamReader(options, self.stream)
        )
        self.reader.adapters[namespace.name] = self
        self.backlog = _Backlog(self.link, self.stream)
        self.public = f"{channel_prefix}#{namespace.name}#"
        self.private = f"{channel_prefix}#{namespace.name}#{self.uid}#"
        self._started = False

    async def start(self) -> None:
        """Subscribe the namespace's channels and start reading the stream.

        Raises:
            RedisUnavailable: not subscribed within the link's ``connect_timeout``.
        """
        if not self._started:
            self._started = True
            self.link.users += 1
        self.link.start(self.namespace.spawn)
        if not self.reader.running:
            self.reader.running = True
            self.namespace.spawn(self.reader.run)
        await self.link.subscribe({self.public: self._on_pubsub, self.private: self._on_pubsub})

    async def close(self) -> None:
        await super().close()
        if not self._started:
            return
        self._started = False
        self.reader.adapters.pop(self.namespace.name, None)
        if not self.reader.adapters and self.reader.scope is not None:
            self.reader.scope.cancel()
        await self.link.unsubscribe([self.public, self.private])
        self.link.users -= 1
        if self.link.users <= 0:
            await self.link.aclose()

    # -- the transport -------------------------------------------------------------------------

    async def publish(self, message: Message) -> None:
        if _ephemeral(message):
            await self.link.publish(
                self.public, packb(to_dict(self.uid, self.namespace.name, message))
            )
            return
        await self.backlog.add(encode_entry(self.uid, self.namespace.name, message))
        if self.backlog.entries and not self.backlog.flushing:
            self.namespace.spawn(self.backlog.flush_until_done)

    async def publish_response(self, requester: str, response: Response) -> None:
        channel = f"{self.public}{requester}#"
        await self.link.publish(channel, packb(to_dict(self.uid, self.namespace.name, response)))

    async def server_count(self) -> int:
        return await self.link.subscribers(self.public)

    def _on_pubsub(self, channel: bytes, data: bytes) -> None:
        try:
            uid, nsp, item = from_dict(unpackb(data, on_date=js_iso_date))
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed message: %s", exc)
            return
        if nsp == self.namespace.name:
            self.receive_any(uid, item)
