"""One server's connections to Redis, on coredis, shared by the adapters of its namespaces.

Why shared: Node's adapters count servers with ``PUBSUB NUMSUB`` (or ``SHARDNUMSUB``) of a
namespace's channel, the number of *connections* subscribed to it (REDIS-INTEROP.md C1). A
server must hold exactly one subscriber per Redis, whatever its number of namespaces, or
Node peers wait for the wrong number of replies. :func:`link_for` hands every namespace of
one :class:`~thinkio.server.Server` the same :class:`RedisLink` for the same options.

Theory of operation. :meth:`RedisLink.run` is one task in the server's task group. It
enters a coredis client (a plain ``Redis``, a Sentinel-managed primary, or a
``RedisCluster``) and one subscriber (``pubsub()``, or ``sharded_pubsub()`` on a cluster),
then reads pushed messages and calls the handler registered for the message's channel or
pattern with ``(channel, data)``. Handlers are synchronous and quick; what must wait is
spawned by the handler. coredis reconnects the subscriber with exponential backoff and
subscribes again; commands (PUBLISH, XADD...) go through the client's pool, which connects
again on the next command. Why coredis and not the hand-written client this replaced: it is
maintained, runs on asyncio and trio (it is built on anyio), and brings TLS, ACL users,
Sentinel and Cluster.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from weakref import WeakKeyDictionary

import anyio
import coredis
from coredis.connection import TCPLocation
from coredis.exceptions import RedisError
from coredis.patterns.pubsub import ShardedPubSub
from coredis.retry import ExponentialBackoffRetryPolicy

from ..errors import ConfigError
from .errors import RedisUnavailable
from .options import RedisOptions

if TYPE_CHECKING:
    pass

__all__ = ("MessageHandler", "RedisLink", "link_for", "open_client")

log = logging.getLogger("thinkio.adapters.redis")

#: A message handler: ``(channel, data)``.
MessageHandler = Callable[[bytes, bytes], None]
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]


def open_client(options: RedisOptions) -> Any:
    """A new coredis client for these options (enter it before use)."""
    parts = urlsplit(options.url)
    kwargs: dict[str, Any] = {
        "decode_responses": False,
        "connect_timeout": options.connect_timeout,
        "stream_timeout": options.command_timeout,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
    }
    if parts.scheme == "rediss" or options.ssl_context is not None:
        kwargs["ssl_context"] = options.ssl_context or ssl.create_default_context()
    if options.cluster:
        return coredis.RedisCluster(parts.hostname, parts.port or 6379, **kwargs)
    db = int(parts.path.strip("/") or 0)
    if options.sentinels:
        sentinel = coredis.Sentinel(
            [TCPLocation(host, port) for host, port in options.sentinels],
            connect_timeout=options.connect_timeout,
        )
        return _SentinelPrimary(sentinel, options.service_name, db=db, **kwargs)
    return coredis.Redis(parts.hostname, parts.port or 6379, db=db, **kwargs)


class _SentinelPrimary:
    """A Sentinel and its primary's client, entered and left together."""

    def __init__(self, sentinel: Any, service: str, **kwargs: Any) -> None:
        self.sentinel = sentinel
        self.primary = sentinel.primary_for(service, **kwargs)

    async def __aenter__(self) -> Any:
        await self.sentinel.__aenter__()
        try:
            return await self.primary.__aenter__()
        except BaseException:
            await self.sentinel.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.primary.__aexit__(*exc)
        finally:
            await self.sentinel.__aexit__(*exc)


#: Messages published in one round trip, at most.
_BATCH = 512
#: Messages waiting to be published, at most (then publish() waits).
_MAX_QUEUED = 10_000


@dataclass(slots=True)
class _Outgoing:
    channel: str
    data: bytes
    #: Set once sent (None: nobody waits).
    done: anyio.Event | None
    error: str | None = None


