"""The publisher connection: commands from many tasks pipelined on one Redis connection.

Theory of operation. Commands (PUBLISH, PUBSUB NUMSUB) come from whichever task broadcasts
or asks; there is no publisher task. Each command appends a waiter to a FIFO and is written
under a send lock, so the FIFO order is the wire order and Redis answers in that order.
Then the caller reads replies under a read lock, handing each to the waiter at the head of
the FIFO, until its own waiter has its reply. While one caller waits for Redis, others add
their commands behind it, so concurrent broadcasts share round trips instead of queuing
for them.

Failure handling:

* The connection is opened on first use. After a failure, no new connection is tried until
  a backoff delay has passed (:meth:`LinkOptions.delay`), so an outage costs each command
  one fast :class:`~.errors.RedisUnavailable`, not a connect timeout; the first failure and
  the recovery are logged once each.
* A broken connection (EOF, reset, a reply that is not RESP2, no reply within
  ``command_timeout``) is dropped, and every waiter on it fails with ``RedisUnavailable``.
* A command that fails on a connection opened earlier (it may have died while idle: Redis
  restarted) is sent once more on a fresh connection. A PUBLISH may then be delivered twice
  if Redis handled it before the connection broke; Node's client behaves the same.
* A caller cancelled while writing leaves a half-written command: the connection is dropped.
  Cancelled while reading, nothing is lost (the bytes stay in the parser) and its reply is
  handed to its orphaned waiter by whoever reads next.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

import anyio

from ..errors import RemoteProtocolError
from .errors import RedisReplyError, RedisUnavailable
from .resp import RedisAddress, RedisConnection, Reply

if TYPE_CHECKING:
    from .link import LinkOptions

__all__ = ("Publisher",)

log = logging.getLogger("thinkio.adapters.redis")


class _Waiter:
    __slots__ = ("done", "error", "reply")

    def __init__(self) -> None:
        self.done = False
        self.reply: Reply = None
        self.error: Exception | None = None

    def resolve(self, reply: Reply) -> None:
        self.reply, self.done = reply, True

    def fail(self, error: Exception) -> None:
        self.error, self.done = error, True


class Publisher:
    """One pipelined command connection to Redis (see the module docstring).

    Args:
        address: where Redis is.
        options: timeouts and backoff.
    """

    def __init__(self, address: RedisAddress, options: LinkOptions) -> None:
        self.address = address
        self.options = options
        #: The last connection error, for messages.
        self.last_error = ""
        self._conn: RedisConnection | None = None
        self._queue: deque[_Waiter] = deque()
        self._connect_lock = anyio.Lock()
        self._send_lock = anyio.Lock()
        self._read_lock = anyio.Lock()
        self._failures = 0
        self._retry_at = 0.0

    async def execute(self, *args: str | bytes | int) -> Reply:
        """Run one command and return its reply.

        Raises:
            RedisUnavailable: Redis cannot be reached (or could not recently), or the
                connection broke or stalled during the command.
            RedisReplyError: Redis answered with an error.
        """
        for attempt in (1, 2):
            conn, fresh = await self._connection()
            waiter = _Waiter()
            try:
                await self._send(conn, args, waiter)
                with anyio.fail_after(self.options.command_timeout):
                    await self._wait(conn, waiter)
            except (RedisUnavailable, RemoteProtocolError, TimeoutError) as exc:
                error = RedisUnavailable(str(exc) or "Redis did not answer in time")
                await self._drop(conn, error)
                if fresh or attempt == 2:
                    self._failed(error)
                    raise error from exc
                continue
            if waiter.error is not None:
                if fresh or attempt == 2:
                    self._failed(waiter.error)
                    raise waiter.error
                continue  # the connection was dropped under us: once more on a new one
            if isinstance(waiter.reply, RedisReplyError):
                raise waiter.reply
            return waiter.reply
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connection(self) -> tuple[RedisConnection, bool]:
        async with self._connect_lock:
            if self._conn is not None:
                return self._conn, False
            now = anyio.current_time()
            if now < self._retry_at:
                raise RedisUnavailable(
                    f"{self.address} unavailable ({self.last_error}); next attempt in "
                    f"{self._retry_at - now:.2f} s"
                )
            try:
                conn = await RedisConnection.open(
                    self.address, timeout=self.options.connect_timeout
                )
            except (RedisUnavailable, RedisReplyError) as exc:
                self._failed(exc)
                raise
            if self._failures:
                log.warning("redis publisher: connected to %s again", self.address)
            self._failures = 0
            self._conn = conn
            return conn, True

    async def _send(
        self, conn: RedisConnection, args: tuple[str | bytes | int, ...], waiter: _Waiter
    ) -> None:
        async with self._send_lock:
            if self._conn is not conn:
                raise RedisUnavailable("the connection was dropped")
            self._queue.append(waiter)
            try:
                await conn.send(*args)
            except BaseException as exc:
                # Cancelled or failed mid-write: the rest of the stream cannot be trusted.
                error = exc if isinstance(exc, RedisUnavailable) else None
                await self._drop(conn, error or RedisUnavailable("a command was interrupted"))
                raise

    async def _wait(self, conn: RedisConnection, waiter: _Waiter) -> None:
        while not waiter.done:
            async with self._read_lock:
                while not waiter.done:
                    if self._conn is not conn:
                        raise RedisUnavailable("the connection was dropped")
                    reply = await conn.receive()
                    if not self._queue:
                        raise RemoteProtocolError("Redis sent a reply to no command")
                    self._queue.popleft().resolve(reply)

    async def _drop(self, conn: RedisConnection, error: Exception) -> None:
        if self._conn is conn:
            self._conn = None
            waiters, self._queue = self._queue, deque()
            for waiter in waiters:
                waiter.fail(error)
        await conn.aclose()

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        self.last_error = str(exc)
        self._retry_at = anyio.current_time() + self.options.delay(self._failures)
        if self._failures == 1:
            log.warning("redis publisher: %s; messages to other servers are dropped", exc)

    async def aclose(self) -> None:
        """Close the connection; commands under way fail with ``RedisUnavailable``."""
        conn = self._conn
        if conn is not None:
            await self._drop(conn, RedisUnavailable("the adapter is closed"))
