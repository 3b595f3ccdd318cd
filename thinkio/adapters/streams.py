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
broadcast published during a Redis restart is not lost either.

Connection state recovery (Node's ``persistSession`` / ``restoreSession``), with the stream as
the packet log: a recoverable broadcast is added to the stream first and its entry id is its
offset (on every server: a reader appends the id of the entry it read). A dropped session is
kept here (as by the in-memory adapter) and in Redis (``SET {session_key_prefix}{pid}``,
base64 MessagePack of ``{sid, pid, rooms, data}``, expiring after
``max_disconnection_duration``), so a client that comes back to *another* server is restored
there: ``GETDEL`` the session, check that its offset is still in the stream, and read the
entries after it (``XRANGE``) for the broadcasts its rooms would have received. Packets sent
with ``socket.emit`` carry a local offset and are recovered on the server that sent them
(use ``io.to(socket.id).emit(...)`` for a packet that must be recoverable anywhere). A
broadcast whose entry could not be added (Redis down) gets a local offset too.
"""

from __future__ import annotations

import base64
import logging
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import anyio
from coredis.exceptions import RedisError
from coredis.tokens import PureToken

from .. import _json
from .._backoff import Backoff
from ..errors import LocalProtocolError, RemoteProtocolError
from ..server.adapter import BroadcastOptions
from ..server.recovery import RecoveredSession, SavedSession, should_include
from ..socketio import Packet
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

#: At most this many ``XRANGE`` reads (1000 entries each) to restore one session (Node's
#: bound too: a stream that grows faster than it is read cannot hold the restore forever).
_MAX_XRANGE_CALLS = 100

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
                        # kept as an id, so that a reconnection resumes from it; and so
                        # that a session restore knows where the reader is).
                        info = await client.xrevrange(self.stream.name, "+", "-", count=1)
                        if self.offset == "$":  # (a restore may have set it meanwhile)
                            self.offset = _text(info[0].identifier) if info else "0-0"
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
                                self._dispatch(entry.field_values, self.offset)
        finally:
            self.running = False

    def _dispatch(self, fields: dict[bytes, bytes], entry_id: str) -> None:
        try:
            uid, nsp, item = decode_entry(fields)
        except RemoteProtocolError as exc:
            log.debug("ignoring a malformed stream entry: %s", exc)
            return
        adapter = self.adapters.get(nsp)
        if adapter is not None:
            if adapter.recovery is not None and isinstance(item, Broadcast):
                item = _with_offset(item, entry_id)
            adapter.receive_any(uid, item)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_ENTRY_ID = re.compile(r"([0-9]+)-([0-9]+)\Z")


def _entry_key(entry_id: str) -> tuple[int, int] | None:
    """A stream entry id as a comparable pair, or None if it is not one."""
    match = _ENTRY_ID.match(entry_id)
    return (int(match[1]), int(match[2])) if match else None


def _recoverable(message: Broadcast) -> bool:
    return message.request_id is None and not message.opts.volatile


def _with_offset(message: Broadcast, entry_id: str) -> Broadcast:
    """A recoverable broadcast read from the stream, with its entry id as its offset."""
    if not _recoverable(message):
        return message
    return Broadcast(message.opts, [*message.data, entry_id])


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
        session_key_prefix: where dropped sessions are kept in Redis, for connection state
            recovery (Node's ``sessionKeyPrefix``).
    """

    def __init__(
        self,
        namespace: Namespace,
        *,
        options: RedisOptions | None = None,
        stream: StreamOptions | None = None,
        channel_prefix: str = "socket.io",
        requests_timeout: float = 5.0,
        session_key_prefix: str = "sio:session:",
    ) -> None:
        super().__init__(namespace, requests_timeout=requests_timeout)
        self.session_key_prefix = session_key_prefix
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
        self.link.start(self.namespace.spawn_service)
        if not self.reader.running:
            self.reader.running = True
            self.namespace.spawn_service(self.reader.run)
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

    # -- connection state recovery -------------------------------------------------------------

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        """With recovery, a recoverable broadcast is added to the stream first: its entry id
        is its offset, here and on every server that reads it."""
        if self.recovery is None or opts.local or not self._stampable(packet, opts):
            await super().broadcast(packet, opts)
            return
        if self.backlog.entries:  # Redis was down: after those, in order
            await self._broadcast_local_offset(packet, opts)
            return
        message = Broadcast(opts, packet.data)
        try:
            fields = encode_entry(self.uid, self.namespace.name, message)
            entry_id = _text(
                await self.link.client.xadd(
                    self.stream.name,
                    fields,
                    trim_strategy=PureToken.MAXLEN,
                    threshold=self.stream.max_len,
                    trim_operator=PureToken.APPROXIMATELY,
                )
            )
        except (RedisError, OSError, AdapterError, LocalProtocolError) as exc:
            log.debug("broadcast not added to the stream (%s): a local offset", exc)
            await self._broadcast_local_offset(packet, opts)
            return
        stamped = Packet(packet.type, packet.namespace, [*packet.data, entry_id], packet.id)
        self.keep(stamped, opts)
        self.apply_broadcast(stamped, opts)

    async def _broadcast_local_offset(self, packet: Packet, opts: BroadcastOptions) -> None:
        """Local sockets get the packet with a local offset; the stream gets it without one
        (its readers append the entry id)."""
        self.apply_broadcast(self.stamp(packet, opts), opts)
        await self._send(Broadcast(opts, packet.data))

    @staticmethod
    def _stampable(packet: Packet, opts: BroadcastOptions) -> bool:
        return packet.id is None and not opts.volatile

    def persist_session(self, session: SavedSession) -> None:
        """Keep the session here and, for the other servers, in Redis."""
        super().persist_session(session)
        recovery = self.namespace.recovery
        if recovery is None:
            return
        body = {
            "sid": session.sid,
            "pid": session.pid,
            "rooms": list(session.rooms),
            "data": session.data,
        }
        key = self.session_key_prefix + session.pid
        px = max(1, round(recovery.max_disconnection_duration * 1000))

        async def store() -> None:
            try:
                value = base64.b64encode(packb(body)).decode("ascii")
                await self.link.client.set(key, value, px=px)
            except (RedisError, OSError, AdapterError, LocalProtocolError) as exc:
                log.debug("session %s kept on this server only: %s", session.sid, exc)

        self.namespace.spawn(store)

    async def restore_session(self, pid: str, offset: str) -> RecoveredSession | None:
        """The session from this server if it dropped here, else from Redis with the
        broadcasts after ``offset`` read from the stream; None if neither has it."""
        local = await super().restore_session(pid, offset)
        key = self.session_key_prefix + pid
        client = self.link.client
        if local is not None:
            # Nobody else may take it now; in a task, so that nothing is awaited between the
            # answer and the socket joining its rooms (no broadcast slips in between).
            async def drop() -> None:
                try:
                    await client.delete([key])
                except (RedisError, OSError, AdapterError) as exc:
                    log.debug("could not drop session %s from Redis: %s", pid, exc)

            self.namespace.spawn(drop)
            return local
        after = _entry_key(offset)
        if after is None:
            return None
        try:
            raw = await client.getdel(key)
            found = await client.xrange(self.stream.name, offset, offset)
            if raw is None or not found:
                return None
            body = unpackb(base64.b64decode(raw), on_date=js_iso_date)
            rooms = tuple(body["rooms"])
            session = RecoveredSession(
                body["sid"], body["pid"], rooms, body.get("data"), offset=offset
            )
            return await self._read_missed(session, offset)
        except (RedisError, OSError, AdapterError, RemoteProtocolError) as exc:
            log.debug("could not restore session %s from Redis: %s", pid, exc)
        except (KeyError, TypeError, ValueError) as exc:
            log.debug("a malformed session %s in Redis: %s", pid, exc)
        return None

    async def _read_missed(self, session: RecoveredSession, offset: str) -> RecoveredSession:
        """Read the stream after ``offset`` up to where this server's reader is, so that
        what comes after reaches the socket through the reader, once and in order."""
        client = self.link.client
        name = self.namespace.name
        missed: list[tuple[tuple[int, int], list[Any]]] = []
        last = _entry_key(offset)
        assert last is not None
        for _ in range(_MAX_XRANGE_CALLS):
            start = f"{last[0]}-{last[1] + 1}"  # exclusive, for Redis < 6.2 too
            entries = await client.xrange(self.stream.name, start, "+", count=1000)
            for entry in entries:
                entry_id = _text(entry.identifier)
                key = _entry_key(entry_id)
                assert key is not None
                last = key
                try:
                    _, nsp, item = decode_entry(entry.field_values)
                except RemoteProtocolError:
                    continue
                if (
                    nsp == name
                    and isinstance(item, Broadcast)
                    and _recoverable(item)
                    and should_include(session.rooms, item.opts.rooms, item.opts.except_rooms)
                ):
                    missed.append((key, [*item.data, entry_id]))
            if entries:
                continue
            # The end of the stream: unless this server's reader is past it (it read, and
            # dropped for want of the socket, entries added since), which are read again.
            reader = _entry_key(self.reader.offset)
            if reader is None or reader <= last:
                break
        # No await from here until the socket is in its rooms: what the reader has not
        # read yet, it will deliver; what it has read is in ``missed``.
        if self.reader.offset == "$":  # the reader has not started: it starts from here
            self.reader.offset = f"{last[0]}-{last[1]}"
        reader = _entry_key(self.reader.offset)
        session.missed = [data for key, data in missed if reader is None or key <= reader]
        return session

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
