"""Namespaces (Node's ``Namespace``): handlers, middlewares, sockets and the adapter of one name."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol, TypeVar, overload

from ..engine import EngineServer
from ..engineio import message_packets, uncompressed
from ..net import Clock, TaskSpawner
from ..socketio import Packet, Parser
from .adapter import AckCallback, Adapter, BroadcastOptions, InMemoryAdapter
from .broadcast import BroadcastOperator
from .handlers import Handler, call_handler
from .observer import ServerObserver
from .recovery import RecoveryOptions
from .socket import Socket

__all__ = ("ChildrenAdapter", "Namespace", "NamespaceHost", "NamespaceMatcher", "ParentNamespace")

Middleware = Callable[[Socket], Any]
H = TypeVar("H", bound=Callable[..., Any])
M = TypeVar("M", bound=Callable[[Socket], Any])


class NamespaceHost(Protocol):
    """What a namespace needs from its server (:class:`.server.Server`)."""

    @property
    def adapter_factory(self) -> Callable[[Namespace], Adapter] | None: ...

    @property
    def engine(self) -> EngineServer: ...

    @property
    def tasks(self) -> TaskSpawner: ...

    def child_emptied(self, child: Namespace) -> None:
        """A dynamic child namespace lost its last socket."""

    @property
    def clock(self) -> Clock: ...

    @property
    def connection_state_recovery(self) -> RecoveryOptions | None: ...

    @property
    def parser(self) -> Parser: ...

    @property
    def observer(self) -> ServerObserver | None: ...


class Namespace:
    """A Socket.IO namespace on a server: its handlers, middlewares, sockets and adapter."""

    def __init__(self, server: NamespaceHost, name: str, *, in_memory: bool = False) -> None:
        self.server = server
        self.name = name
        self.handlers: dict[str, list[Handler]] = {}
        self.any_handlers: list[Handler] = []
        #: :meth:`on_unhandled` handlers: for the events with no handler of their own.
        self.unhandled_handlers: list[Handler] = []
        self.middlewares: list[Middleware] = []
        #: The sockets connected to this namespace on this server, by socket id.
        self.sockets: dict[str, Socket] = {}
        #: Server-side event name -> handlers (see :meth:`on_server_side`).
        self.server_side_handlers: dict[str, list[Handler]] = {}
        self._ack_ids = itertools.count()
        #: Sockets with ``on_any_outgoing`` listeners (0: broadcasts skip the check).
        self.outgoing_watchers = 0
        #: The :class:`ParentNamespace` that created this one, if it is a dynamic child.
        self.parent: ParentNamespace | None = None
        #: The server's parser's encoder: a broadcast is encoded once, with it.
        self.encode: Callable[[Packet], list[str | bytes]] = server.parser.encode
        factory = (None if in_memory else server.adapter_factory) or InMemoryAdapter
        self.adapter: Adapter = factory(self)

    def __repr__(self) -> str:
        return f"<Namespace {self.name} ({len(self.sockets)} sockets)>"

    @property
    def recovery(self) -> RecoveryOptions | None:
        """The server's connection state recovery options (None: off)."""
        return self.server.connection_state_recovery

    def now(self) -> float:
        """The server's clock, in seconds."""
        return self.server.clock.now()

    # -- registration -----------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a handler (decorator or call).

        ``"connect"`` (or ``"connection"``) handlers get ``(socket)``; ``"disconnecting"``
        (rooms still set) and ``"disconnect"`` handlers get ``(socket, reason)``; event
        handlers get ``(socket, *args)`` and their return value is the ack when the client
        asked for one (a tuple for several values; see :mod:`thinkio.server.acks`). A handler
        with a parameter named ``ack`` gets the ack callable instead, and owns it.

        A plain function runs in the callback that received the event, with no task: it must
        not block. An ``async def`` runs in a task.
        """
        key = "connect" if event == "connection" else event

        def register(fn: Handler) -> Handler:
            self.handlers.setdefault(key, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    def on_any(self, handler: H) -> H:
        """Register a handler for every event: ``handler(socket, event, *args)``.

        It runs before the event's own handlers, so every event of a namespace with one takes
        the job path: to hear only the events nobody handles, use :meth:`on_unhandled`.
        """
        self.any_handlers.append(handler)
        return handler

    def on_unhandled(self, handler: H) -> H:
        """Register a handler for the events with no handler of their own (neither on the
        namespace nor on the socket): ``handler(socket, event, *args)``, python-socketio's
        catch-all ``"*"``. Its return value is no ack: the client's own timeout answers, as
        for any event nobody handles. The events that have a handler do not pay for it.
        """
        self.unhandled_handlers.append(handler)
        return handler

    def use(self, middleware: M) -> M:
        """Run ``middleware(socket)`` (sync or async) before a connection is accepted.

        Raise :class:`thinkio.errors.ConnectRejected` in it to refuse with CONNECT_ERROR.
        """
        self.middlewares.append(middleware)
        return middleware

    # -- membership -------------------------------------------------------------------------

    def add_socket(self, socket: Socket) -> None:
        """A socket joined (called when its CONNECT is accepted)."""
        self.sockets[socket.id] = socket
        self.adapter.add(socket.id)

    def remove_socket(self, socket: Socket) -> None:
        """A socket left (it leaves every room)."""
        if self.sockets.pop(socket.id, None) is not None:
            self.adapter.remove(socket.id)
            if not self.sockets and self.parent is not None:
                self.server.child_emptied(self)

    # -- server-side events (Node's serverSideEmit / io.on(event)) --------------------------

    @overload
    def on_server_side(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on_server_side(self, event: str, handler: H) -> H: ...
    def on_server_side(self, event: str, handler: Handler | None = None) -> Any:
        """Handle an event that *other servers* send with :meth:`server_side_emit` or
        :meth:`server_side_call` (decorator or call; Node's ``io.on(event, ...)``).

        The handler gets the event's arguments (sync or async); the return value of the first
        handler is the answer when the sender asked for one.
        """

        def register(fn: Handler) -> Handler:
            self.server_side_handlers.setdefault(event, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    async def run_server_side(self, event: str, args: list[Any]) -> tuple[bool, Any]:
        """Run the handlers of a server-side event another server sent (called by the
        adapter). Returns whether there was a handler, and the first handler's value."""
        handlers = self.server_side_handlers.get(event, [])
        results = [await call_handler(handler, *args) for handler in handlers]
        return bool(handlers), results[0] if results else None

    async def server_side_emit(self, event: str, *args: Any) -> None:
        """Send an event to the server-side handlers of every other server (Node's
        ``serverSideEmit``); nothing is awaited from them."""
        await self.adapter.server_side_emit([event, *args])

    async def server_side_call(
        self, event: str, *args: Any, timeout: float | None = None
    ) -> list[Any]:
        """Send an event to every other server and return their answers (Node's
        ``serverSideEmitWithAck``): one value per server that has a handler.

        Raises:
            ClusterTimeout: (from a cluster adapter) not every server answered in ``timeout``
                seconds (default: the adapter's request timeout).
        """
        return await self.adapter.server_side_call([event, *args], timeout)

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server (a piece of its adapter's work,
        which a graceful shutdown waits for)."""
        self.server.tasks.spawn(fn, *args)

    def spawn_service(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server that its adapter's ``close``
        ends (a subscriber loop): a graceful shutdown does not wait for it."""
        self.server.tasks.spawn_service(fn, *args)

    async def cooperate(self) -> None:
        """Give the writer a turn if a busy task has queued packets for a while (emits call
        this; see :meth:`thinkio.engine.EngineServer.cooperate`)."""
        await self.server.engine.cooperate()

    def next_ack_id(self) -> int:
        """A fresh ack id for an emit that wants acks (one counter per namespace, as in
        Node, so a broadcast with acks can use one id for every socket it reaches)."""
        return next(self._ack_ids)

    def deliver(
        self,
        sids: Iterable[str],
        payloads: list[str | bytes],
        *,
        volatile: bool = False,
        data: list[Any] | None = None,
        compress: bool = True,
    ) -> None:
        """Queue an encoded packet on local sockets (called by the adapter).

        The payloads are wrapped once; every recipient session queues the same packets, written
        at the end of the current batch, or by the flusher (one write per socket either way).
        ``data`` (the event and its arguments) goes to the recipients' ``on_any_outgoing``
        listeners, when some socket of the namespace has one. ``compress=False``: never
        compressed, whatever their size (Node's ``compress(false)``).
        """
        packets = message_packets(payloads)
        if not compress:
            uncompressed(packets)
        size = sum(len(p) for p in payloads)
        sockets = self.sockets
        observer = self.server.observer
        if observer is not None:
            sids = list(sids)
            observer.broadcast(sum(sid in sockets for sid in sids), len(payloads), size)
        for sid in sids:
            socket = sockets.get(sid)
            if socket is not None:
                socket.driver.esock.send(packets, volatile=volatile, size=size)
        if self.outgoing_watchers and data is not None:
            for sid in sids:
                socket = sockets.get(sid)
                if socket is not None:
                    socket.notify_outgoing(data)

    def watch_outgoing(self, change: int) -> None:
        """A socket added (+1) or dropped (-1) its ``on_any_outgoing`` listeners."""
        self.outgoing_watchers += change

    # -- broadcasting -----------------------------------------------------------------------

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Broadcast to the sockets in these rooms."""
        return BroadcastOperator(self).to(*rooms)

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Broadcast to every socket except those in these rooms."""
        return BroadcastOperator(self).except_(*rooms)

    @property
    def volatile(self) -> BroadcastOperator:
        return BroadcastOperator(self).volatile

    @property
    def local(self) -> BroadcastOperator:
        return BroadcastOperator(self).local

    def compress(self, value: bool = True) -> BroadcastOperator:
        """See :meth:`BroadcastOperator.compress`."""
        return BroadcastOperator(self).compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Broadcast with acks waiting at most ``seconds`` (Node's ``nsp.timeout(ms)``):
        ``await nsp.timeout(0.5).emit_with_ack("question")``."""
        return BroadcastOperator(self).timeout(seconds)

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every socket of the namespace (on every server)."""
        await BroadcastOperator(self).emit(event, *args)

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`emit` from sync code."""
        BroadcastOperator(self).emit_nowait(event, *args)

    async def emit_with_ack(
        self, event: str, *args: Any, timeout: float | None = None
    ) -> list[Any]:
        """Send an event to every socket of the namespace (on every server) and return each
        client's ack; see :meth:`BroadcastOperator.emit_with_ack`.

        Raises:
            AckTimeout: not every client acked within ``timeout`` seconds.
        """
        return await BroadcastOperator(self).emit_with_ack(event, *args, timeout=timeout)

    async def fetch_sockets(self) -> list[Any]:
        """Every socket of the namespace, on every server."""
        return await BroadcastOperator(self).fetch_sockets()

    async def sockets_join(self, *rooms: str) -> None:
        await BroadcastOperator(self).sockets_join(*rooms)

    async def sockets_leave(self, *rooms: str) -> None:
        await BroadcastOperator(self).sockets_leave(*rooms)

    async def disconnect_sockets(self, close: bool = False) -> None:
        await BroadcastOperator(self).disconnect_sockets(close)


#: What decides which names a :class:`ParentNamespace` creates: a compiled regular expression
#: (``pattern.search(name)``, as Node's ``regex.test``), or ``fn(name, auth) -> bool`` (sync or
#: async).
NamespaceMatcher = re.Pattern[str] | Callable[[str, dict[str, Any]], Any]


class ParentNamespace(Namespace):
    """Dynamic namespaces (Node's ``io.of(regex)`` / ``io.of(fn)``): a client connecting to a
    name the matcher accepts gets a child namespace of that name, created on first use.

    Children share the parent's handlers, ``on_any`` and ``on_unhandled`` handlers and connect
    middlewares (those added later too). The parent's broadcasts (``emit``, ``to(room)``,
    ``timeout(s).emit_with_ack``, ``fetch_sockets``, ``sockets_join``...) reach every child, on
    every server. A socket's ``namespace`` is its child (``socket.namespace.name`` is the name the
    client asked for).
    """

    def __init__(self, server: NamespaceHost, matcher: NamespaceMatcher) -> None:
        name = matcher.pattern if isinstance(matcher, re.Pattern) else repr(matcher)
        #: The child namespaces created so far, by name.
        self.children: dict[str, Namespace] = {}
        # It has no sockets of its own: its adapter hands every operation to the children's.
        super().__init__(server, name, in_memory=True)
        self.adapter = ChildrenAdapter(self)
        self.matcher = matcher

    def __repr__(self) -> str:
        return f"<ParentNamespace {self.name} ({len(self.children)} children)>"

    def accepts(self, name: str, auth: dict[str, Any]) -> Any:
        """Whether ``name`` is one of this parent's (a bool, or an awaitable of one)."""
        if isinstance(self.matcher, re.Pattern):
            return self.matcher.search(name) is not None
        return self.matcher(name, auth)

    def create_child(self, name: str) -> Namespace:
        """The child namespace ``name``, sharing this parent's handlers and middlewares."""
        child = Namespace(self.server, name)
        child.handlers = self.handlers
        child.any_handlers = self.any_handlers
        child.unhandled_handlers = self.unhandled_handlers
        child.middlewares = self.middlewares
        child.server_side_handlers = self.server_side_handlers
        child.parent = self
        self.children[name] = child
        return child

    def drop_child(self, child: Namespace) -> None:
        """Forget a child (``cleanup_empty_child_namespaces``)."""
        if self.children.get(child.name) is child:
            del self.children[child.name]


class ChildrenAdapter(Adapter):
    """The adapter of a :class:`ParentNamespace`: every operation goes to each child's adapter
    (re-addressed to the child's name), as Node's ``ParentBroadcastAdapter``."""

    namespace: ParentNamespace

    def _children(self) -> list[Namespace]:
        return list(self.namespace.children.values())

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        for child in self._children():
            await child.adapter.broadcast(replace(packet, namespace=child.name), opts)

    def broadcast_nowait(self, packet: Packet, opts: BroadcastOptions) -> None:
        for child in self._children():
            child.adapter.broadcast_nowait(replace(packet, namespace=child.name), opts)

    async def broadcast_with_ack(
        self,
        packet: Packet,
        opts: BroadcastOptions,
        on_count: Callable[[int], None],
        on_ack: AckCallback,
    ) -> None:
        for child in self._children():
            await child.adapter.broadcast_with_ack(
                replace(packet, namespace=child.name), opts, on_count, on_ack
            )

    async def server_count(self) -> int:
        """The number of ``on_count`` reports a broadcast with acks gets: one per server of
        each child."""
        return sum([await child.adapter.server_count() for child in self._children()])

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        for child in self._children():
            await child.adapter.add_sockets(opts, rooms)

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        for child in self._children():
            await child.adapter.del_sockets(opts, rooms)

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        for child in self._children():
            await child.adapter.disconnect_sockets(opts, close)

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        sockets: list[Any] = []
        for child in self._children():
            sockets += await child.adapter.fetch_sockets(opts)
        return sockets

    async def all_rooms(self) -> set[str]:
        rooms: set[str] = set()
        for child in self._children():
            rooms |= await child.adapter.all_rooms()
        return rooms
