"""The asyncio (and uvloop) backend: the event loop's own transports, adopted per socket.

asyncio's socket transports already behave as :mod:`.transport` describes: the fd stays
registered with the poller for the life of the connection, ``data_received`` is called from
the read callback, and ``write`` sends at once when the kernel buffer has room. uvloop's are
the same in C. So this module only hands accepted sockets to the loop (and starts the tasks
of :class:`thinkio.net.TaskSpawner`: :class:`AsyncioTasks`); it is the one place that knows
it runs on asyncio (measured: an ack round trip costs ~50 µs less than over
anyio's ``SocketStream`` on asyncio, ~20 µs less on uvloop; ``../shared/perf``).
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio

from .transport import StreamProtocol, set_nodelay

__all__ = ("AsyncioBackend", "AsyncioTasks", "asyncio_tasks", "on_asyncio")

log = logging.getLogger("thinkio.net")

#: What one read of asyncio's own transport asks for. Its default, 256 KiB, is above glibc's
#: mmap threshold (128 KiB) until the process happens to free a large block: then every read
#: maps a fresh buffer, shrinks it to the message and unmaps it (three syscalls per message;
#: measured: an echo round trip 25 -> 60 µs of server CPU). 64 KiB comes from the heap.
READ_SIZE = 64 * 1024


def on_asyncio() -> bool:
    """Whether the running event loop is asyncio's (or uvloop's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class AsyncioBackend:
    """Serves accepted sockets with the running asyncio loop's transports."""

    name = "asyncio"

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        #: Transports being created (a strong reference until the loop owns them).
        self._pending: set[asyncio.Task[object]] = set()
        #: On asyncio's own (selector) loop, what ``connect_accepted_socket`` does once it
        #: has awaited its task and future: make the transport, which calls
        #: ``connection_made`` soon. Called directly it costs ~20 µs less per connection
        #: (measured: 45 -> 19 µs per adopted socket). It is a private method of the loop,
        #: unchanged from Python 3.7 to 3.13; on any other loop (uvloop), or if it is gone,
        #: the public coroutine serves.
        self._make_transport: Callable[[socket.socket, StreamProtocol], Any] | None = None
        if isinstance(self._loop, asyncio.selector_events.BaseSelectorEventLoop):
            self._make_transport = getattr(self._loop, "_make_socket_transport", None)

    def start(self, sock: socket.socket, protocol: StreamProtocol) -> None:
        """Serve ``sock`` with ``protocol`` (``connection_made`` follows soon)."""
        if self._make_transport is not None:
            if sock.proto != socket.IPPROTO_TCP:  # the transport sets it on these only
                set_nodelay(sock)
            try:
                transport = self._make_transport(sock, protocol)
            except OSError as exc:
                log.debug("could not serve an accepted connection: %s", exc)
                sock.close()
                protocol.connection_lost(exc)
                return
            transport.max_size = READ_SIZE
            return
        set_nodelay(sock)
        task = self._loop.create_task(self._adopt(sock, protocol))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _adopt(self, sock: socket.socket, protocol: StreamProtocol) -> object:
        try:
            factory = cast(Callable[[], asyncio.Protocol], lambda: protocol)
            await self._loop.connect_accepted_socket(factory, sock)
        except OSError as exc:  # the peer went away between accept and now
            log.debug("could not serve an accepted connection: %s", exc)
            sock.close()
            protocol.connection_lost(exc)  # the protocol was counted; it ends here
        return None


class AsyncioTasks:
    """What :class:`thinkio.net.TaskSpawner` spawns, started with the loop's own
    ``create_task``, each task inside an anyio cancel scope of its own.

    anyio's ``TaskGroup.start_soon`` wraps every task in a task handle, a cancel scope and an
    event (anyio 4.14 on): measured with callgrind, an acked event of an ``async def`` handler
    costs ~313k instructions through it and ~269k this way (asyncio, in memory). The scope
    keeps what a task group gives here: :meth:`aclose` cancels through it, so a task's own
    shielded scopes hold, as they do when a task group is cancelled.

    The scope is made with the running backend's class itself (``type(CancelScope())``, taken
    once): ``anyio.CancelScope()`` looks the backend up on every call, a quarter of what the
    scope costs (~9k of ~36k instructions per task, on uvloop).
    """

    __slots__ = ("_closing", "_loop", "_scope", "_scopes", "_tasks")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        #: The asyncio backend's CancelScope class (what ``anyio.CancelScope()`` returns here).
        self._scope: Callable[[], anyio.CancelScope] = type(anyio.CancelScope())
        self._tasks: set[asyncio.Task[None]] = set()
        self._scopes: set[anyio.CancelScope] = set()
        self._closing = False

    def start(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        """Run ``await fn(*args)`` in a new task (cancelled at once while closing)."""
        task = self._loop.create_task(self._run(fn, args))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        with self._scope() as scope:
            if self._closing:
                scope.cancel()
            self._scopes.add(scope)
            try:
                await fn(*args)
            finally:
                self._scopes.discard(scope)

    async def aclose(self) -> None:
        """Cancel every task and wait until they all ended (even while being cancelled)."""
        self._closing = True
        for scope in list(self._scopes):
            scope.cancel()
        with anyio.CancelScope(shield=True):
            while self._tasks:
                await asyncio.wait(list(self._tasks))


@asynccontextmanager
async def asyncio_tasks() -> AsyncIterator[
    Callable[[Callable[..., Awaitable[Any]], tuple[Any, ...]], None]
]:
    """:class:`AsyncioTasks` for the block: yields its ``start``; on the way out (normally or
    cancelled), its tasks are cancelled and waited for."""
    tasks = AsyncioTasks()
    try:
        yield tasks.start
    finally:
        await tasks.aclose()