class _ShardedSubscriber(ShardedPubSub[bytes]):
    """coredis's sharded subscriber, with its per-shard connections released when it stops.

    coredis 6.9's ``ShardedPubSub.run`` enters one connection per primary into an exit stack
    it never closes; the connections' context managers are then finalized by the garbage
    collector, whose release fails (a ``KeyError`` in the pool's statistics) in a task
    nobody awaits. This ``run`` does the same work and closes its stack.
    """

    async def run(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        started = False

        async def hold() -> None:
            nonlocal started
            layout = self.connection_pool.cluster_layout
            async with AsyncExitStack() as stack:
                self.shard_connections = {
                    node.node_id: await stack.enter_async_context(
                        self.connection_pool.acquire(node=node)
                    )
                    for node in layout.primaries
                    if node.node_id
                }
                try:
                    async with anyio.create_task_group() as tg:
                        self._current_scope = tg.cancel_scope
                        for connection in self.shard_connections.values():
                            tg.start_soon(self._consume_shard_push_messages, connection)
                            tg.start_soon(self._shard_keepalive, connection)
                        if not started:
                            started = True
                            task_status.started()
                        elif self.channels:  # connected again: subscribe again
                            await self.subscribe(*self.channels.keys())
                finally:
                    if self._current_scope.cancel_called:
                        # Unsubscribing is a courtesy: a connection already closed (the
                        # server stopping) drops its subscriptions with it.
                        with (
                            anyio.CancelScope(shield=True),
                            contextlib.suppress(
                                anyio.ClosedResourceError, anyio.BrokenResourceError, RedisError
                            ),
                        ):
                            await self._cleanup()

        await self._retry_policy.call_with_retries(hold)


class RedisLink:
    """The command client and the one subscriber of a server (see the module docstring).

    Args:
        options: where Redis is.
        sharded: subscribe with ``SSUBSCRIBE`` and publish with ``SPUBLISH`` (Redis 7
            sharded pub/sub; needs ``options.cluster``).
    """

    def __init__(self, options: RedisOptions, *, sharded: bool = False) -> None:
        if sharded and not options.cluster:
            raise ConfigError("sharded pub/sub needs a Redis Cluster (cluster=True)")
        self.options = options
        self.sharded = sharded
        #: Adapters using the link; the last one to close stops it.
        self.users = 0
        self._channels: dict[bytes, MessageHandler] = {}
        self._patterns: dict[bytes, MessageHandler] = {}
        self._client: Any = None
        self._pubsub: Any = None
        self._connected = anyio.Event()
        self._subscribed = anyio.Event()
        self._running = False
        self._scope: anyio.CancelScope | None = None
        #: Why the link stopped, if Redis refused it.
        self.failure: str | None = None
        self._queue: deque[_Outgoing] = deque()
        self._queued = anyio.Event()
        self._room = anyio.Event()

    def __repr__(self) -> str:
        return f"<RedisLink {self.options.describe()}>"

    @property
    def client(self) -> Any:
        """The coredis client for commands.

        Raises:
            RedisUnavailable: the link is not running.
        """
        if self._client is None:
            raise RedisUnavailable(f"not connected to {self.options.describe()} (not started)")
        return self._client

    # -- running ------------------------------------------------------------------------------

    def start(self, spawn: Spawn) -> None:
        """Start :meth:`run` with ``spawn`` unless it runs already."""
        if not self._running:
            self._running = True
            self._connected, self._subscribed = anyio.Event(), anyio.Event()
            spawn(self.run)

    async def run(self) -> None:
        """Hold the client and the subscriber and dispatch pushed messages, until closed."""
        self.failure = None
        try:
            with anyio.CancelScope() as self._scope:
                await self._hold()
        except* (RedisError, OSError) as group:
            # Not a lost connection (coredis retries those): Redis refused us (a password,
            # a permission). Say why to whoever waits for the link, and stop.
            exc = _first(group)
            self.failure = f"{type(exc).__name__}: {exc}"
            log.error("redis link to %s stopped: %s", self.options.describe(), self.failure)
        finally:
            self._client = self._pubsub = None
            self._running = False
            self._connected.set()
            self._subscribed.set()

    async def _hold(self) -> None:
        retry = ExponentialBackoffRetryPolicy(
            (coredis.exceptions.ConnectionError,), retries=None, base_delay=0.05, max_delay=2.0
        )
        async with open_client(self.options) as client:
            self._client = client
            self._connected.set()
            kwargs: dict[str, Any] = {"ignore_subscribe_messages": True, "retry_policy": retry}
            kwargs["max_idle_seconds"] = self.options.health_check_interval
            if self.sharded:
                subscriber = _ShardedSubscriber(client.connection_pool, **kwargs)
            else:
                subscriber = client.pubsub(**kwargs)
            async with subscriber as pubsub, anyio.create_task_group() as tg:
                tg.start_soon(self._publish_queued, client)
                self._pubsub = pubsub
                self._subscribed.set()
                while True:
                    message = await pubsub.get_message()
                    if message is not None:
                        self._dispatch(message)

    async def _publish_queued(self, client: Any) -> None:
        """Send what :meth:`publish` queued, in order, up to a batch per round trip."""
        while True:
            await self._queued.wait()
            self._queued = anyio.Event()
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(_BATCH, len(self._queue)))]
                self._room.set()
                error = None
                try:
                    async with client.pipeline(transaction=False) as pipe:
                        send = pipe.spublish if self.sharded else pipe.publish
                        for item in batch:
                            send(item.channel, item.data)
                except (RedisError, OSError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    log.debug("%d messages not published: %s", len(batch), error)
                for item in batch:
                    item.error = error
                    if item.done is not None:
                        item.done.set()

    def _dispatch(self, message: Any) -> None:
        channel, pattern = message["channel"], message.get("pattern")
        handler = self._patterns.get(pattern) if pattern else self._channels.get(channel)
        if handler is not None:
            handler(channel, message["data"])

    async def wait_ready(self) -> None:
        """Wait until Redis answers and the subscriber runs.

        Raises:
            RedisUnavailable: not within ``connect_timeout`` (the reason is in the message).
        """
        timeout = self.options.connect_timeout
        why = "no answer"
        with anyio.move_on_after(timeout):
            await self._connected.wait()
            try:
                await self.client.ping()
            except (RedisError, OSError) as exc:
                why = f"cannot connect: {type(exc).__name__}: {exc}"
            else:
                await self._subscribed.wait()
                if self._pubsub is not None:
                    return
        if self.failure is not None:
            why = self.failure
        raise RedisUnavailable(
            f"{self.options.describe()} not subscribed within {timeout} s ({why})"
        )

    async def aclose(self) -> None:
        """Stop :meth:`run` (its subscriptions end with the connection)."""
        if self._scope is not None:
            self._scope.cancel()

    # -- subscriptions and commands -----------------------------------------------------------

    async def subscribe(
        self,
        channels: Mapping[str, MessageHandler],
        patterns: Mapping[str, MessageHandler] | None = None,
    ) -> None:
        """Subscribe channels (and patterns), waiting for Redis to confirm.

        Raises:
            RedisUnavailable: not subscribed within ``connect_timeout``.
        """
        await self.wait_ready()
        self._channels.update({c.encode(): h for c, h in channels.items()})
        self._patterns.update({p.encode(): h for p, h in (patterns or {}).items()})
        try:
            with anyio.fail_after(self.options.connect_timeout):
                if channels:
                    await self._pubsub.subscribe(*channels)
                if patterns:
                    await self._pubsub.psubscribe(*patterns)
        except (RedisError, OSError, TimeoutError) as exc:
            why = self.failure or f"{type(exc).__name__}: {exc}"
            raise RedisUnavailable(f"{self.options.describe()}: cannot subscribe: {why}") from None

    async def unsubscribe(self, channels: Iterable[str], patterns: Iterable[str] = ()) -> None:
        """Drop channels and patterns (quietly: the link may be closing)."""
        channels, patterns = list(channels), list(patterns)
        for c in channels:
            self._channels.pop(c.encode(), None)
        for p in patterns:
            self._patterns.pop(p.encode(), None)
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            with anyio.move_on_after(self.options.command_timeout):
                if channels:
                    await pubsub.unsubscribe(*channels)
                if patterns:
                    await pubsub.punsubscribe(*patterns)
        except (RedisError, OSError) as exc:
            log.debug("unsubscribe failed: %s", exc)

    async def publish(self, channel: str, data: bytes, *, wait: bool = True) -> None:
        """PUBLISH (or SPUBLISH) a message, after every message published before it.

        Messages are queued and sent in batches, one round trip per batch (Node's client
        pipelines the same way). With ``wait``, return once Redis has taken this one; else at
        once (a failure is then only logged). At most ``_MAX_QUEUED`` messages wait: more
        waits for room.

        Raises:
            RedisUnavailable: the link is not running, or (with ``wait``) Redis cannot be
                reached or refused the command.
        """
        while len(self._queue) >= _MAX_QUEUED:
            self._room = anyio.Event()
            await self._room.wait()
        if self._client is None:
            raise RedisUnavailable(f"not connected to {self.options.describe()}")
        item = _Outgoing(channel, data, anyio.Event() if wait else None)
        self._queue.append(item)
        self._queued.set()
        if item.done is not None:
            await item.done.wait()
            if item.error is not None:
                raise RedisUnavailable(f"publish to {self.options.describe()}: {item.error}")

    async def subscribers(self, channel: str) -> int:
        """How many connections subscribe ``channel`` (``PUBSUB NUMSUB``, or ``SHARDNUMSUB``;
        summed over the primaries of a cluster for the classic kind).

        Raises:
            RedisUnavailable: Redis cannot be reached or refused the command.
        """
        try:
            if self.sharded:
                reply = await self.client.pubsub_shardnumsub(channel)
            else:
                reply = await self.client.pubsub_numsub(channel)
        except (RedisError, OSError) as exc:
            raise RedisUnavailable(f"PUBSUB on {self.options.describe()}: {exc}") from None
        return int(sum(v for k, v in reply.items() if k in (channel, channel.encode())))


def _first(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


_LINKS: WeakKeyDictionary[object, dict[tuple[RedisOptions, bool], RedisLink]] = WeakKeyDictionary()


def link_for(server: object, options: RedisOptions, *, sharded: bool = False) -> RedisLink:
    """The server's link for these options (created on first use)."""
    links = _LINKS.setdefault(server, {})
    key = (options, sharded)
    link = links.get(key)
    if link is None:
        link = links[key] = RedisLink(options, sharded=sharded)
    return link
