"""One server's two connections to Redis, shared by the adapters of all its namespaces.

Why shared: Node's adapter counts servers with ``PUBSUB NUMSUB {key}-request#{nsp}#``, the
number of *connections* subscribed to a namespace's request channel (REDIS-INTEROP.md C1).
A server must therefore hold exactly one subscriber connection, whatever its number of
namespaces, or Node peers wait for the wrong number of replies. :func:`link_for` hands every
namespace of one :class:`~thinkio.server.Server` the same :class:`RedisLink`.

Theory of operation:

* **Subscriber.** One connection, owned by :meth:`RedisLink.run`, a task in the server's
  task group. It connects, subscribes every channel and pattern wanted so far, then reads
  pushed messages and calls the handler registered for the message's channel (or pattern)
  with ``(channel, data)``. Handlers are synchronous and quick; whatever must wait is
  spawned by the handler. When the connection drops (or an idle connection does not answer
  a PING) it reconnects with exponential backoff, capped at ``reconnect_delay_max``, logging
  the loss once and the recovery once, and subscribes everything again.
  :meth:`RedisLink.subscribe` adds channels at any time and waits (bounded) for Redis to
  confirm them.
* **Publisher.** One connection for commands (PUBLISH, PUBSUB NUMSUB), opened on first use
  and shared by every task that publishes, with commands pipelined: see :mod:`.publisher`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from weakref import WeakKeyDictionary

import anyio

from ..errors import ConfigError, RemoteProtocolError
from .errors import RedisReplyError, RedisUnavailable
from .publisher import Publisher
from .resp import RedisAddress, RedisConnection, Reply

__all__ = ("Handler", "LinkOptions", "RedisLink", "link_for")

log = logging.getLogger("thinkio.adapters.redis")

#: A message handler: ``(channel, data)``.
Handler = Callable[[bytes, bytes], None]
Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]

_CHANNEL: Final = "channel"
_PATTERN: Final = "pattern"


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Timeouts and backoff of a :class:`RedisLink` (seconds)."""

    #: Longest wait for a TCP connection (and AUTH/SELECT), and for subscriptions at start.
    connect_timeout: float = 5.0
    #: Longest wait for the reply to one command on the publisher connection.
    command_timeout: float = 5.0
    #: Wait before the first reconnection attempt; doubles on each failure...
    reconnect_delay: float = 0.1
    #: ...up to this bound.
    reconnect_delay_max: float = 5.0
    #: An idle subscriber sends a PING after this long, and gives up after as long again.
    health_check_interval: float = 15.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "command_timeout", "health_check_interval"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name}: expected seconds > 0, got {getattr(self, name)!r}")
        if not 0 <= self.reconnect_delay <= self.reconnect_delay_max:
            raise ConfigError(
                "reconnect delays: expected 0 <= reconnect_delay <= reconnect_delay_max"
            )

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (1, 2, ...)."""
        return min(
            self.reconnect_delay * 2.0 ** min(max(failures, 1) - 1, 32), self.reconnect_delay_max
        )


class RedisLink:
    """The subscriber and publisher connections of one server (see the module docstring).

    Args:
        address: where Redis is.
        options: timeouts and backoff.
    """

    def __init__(self, address: RedisAddress, options: LinkOptions | None = None) -> None:
        self.address = address
        self.options = options or LinkOptions()
        #: How many started adapters use the link; the last one to close closes it.
        self.users = 0
        #: The last connection error, for messages.
        self.last_error = ""
        self._handlers: dict[tuple[str, bytes], Handler] = {}
        self._confirmed: set[tuple[str, bytes]] = set()
        self._changed = anyio.Event()
        self._sub: RedisConnection | None = None
        self._running = False
        self._scope: anyio.CancelScope | None = None
        self._stopped = anyio.Event()
        self._publisher = Publisher(address, self.options)

    # -- subscriber ----------------------------------------------------------------------------

    @property
    def subscribed(self) -> bool:
        """Whether the subscriber is connected and every subscription is confirmed."""
        return self._sub is not None and set(self._handlers) <= self._confirmed

    def start(self, spawn: Spawn) -> None:
        """Run the subscriber with ``spawn`` (the server's :meth:`~thinkio.server.Server.spawn`)
        unless it already runs."""
        if not self._running:
            self._running = True
            self._stopped = anyio.Event()
            spawn(self.run)

    async def run(self) -> None:
        """The subscriber task: connect, subscribe, dispatch; reconnect with backoff."""
        self._running = True
        failures = 0
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                while True:
                    try:
                        conn = await RedisConnection.open(
                            self.address, timeout=self.options.connect_timeout
                        )
                    except (RedisUnavailable, RedisReplyError) as exc:
                        failures += 1
                        self.last_error = str(exc)
                        delay = self.options.delay(failures)
                        level = logging.WARNING if failures == 1 else logging.DEBUG
                        log.log(level, "redis subscriber: %s; retrying in %.2f s", exc, delay)
                        await anyio.sleep(delay)
                        continue
                    if failures:
                        log.warning("redis subscriber: connected to %s again", self.address)
                    failures = 0
                    try:
                        await self._serve(conn)
                    except (RedisUnavailable, RemoteProtocolError) as exc:
                        failures = 1
                        self.last_error = str(exc)
                        log.warning("redis subscriber: %s; reconnecting", exc)
                    finally:
                        self._sub = None
                        self._confirmed.clear()
                        self._notify()
                        await conn.aclose()
                    await anyio.sleep(self.options.delay(1))
        finally:
            self._scope = None
            self._running = False
            await self._publisher.aclose()
            self._stopped.set()

    async def _serve(self, conn: RedisConnection) -> None:
        self._sub = conn  # from here on, subscribe() sends on this connection itself
        channels = [name for kind, name in self._handlers if kind == _CHANNEL]
        patterns = [name for kind, name in self._handlers if kind == _PATTERN]
        if channels:
            await conn.send("SUBSCRIBE", *channels)
        if patterns:
            await conn.send("PSUBSCRIBE", *patterns)
        interval = self.options.health_check_interval
        pinged = False
        while True:
            with anyio.move_on_after(interval) as idle:
                reply = await conn.receive()
            if idle.cancelled_caught:
                if pinged:
                    raise RedisUnavailable(f"no answer to PING within {interval} s")
                await conn.send("PING")
                pinged = True
                continue
            pinged = False
            self._dispatch(reply)

    def _dispatch(self, reply: Reply) -> None:
        if not isinstance(reply, list) or not reply or not isinstance(reply[0], bytes):
            if isinstance(reply, RedisReplyError):  # e.g. NOAUTH to SUBSCRIBE
                self.last_error = f"Redis answered {reply}"
                log.warning("redis subscriber: Redis answered %s", reply)
            return
        kind = reply[0]
        args = [arg if isinstance(arg, bytes) else b"" for arg in reply[1:4]]
        if kind == b"message" and len(args) == 2:
            key, channel, data = (_CHANNEL, args[0]), args[0], args[1]
        elif kind == b"pmessage" and len(args) == 3:
            key, channel, data = (_PATTERN, args[0]), args[1], args[2]
        elif kind in (b"subscribe", b"psubscribe") and args:
            self._confirmed.add((_CHANNEL if kind == b"subscribe" else _PATTERN, args[0]))
            self._notify()
            return
        elif kind in (b"unsubscribe", b"punsubscribe") and args:
            self._confirmed.discard((_CHANNEL if kind == b"unsubscribe" else _PATTERN, args[0]))
            return
        else:
            return  # ["pong", ""] and anything Redis may add
        handler = self._handlers.get(key)
        if handler is None:
            return
        try:
            handler(channel, data)
        except Exception:
            # One namespace's bug must not stop every namespace's messages.
            log.exception("redis subscriber: handler for %r failed", channel)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def subscribe(
        self,
        channels: Mapping[str, Handler],
        patterns: Mapping[str, Handler],
        *,
        timeout: float | None = None,
    ) -> None:
        """Route messages of these channels and patterns to their handlers.

        Args:
            channels: channel name -> handler.
            patterns: PSUBSCRIBE pattern -> handler.
            timeout: wait this long for Redis to confirm (``connect_timeout`` if None);
                0 to not wait.

        Raises:
            RedisUnavailable: not confirmed in time (the link keeps trying in the background).
        """
        wanted = {(_CHANNEL, c.encode()): h for c, h in channels.items()}
        wanted.update({(_PATTERN, p.encode()): h for p, h in patterns.items()})
        self._handlers.update(wanted)
        conn = self._sub
        if conn is not None:
            try:
                for kind, command in ((_CHANNEL, "SUBSCRIBE"), (_PATTERN, "PSUBSCRIBE")):
                    names = [name for k, name in wanted if k == kind]
                    if names:
                        await conn.send(command, *names)
            except RedisUnavailable:
                pass  # the subscriber sees the loss and subscribes everything again
        limit = self.options.connect_timeout if timeout is None else timeout
        with anyio.move_on_after(limit):
            while not set(wanted) <= self._confirmed:
                await self._changed.wait()
            return
        detail = f" ({self.last_error})" if self.last_error else ""
        raise RedisUnavailable(f"not subscribed at {self.address} within {limit} s{detail}")

    async def unsubscribe(self, channels: Iterable[str], patterns: Iterable[str]) -> None:
        """Stop routing these channels and patterns (best effort if Redis is away)."""
        gone = [(_CHANNEL, c.encode()) for c in channels] + [
            (_PATTERN, p.encode()) for p in patterns
        ]
        for key in gone:
            self._handlers.pop(key, None)
        conn = self._sub
        if conn is None:
            return
        with anyio.move_on_after(self.options.command_timeout):
            try:
                for kind, command in ((_CHANNEL, "UNSUBSCRIBE"), (_PATTERN, "PUNSUBSCRIBE")):
                    names = [name for k, name in gone if k == kind]
                    if names:
                        await conn.send(command, *names)
            except RedisUnavailable:
                pass

    # -- publisher (see :mod:`.publisher`) -----------------------------------------------------

    async def execute(self, *args: str | bytes | int) -> Reply:
        """Run one command on the publisher connection and return its reply.

        Raises:
            RedisUnavailable: Redis cannot be reached (or could not recently), or the
                connection broke during the command.
            RedisReplyError: Redis answered with an error.
        """
        return await self._publisher.execute(*args)

    async def publish(self, channel: str, data: bytes) -> int:
        """PUBLISH; returns how many subscribers got the message.

        Raises:
            RedisUnavailable: see :meth:`execute`.
            RedisReplyError: see :meth:`execute`.
        """
        reply = await self._publisher.execute("PUBLISH", channel, data)
        return reply if isinstance(reply, int) else 0

    # -- lifecycle -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop the subscriber and close both connections (waits at most ``connect_timeout``)."""
        scope = self._scope
        if scope is not None:
            scope.cancel()
        if self._running:
            with anyio.move_on_after(self.options.connect_timeout):
                await self._stopped.wait()
        await self._publisher.aclose()


#: Server -> its links, one per (address, options): the one-subscriber-per-server rule.
_LINKS: WeakKeyDictionary[object, dict[tuple[RedisAddress, LinkOptions], RedisLink]] = (
    WeakKeyDictionary()
)


def link_for(owner: object, address: RedisAddress, options: LinkOptions | None = None) -> RedisLink:
    """The link of ``owner`` (a server) to Redis at ``address``, created on first use."""
    options = options or LinkOptions()
    links = _LINKS.setdefault(owner, {})
    link = links.get((address, options))
    if link is None:
        link = links[(address, options)] = RedisLink(address, options)
    return link
