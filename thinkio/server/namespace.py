"""Namespaces and broadcasts (Node's ``Namespace`` and ``BroadcastOperator``).

A broadcast is encoded once: one Socket.IO packet, one list of Engine.IO packets shared by
every recipient session (and framed once for WebSocket, see :mod:`.wsframe`). Delivery queues
those shared packets on each session without a task per recipient.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio.lowlevel

from ..engineio import Packet as EnginePacket
from ..engineio import PacketType as EnginePacketType
from ..errors import AckTimeout
from ..socketio import Packet, PacketType
from .adapter import Adapter, BroadcastOptions, InMemoryAdapter
from .socket import Handler, Socket, call_handler

if TYPE_CHECKING:
    from .sio import Server

__all__ = ("BroadcastOperator", "Namespace")

Middleware = Callable[[Socket], Any]
H = TypeVar("H", bound=Callable[..., Any])
M = TypeVar("M", bound=Callable[[Socket], Any])


def _flatten(rooms: tuple[str | Iterable[str], ...]) -> frozenset[str]:
    out: set[str] = set()
    for room in rooms:
        if isinstance(room, str):
            out.add(room)
        else:
            out.update(room)
    return frozenset(out)


def engine_packets(payloads: list[str | bytes]) -> list[EnginePacket]:
    """Wrap Socket.IO payloads as Engine.IO message packets (shared by all recipients)."""
    return [EnginePacket(EnginePacketType.MESSAGE, p) for p in payloads]


class BroadcastOperator:
    """A broadcast target being built: ``io.to("room").except_("other").emit(...)``."""

    __slots__ = ("_namespace", "_opts")

    def __init__(self, namespace: Namespace, opts: BroadcastOptions | None = None) -> None:
        self._namespace = namespace
        self._opts = opts or BroadcastOptions()

    def _with(self, **changes: Any) -> BroadcastOperator:
        return BroadcastOperator(self._namespace, dataclasses.replace(self._opts, **changes))

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Also target these rooms."""
        return self._with(rooms=self._opts.rooms | _flatten(rooms))

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Leave out every socket in these rooms."""
        return self._with(except_rooms=self._opts.except_rooms | _flatten(rooms))

    @property
    def volatile(self) -> BroadcastOperator:
        """Drop the packet for sockets that cannot take it right now."""
        return self._with(volatile=True)

    @property
    def local(self) -> BroadcastOperator:
        """This process only."""
        return self._with(local=True)

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every target socket, on every server of the cluster."""
        packet = Packet(PacketType.EVENT, self._namespace.name, [event, *args])
        await self._namespace.adapter.broadcast(packet, self._opts)
        # Let the writers start on it: a handler emitting a burst must not queue all of it
        # before the first frame leaves (one checkpoint per emit, not per recipient).
        await anyio.lowlevel.checkpoint()

    async def emit_with_ack(self, event: str, *args: Any, timeout: float = 5.0) -> list[Any]:
        """Send an event to every target socket, on every server, and wait for every
        client's ack (Node's ``io.timeout(ms).emitWithAck``).

        Returns:
            The first argument of each client's ack, in arrival order.

        Raises:
            AckTimeout: not every server reported, or not every client acked, in ``timeout``
                seconds.
        """
        ns = self._namespace
        opts = dataclasses.replace(
            self._opts, flags={**self._opts.flags, "timeout": round(timeout * 1000)}
        )
        responses: list[Any] = []
        tally = {"servers": 0, "clients": 0, "expected": -1}
        done = anyio.Event()

        def check() -> None:
            servers, expected = tally["servers"], tally["expected"]
            if 0 <= expected <= servers and len(responses) >= tally["clients"]:
                done.set()

        def on_count(clients: int) -> None:
            tally["servers"] += 1
            tally["clients"] += clients
            check()

        def on_ack(args: list[Any]) -> None:
            responses.append(args[0] if args else None)
            check()

        packet = Packet(PacketType.EVENT, ns.name, [event, *args])
        with anyio.move_on_after(timeout):
            await ns.adapter.broadcast_with_ack(packet, opts, on_count, on_ack)
            tally["expected"] = 1 if opts.local else await ns.adapter.server_count()
            check()
            await done.wait()
        if not done.is_set():
            raise AckTimeout(
                f"{event!r}: {len(responses)} acks from {tally['servers']} servers within "
                f"{timeout} s (expected {tally['clients']} from {tally['expected']})"
            )
        return responses

    def sockets(self) -> list[Socket]:
        """The target sockets on this server."""
        ns = self._namespace
        return [ns.sockets[sid] for sid in ns.adapter.local_targets(self._opts)]

    async def fetch_sockets(self) -> list[Any]:
        """The target sockets on every server (remote ones as the adapter describes them)."""
        return await self._namespace.adapter.fetch_sockets(self._opts)

    async def sockets_join(self, *rooms: str) -> None:
        """Put every target socket in rooms, on every server."""
        await self._namespace.adapter.add_sockets(self._opts, rooms)

    async def sockets_leave(self, *rooms: str) -> None:
        """Take every target socket out of rooms, on every server."""
        await self._namespace.adapter.del_sockets(self._opts, rooms)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every target socket, on every server."""
        await self._namespace.adapter.disconnect_sockets(self._opts, close)


class Namespace:
    """A Socket.IO namespace on a server: its handlers, middlewares, sockets and adapter."""

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.name = name
        self.handlers: dict[str, list[Handler]] = {}
        self.any_handlers: list[Handler] = []
        self.middlewares: list[Middleware] = []
        self.sockets: dict[str, Socket] = {}
        #: Server-side event name -> handlers (see :meth:`on_server_side`).
        self.server_side_handlers: dict[str, list[Handler]] = {}
        self._ack_ids = itertools.count()
        factory = server.adapter_factory or InMemoryAdapter
        self.adapter: Adapter = factory(self)

    def __repr__(self) -> str:
        return f"<Namespace {self.name} ({len(self.sockets)} sockets)>"

    # -- registration --------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a handler (decorator or call).

        ``"connect"`` (or ``"connection"``) handlers get ``(socket)``; ``"disconnect"``
        handlers get ``(socket, reason)``; event handlers get ``(socket, *args)`` and their
        return value is the ack when the client asked for one (a tuple for several values).
        A handler with a parameter named ``ack`` gets the ack callable instead.
        """
        key = "connect" if event == "connection" else event

        def register(fn: Handler) -> Handler:
            self.handlers.setdefault(key, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    def on_any(self, handler: H) -> H:
        """Register a handler for every event: ``handler(socket, event, *args)``."""
        self.any_handlers.append(handler)
        return handler

    def use(self, middleware: M) -> M:
        """Run ``middleware(socket)`` (sync or async) before a connection is accepted.

        Raise :class:`thinkio.errors.ConnectRejected` in it to refuse with CONNECT_ERROR.
        """
        self.middlewares.append(middleware)
        return middleware

    # -- server-side events (Node's serverSideEmit / io.on(event)) -------------------------------

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

    def next_ack_id(self) -> int:
        """The next ack id of this namespace (Node's ``nsp._ids++``), shared by sockets'
        emits with acks and by acked broadcasts."""
        return next(self._ack_ids)

    # -- membership ----------------------------------------------------------------------------

    def _add(self, socket: Socket) -> None:
        self.sockets[socket.id] = socket
        self.adapter.add(socket.id)

    def _remove(self, socket: Socket) -> None:
        if self.sockets.pop(socket.id, None) is not None:
            self.adapter.remove(socket.id)

    def deliver(
        self, sids: Iterable[str], payloads: list[str | bytes], *, volatile: bool = False
    ) -> None:
        """Queue an encoded packet on local sockets (called by the adapter)."""
        packets = engine_packets(payloads)
        size = sum(len(p) for p in payloads)
        sockets = self.sockets
        for sid in sids:
            socket = sockets.get(sid)
            if socket is not None:
                socket.client.esock.send(packets, volatile=volatile, size=size)

    # -- broadcasting --------------------------------------------------------------------------

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        return BroadcastOperator(self).to(*rooms)

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        return BroadcastOperator(self).except_(*rooms)

    @property
    def volatile(self) -> BroadcastOperator:
        return BroadcastOperator(self).volatile

    @property
    def local(self) -> BroadcastOperator:
        return BroadcastOperator(self).local

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every socket of the namespace (on every server)."""
        await BroadcastOperator(self).emit(event, *args)

    async def emit_with_ack(self, event: str, *args: Any, timeout: float = 5.0) -> list[Any]:
        """Send an event to every socket of the namespace (on every server) and return each
        client's ack; see :meth:`BroadcastOperator.emit_with_ack`.

        Raises:
            AckTimeout: not every client acked within ``timeout`` seconds.
        """
        return await BroadcastOperator(self).emit_with_ack(event, *args, timeout=timeout)

    async def fetch_sockets(self) -> list[Any]:
        return await BroadcastOperator(self).fetch_sockets()

    async def disconnect_sockets(self, close: bool = False) -> None:
        await BroadcastOperator(self).disconnect_sockets(close)
