"""A Socket.IO socket: one client's connection to one namespace.

Everything a socket runs (its connect handlers, its event handlers, its disconnect handlers)
runs in order, one at a time, in a task that exists only while there is work: an event that
arrives while a handler is busy waits for it, and the first event waits for the connect
handlers to finish. Acks from the client are resolved at once, not queued, so a handler may
``await socket.call(...)`` without blocking its own reply.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio

from ..errors import AckTimeout, LocalProtocolError
from ..socketio import NamespaceState
from .engine import Handshake

if TYPE_CHECKING:
    from .namespace import BroadcastOperator, Namespace
    from .sio import Client

__all__ = ("Ack", "Socket")

log = logging.getLogger("thinkio.socketio")

Handler = Callable[..., Any]
H = TypeVar("H", bound=Callable[..., Any])


class Ack:
    """The acknowledgement callback of one incoming event (Node's ``callback``)."""

    __slots__ = ("_id", "_socket", "sent")

    def __init__(self, socket: Socket, ack_id: int) -> None:
        self._socket = socket
        self._id = ack_id
        self.sent = False

    def __call__(self, *args: Any) -> None:
        """Send the ack with these arguments. Only the first call counts (as in Node)."""
        if self.sent:
            return
        self.sent = True
        socket = self._socket
        if socket.connected:
            socket.client.conn.ack(socket.namespace.name, self._id, list(args))
            socket.client.flush()


class _Waiter:
    __slots__ = ("event", "result")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.result: list[Any] | None = None

    def __call__(self, args: list[Any] | None) -> None:
        self.result = args
        self.event.set()


async def call_handler(handler: Handler, *args: Any, **kwargs: Any) -> Any:
    """Call a sync or async handler."""
    result = handler(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def _takes_ack(handler: Handler) -> bool:
    try:
        return "ack" in inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False


_takes_ack_cached = functools.lru_cache(maxsize=1024)(_takes_ack)


def wants_ack(handler: Handler) -> bool:
    """Whether a handler takes the ack callback itself (a parameter named ``ack``).

    Cached: handlers are registered once and called for every event.
    """
    try:
        return _takes_ack_cached(handler)
    except TypeError:  # an unhashable callable
        return _takes_ack(handler)


class Socket:
    """One client's connection to one namespace (Node's server-side ``Socket``)."""

    def __init__(self, namespace: Namespace, client: Client, sid: str, auth: dict[str, Any]):
        self.namespace = namespace
        self.client = client
        #: The socket id (distinct from the Engine.IO session id).
        self.id = sid
        #: Free for the application: anything it wants to keep per socket.
        self.data: dict[str, Any] = {}
        self.auth = auth
        self.connected = False
        self.disconnect_reason: str | None = None
        self._handlers: dict[str, list[Handler]] = {}
        self._inbox: deque[Callable[[], Coroutine[Any, Any, None]]] = deque()
        self._running = False
        #: Ack id -> what to call with the client's ack (None if the socket disconnects first).
        self._acks: dict[int, Callable[[list[Any] | None], None]] = {}

    def __repr__(self) -> str:
        return f"<Socket {self.id} {self.namespace.name}>"

    # -- what the client sent us ---------------------------------------------------------------

    @property
    def handshake(self) -> Handshake:
        """Headers, query, address, cookies and time of the client's first request."""
        return self.client.esock.handshake

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in (including the one named by its id)."""
        return self.namespace.adapter.rooms_of(self.id)

    @property
    def transport(self) -> str:
        return self.client.esock.transport

    # -- handlers ------------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a handler for an event on this socket only (decorator or call)."""

        def register(fn: Handler) -> Handler:
            self._handlers.setdefault(event, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    def _enqueue(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._inbox.append(job)
        if not self._running:
            self._running = True
            self.client.server._busy_sockets += 1
            self.client.server.spawn(self._run)

    async def _run(self) -> None:
        try:
            while self._inbox:
                job = self._inbox.popleft()
                try:
                    await job()
                except Exception:
                    log.exception("handler failed on socket %s (%s)", self.id, self.namespace.name)
        finally:
            self._running = False
            self.client.server._busy_sockets -= 1

    def _dispatch_event(self, args: list[Any], ack_id: int | None) -> None:
        event, params = args[0], args[1:]
        ack = Ack(self, ack_id) if ack_id is not None else None

        async def job() -> None:
            handlers = self._handlers.get(event) or self.namespace.handlers.get(event, [])
            for handler in self.namespace.any_handlers:
                await call_handler(handler, self, event, *params)
            result = None
            for handler in handlers:
                if ack is not None and wants_ack(handler):
                    result = await call_handler(handler, self, *params, ack=ack)
                else:
                    result = await call_handler(handler, self, *params)
            if ack is not None and not ack.sent and (handlers or result is not None):
                if isinstance(result, tuple):
                    ack(*result)
                elif result is None:
                    ack()
                else:
                    ack(result)

        self._enqueue(job)

    def _resolve_ack(self, ack_id: int, args: list[Any]) -> None:
        callback = self._acks.pop(ack_id, None)
        if callback is not None:  # an unknown id is ignored, as Node does (PROTOCOL.md 2.5)
            callback(args)

    def expect_ack(self, ack_id: int, callback: Callable[[list[Any] | None], None]) -> None:
        """Call ``callback`` with the arguments of the client's ack to ``ack_id``, or with
        None if the socket disconnects first.

        For a packet sent with that id by someone else (an adapter's acked broadcast); the
        id comes from :meth:`Namespace.next_ack_id`, as :meth:`call`'s ids do.

        Raises:
            LocalProtocolError: ``Limits.max_pending_acks`` acks are already pending.
        """
        if len(self._acks) >= self.client.server.limits.max_pending_acks:
            raise LocalProtocolError(f"socket {self.id}: too many pending acks")
        self._acks[ack_id] = callback

    def _closed(self, reason: str) -> None:
        """The socket left its namespace; run the disconnect handlers after queued events."""
        if not self.connected:
            return
        self.connected = False
        self.disconnect_reason = reason
        self.namespace._remove(self)
        callbacks = list(self._acks.values())
        self._acks.clear()
        for callback in callbacks:
            callback(None)  # the caller of call() raises; a broadcast stops counting on it

        async def job() -> None:
            for handler in self._handlers.get("disconnect", []) + self.namespace.handlers.get(
                "disconnect", []
            ):
                await call_handler(handler, self, reason)

        self._enqueue(job)

    # -- sending -------------------------------------------------------------------------------

    def _check(self) -> None:
        if not self.connected:
            raise LocalProtocolError(f"socket {self.id} is disconnected")

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to this socket."""
        self.emit_nowait(event, *args)

    def emit_nowait(self, event: str, *args: Any) -> None:
        """Send an event to this socket, from sync code."""
        self._check()
        self.client.conn.emit(self.namespace.name, [event, *args])
        self.client.flush()

    async def call(self, event: str, *args: Any, timeout: float | None = 5.0) -> list[Any]:
        """Send an event and wait for the client's ack; returns the ack's arguments.

        Raises:
            AckTimeout: no ack within ``timeout`` seconds, or the socket disconnected first.
            LocalProtocolError: the socket is disconnected, or too many acks are pending.
        """
        self._check()
        waiter = _Waiter()
        ack_id = self.namespace.next_ack_id()
        self.expect_ack(ack_id, waiter)
        self.client.conn.emit(self.namespace.name, [event, *args], ack_id=ack_id)
        self.client.flush()
        with anyio.move_on_after(timeout if timeout is not None else float("inf")):
            await waiter.event.wait()
        if waiter.result is None:
            self._acks.pop(ack_id, None)
            why = "disconnected" if not self.connected else f"no ack within {timeout} s"
            raise AckTimeout(f"{event!r} to socket {self.id}: {why}")
        return waiter.result

    # -- rooms ---------------------------------------------------------------------------------

    def join(self, *rooms: str) -> None:
        """Put this socket in rooms."""
        self._check()
        self.namespace.adapter.join(self.id, rooms)

    def leave(self, room: str) -> None:
        """Take this socket out of a room."""
        self.namespace.adapter.leave(self.id, room)

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Broadcast to rooms, except this socket (Node's ``socket.to``)."""
        return self.namespace.to(*rooms).except_(self.id)

    in_ = to

    @property
    def broadcast(self) -> BroadcastOperator:
        """Every socket of the namespace except this one."""
        return self.namespace.except_(self.id)

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect from the namespace; with ``close``, end the whole Engine.IO session."""
        if not self.connected:
            return
        if close:
            self.client.esock.close("forced server close")
            return
        if self.client.conn.state_of(self.namespace.name) is NamespaceState.CONNECTED:
            self.client.conn.disconnect(self.namespace.name)
            self.client.flush()
        self._closed("server namespace disconnect")
