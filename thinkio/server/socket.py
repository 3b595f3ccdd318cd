"""A Socket.IO socket: one client's connection to one namespace (Node's server ``Socket``).

Everything a socket runs — its connect handlers, its event handlers, its disconnect
handlers — runs in order, one job at a time. A job starts in the callback that received its
event: a handler that is a plain function runs to the end right there, with no task (the fast
path). A handler that returns an awaitable (an ``async def``) hands the rest of its job to a
task; while that task runs, the socket's next events wait in its inbox, so they still run in
order and only after the connect handlers finished. Acks from the client resolve at once, not
in the inbox, so a handler may ``await socket.call(...)`` without blocking its own reply.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar, overload

import anyio

from ..engine import EngineServer, EngineSocket, Handshake
from ..errors import AckTimeout
from ..limits import Limits
from ..socketio import AckRegistry, Connection, NamespaceState
from .acks import NO_ACK, Ack
from .adapter import Adapter
from .broadcast import BroadcastOperator
from .emits import FlaggedEmit, TimedEmit
from .handlers import PLAIN_RESULTS, Handler, is_awaitable, takes_ack
from .jobs import Job
from .recovery import RECOVERABLE_REASONS, SavedSession

__all__ = ("Socket", "SocketDriver", "SocketHome")

_NONE: list[Any] = []

log = logging.getLogger("thinkio.socketio")

AckCallback = Callable[[list[Any] | None], None]
#: A per-packet middleware (:meth:`Socket.use`): ``fn(packet, next)``, sync or async.
PacketMiddleware = Callable[[list[Any], Callable[..., None]], Any]
H = TypeVar("H", bound=Callable[..., Any])


class SocketHome(Protocol):
    """A socket's namespace, as the socket (and code holding it) sees it: the public API of
    :class:`.namespace.Namespace` (Node's ``socket.nsp``)."""

    @property
    def name(self) -> str: ...

    @property
    def server(self) -> Any:
        """The :class:`.server.Server`."""

    @property
    def handlers(self) -> dict[str, list[Handler]]: ...

    @property
    def any_handlers(self) -> list[Handler]: ...

    @property
    def unhandled_handlers(self) -> list[Handler]: ...

    @property
    def adapter(self) -> Adapter: ...

    @property
    def sockets(self) -> dict[str, Socket]: ...

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator: ...

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator: ...

    async def emit(self, event: str, *args: Any) -> None: ...

    def emit_nowait(self, event: str, *args: Any) -> None: ...

    async def fetch_sockets(self) -> list[Any]: ...

    def next_ack_id(self) -> int: ...

    async def cooperate(self) -> None: ...

    def remove_socket(self, socket: Socket) -> None: ...

    def watch_outgoing(self, change: int) -> None: ...


class SocketDriver(Protocol):
    """What a socket needs from its session (:class:`.driver.SessionDriver`)."""

    @property
    def esock(self) -> EngineSocket: ...

    @property
    def engine(self) -> EngineServer: ...

    @property
    def conn(self) -> Connection: ...

    @property
    def limits(self) -> Limits: ...

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None: ...

    def emit(
        self, namespace: str, args: list[Any], *, ack_id: int | None = None, compress: bool = True
    ) -> None: ...

    def ack(self, namespace: str, ack_id: int, args: list[Any]) -> None: ...

    def close(self, reason: str) -> None: ...

    def disconnect_socket(self, socket: Socket) -> None: ...


def _timed(callback: AckCallback, observer: Any, clock: Any) -> AckCallback:
    """``callback``, reporting to the server's observer how long the client took."""
    sent = clock.now()

    def answered(args: list[Any] | None) -> None:
        if args is not None:
            observer.ack_answered(clock.now() - sent)
        callback(args)

    return answered


class Socket:
    """One client's connection to one namespace.

    Attributes:
        id: the socket id (distinct from the Engine.IO session id).
        namespace: the namespace it joined.
        auth: the CONNECT packet's auth payload.
        connected: it is in its namespace (False once disconnected).
        recovered: it was given back by connection state recovery.
        disconnect_reason: why it disconnected (None while connected).
    """

    def __init__(
        self, namespace: SocketHome, driver: SocketDriver, sid: str, auth: dict[str, Any]
    ) -> None:
        self.namespace = namespace
        self.driver = driver
        self.id = sid
        self.auth = auth
        self.connected = False
        self.disconnect_reason: str | None = None
        self._data: dict[str, Any] | None = None
        self._handlers: dict[str, list[Handler]] | None = None
        self._inbox: deque[Job] | None = None
        self._running = False
        self._acks: AckRegistry[AckCallback] | None = None
        #: The private session id of connection state recovery (None when it is off).
        self.pid: str | None = None
        #: This socket is a dropped one given back by connection state recovery: same id,
        #: rooms and data, and the packets it missed were sent again.
        self.recovered = False
        #: Per-packet middlewares (:meth:`use`); None while there is none (the fast path).
        self._middlewares: list[PacketMiddleware] | None = None
        #: :meth:`on_any_outgoing` listeners; None while there is none.
        self._any_outgoing: list[Handler] | None = None

    def __repr__(self) -> str:
        return f"<Socket {self.id} {self.namespace.name}>"

    # -- what the client sent us ------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        """Free for the application: anything it wants to keep per socket."""
        if self._data is None:
            self._data = {}
        return self._data

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        self._data = value

    @property
    def handshake(self) -> Handshake:
        """Headers, query, address, cookies and time of the client's first request."""
        return self.driver.esock.handshake

    @property
    def rooms(self) -> frozenset[str]:
        """The rooms this socket is in (including the one named by its id)."""
        return self.namespace.adapter.rooms_of(self.id)

    @property
    def protocol(self) -> int:
        """The client's Socket.IO protocol revision: 5, or 4 for socket.io 2.x."""
        return self.driver.conn.protocol

    @property
    def transport(self) -> str:
        """``"polling"`` or ``"websocket"``: what carries the session now."""
        return self.driver.esock.transport

    # -- handlers ---------------------------------------------------------------------------

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a handler for an event on this socket only (decorator or call)."""

        def register(fn: Handler) -> Handler:
            if self._handlers is None:
                self._handlers = {}
            self._handlers.setdefault(event, []).append(fn)
            return fn

        return register(handler) if handler is not None else register

    def use(self, middleware: PacketMiddleware) -> PacketMiddleware:
        """Run ``middleware(packet, next)`` on every event this socket receives (Node's
        ``socket.use``), in the order added, before the handlers.

        ``packet`` is ``[event, *args]`` (a list it may change); call ``next()`` to pass it
        on, or ``next(error)`` to drop it, the socket's ``"error"`` handlers then get
        ``(socket, error)``. Raising does the same; never calling ``next`` drops it
        silently. May be ``async``: then packets that come meanwhile may overtake it.
        """
        if self._middlewares is None:
            self._middlewares = []
            self.receive_event = self._receive_through_middlewares  # type: ignore[method-assign]
        self._middlewares.append(middleware)
        return middleware

    def on_any_outgoing(self, listener: H) -> H:
        """Call ``listener(event, *args)`` for every event sent to this socket: its own
        emits and the broadcasts it receives (Node's ``socket.onAnyOutgoing``)."""
        if self._any_outgoing is None:
            self._any_outgoing = []
            self.namespace.watch_outgoing(1)
        self._any_outgoing.append(listener)
        return listener

    def off_any_outgoing(self, listener: Handler | None = None) -> None:
        """Remove one :meth:`on_any_outgoing` listener, or every one."""
        listeners = self._any_outgoing
        if listeners is None:
            return
        if listener is not None and listener in listeners:
            listeners.remove(listener)
        if listener is None or not listeners:
            self._any_outgoing = None
            self.namespace.watch_outgoing(-1)

    def notify_outgoing(self, data: list[Any]) -> None:
        """Tell the :meth:`on_any_outgoing` listeners about ``[event, *args]`` going out."""
        for listener in self._any_outgoing or ():
            try:
                listener(*data)
            except Exception:
                log.exception("on_any_outgoing listener failed on socket %s", self.id)

    def _handlers_of(self, event: str) -> list[Handler]:
        mine = self._handlers.get(event) if self._handlers else None
        theirs = self.namespace.handlers.get(event)
        if mine and theirs:
            return mine + theirs
        return mine or theirs or []

    # -- jobs (called by the session driver) ------------------------------------------------

    def _receive_through_middlewares(self, args: list[Any], ack_id: int | None) -> None:
        """:meth:`receive_event` once :meth:`use` added a packet middleware."""
        self._through_middlewares(args, ack_id, 0)

    def _through_middlewares(self, args: list[Any], ack_id: int | None, i: int) -> None:
        """Run the packet middlewares from ``i`` on; the last ``next()`` dispatches."""
        middlewares = self._middlewares
        if middlewares is None or i >= len(middlewares):
            if self.connected:
                Socket.receive_event(self, args, ack_id)
            return
        called = False

        def next_(error: BaseException | None = None) -> None:
            nonlocal called
            if called:
                log.debug("next() of a packet middleware called again: ignored")
                return
            called = True
            if error is not None:
                self._packet_refused(error)
            else:
                self._through_middlewares(args, ack_id, i + 1)

        try:
            result = middlewares[i](args, next_)
        except Exception as exc:
            self._packet_refused(exc)
            return
        if is_awaitable(result):
            self.driver.spawn(self._await_middleware, result)

    async def _await_middleware(self, pending: Awaitable[Any]) -> None:
        try:
            await pending
        except Exception as exc:
            self._packet_refused(exc)

    def _packet_refused(self, error: BaseException) -> None:
        """A packet middleware refused a packet: the ``error`` handlers hear it (Node)."""
        handlers = self._handlers_of("error")
        if not handlers:
            log.warning("socket %s: a packet middleware refused a packet: %s", self.id, error)
            return
        self._start(Job(self, "error", [(h, (self, error), False) for h in handlers]))

    def receive_event(self, args: list[Any], ack_id: int | None) -> None:
        """The client sent an event: run its handlers (now, or after the queued ones).

        (Once :meth:`use` added a packet middleware, the instance's ``receive_event`` runs
        the middlewares first: a socket without any pays nothing for them.)
        """
        event = args[0]
        namespace = self.namespace
        handlers = (
            namespace.handlers.get(event, _NONE)
            if self._handlers is None
            else self._handlers_of(event)
        )
        if len(handlers) == 1 and not self._running and not namespace.any_handlers:
            # The common case, without the job machinery: one handler, nothing queued.
            handler = handlers[0]
            # A handler with a parameter named ``ack`` owns the ack: it gets the callback, and
            # its return value is no ack (see thinkio.server.acks).
            ack = Ack(self, ack_id) if ack_id is not None and takes_ack(handler) else None
            owned = ack is not None
            try:
                if owned:
                    result = handler(self, *args[1:], ack=ack)
                else:
                    # One argument is the usual event: called without slicing and unpacking.
                    result = handler(self, args[1]) if len(args) == 2 else handler(self, *args[1:])
            except Exception:
                log.exception(
                    "handler for %r failed on socket %s (%s)",
                    event,
                    self.id,
                    namespace.name,
                    extra={"socket": self.id, "namespace": namespace.name, "event": event},
                )
                return
            kind = type(result)
            if kind in PLAIN_RESULTS or not is_awaitable(result):
                if ack_id is not None and not owned and self.connected:
                    # The return value is the ack.
                    if kind is tuple:
                        self.driver.ack(namespace.name, ack_id, list(result))
                    elif result is None:
                        self.driver.ack(namespace.name, ack_id, [])
                    elif result is not NO_ACK:
                        self.driver.ack(namespace.name, ack_id, [result])
                return
            if ack is None and ack_id is not None:
                ack = Ack(self, ack_id)
            job = Job(self, event, [(handler, (), True)], ack)
            job.owned = owned
            job.started()
            self._running = True
            self.driver.spawn(self._run, job, result)
            return
        params = tuple(args[1:])
        ack = Ack(self, ack_id) if ack_id is not None else None
        steps = [(h, (self, event, *params), False) for h in namespace.any_handlers]
        if handlers:
            steps += [(h, (self, *params), True) for h in handlers]
        else:
            steps += [(h, (self, event, *params), False) for h in namespace.unhandled_handlers]
        if not steps:
            return
        self._start(Job(self, event, steps, ack))

    def receive_ack(self, ack_id: int, args: list[Any]) -> None:
        """The client answered one of our acks."""
        if self._acks is None:
            return
        callback = self._acks.pop(ack_id)
        if callback is not None:
            callback(args)
        else:
            log.debug("ack %d from socket %s answers nothing pending: ignored", ack_id, self.id)

    def opened(self) -> None:
        """The socket joined its namespace: run the connect handlers first."""
        handlers = self._handlers_of("connect")
        if handlers:
            self._start(Job(self, "connect", [(h, (self,), False) for h in handlers]))

    def closed(self, reason: str) -> None:
        """The socket left its namespace: the ``disconnecting`` handlers run with its rooms
        still set, then it leaves them, then the ``disconnect`` handlers run (all after the
        jobs already queued)."""
        if not self.connected:
            return
        self.connected = False
        self.disconnect_reason = reason
        if self._acks is not None:
            for callback in self._acks.clear():
                callback(None)
        steps: list[tuple[Handler, tuple[Any, ...], bool]] = [
            (h, (self, reason), False) for h in self._handlers_of("disconnecting")
        ]
        steps.append((self._leave_namespace, (), False))
        steps += [(h, (self, reason), False) for h in self._handlers_of("disconnect")]
        self._start(Job(self, "disconnect", steps))

    def _leave_namespace(self) -> None:
        if self.pid is not None and self.disconnect_reason in RECOVERABLE_REASONS:
            adapter = self.namespace.adapter
            adapter.persist_session(
                SavedSession(self.id, self.pid, tuple(adapter.rooms_of(self.id)), self._data)
            )
        if self._any_outgoing is not None:
            self._any_outgoing = None
            self.namespace.watch_outgoing(-1)
        self.namespace.remove_socket(self)

    def _start(self, job: Job) -> None:
        if self._running:
            if self._inbox is None:
                self._inbox = deque()
            self._inbox.append(job)
            return
        try:
            pending = job.step()
        except Exception:
            job.failed()
            return
        if pending is not None:
            self._running = True
            self.driver.spawn(self._run, job, pending)

    async def _run(self, job: Job, first: Awaitable[Any]) -> None:
        """Finish a job that had to wait, then every job queued behind it.

        Each stretch this task runs between two awaits (the rest of a job, the next job up to
        its first await) is one batch of the Engine.IO server, as a transport callback is:
        what it queues (the ack, above all) is written when the stretch ends, not at the
        flusher's next turn, which would cost this task's socket a wake-up of the flusher.
        """
        engine = self.driver.engine
        pending: Awaitable[Any] | None = first
        try:
            while True:
                try:
                    while pending is not None:
                        result = await pending
                        engine.begin()
                        try:
                            job.resumed(result)
                            pending = job.step()
                        finally:
                            engine.end()
                except Exception:
                    job.failed()
                inbox = self._inbox
                if not inbox:
                    return
                job = inbox.popleft()
                engine.begin()
                try:
                    pending = job.step()
                except Exception:
                    job.failed()
                    pending = None
                finally:
                    engine.end()
        finally:
            self._running = False
            if self._inbox:  # cancelled with jobs left (a shutdown): they are dropped
                self._inbox.clear()

    # -- sending ----------------------------------------------------------------------------

    def _dropped(self, what: str) -> None:
        """The DEBUG line for ``what``, dropped because the socket is disconnected.

        As in Node, writing to a socket that went away is not an error: a handler that
        outlived its client (an ``await`` that returned after the disconnect) must not fail.
        """
        log.debug(
            "socket %s is disconnected (%s): %s dropped", self.id, self.disconnect_reason, what
        )

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to this socket (written when the caller next lets the loop run).

        Dropped, with a DEBUG line, when the socket is disconnected (as in Node).

        Raises:
            LocalProtocolError: the event cannot be sent (its arguments cannot be encoded).
        """
        self.emit_nowait(event, *args)
        await self.namespace.cooperate()

    def emit_nowait(self, event: str, *args: Any) -> None:
        """Send an event to this socket, from sync code (see :meth:`emit`)."""
        if self.pid is None:
            if not self.connected:
                self._dropped(f"event {event!r}")
                return
            data = [event, *args]
            self.driver.emit(self.namespace.name, data)
            if self._any_outgoing is not None:
                self.notify_outgoing(data)
            return
        self.send_event([event, *args])

    def send_event(self, data: list[Any], *, compress: bool = True) -> None:
        """Send ``[event, *args]`` to this socket (what :meth:`emit_nowait` does; use it, or
        ``socket.compress(False).emit(...)``). ``compress=False``: its frames are never
        compressed (Node's ``compress(false)``)."""
        target = self
        if self.pid is not None:
            # Connection state recovery: as in Node, the packet goes to the socket *id*: it
            # gets an offset and is kept even once this socket dropped, and reaches the socket
            # that recovered this id, if any (a handler may hold the old object).
            data = self.namespace.adapter.stamp_direct(self.id, data)
            if not self.connected:
                found = self.namespace.sockets.get(self.id)
                if found is None:
                    self._dropped(f"event {data[0]!r} (kept for recovery)")
                    return
                target = found
        elif not self.connected:
            self._dropped(f"event {data[0]!r}")
            return
        target.driver.emit(self.namespace.name, data, compress=compress)
        if target._any_outgoing is not None:
            target.notify_outgoing(data)

    def compress(self, value: bool = True) -> FlaggedEmit:
        """Node's ``socket.compress(flag)``: ``await socket.compress(False).emit("e", big)``
        sends the event uncompressed even with ``per_message_deflate`` on and the message over
        its threshold; True (the default) leaves it to the threshold."""
        return FlaggedEmit(self, bool(value))

    def send_ack(self, ack_id: int, args: list[Any]) -> None:
        """Answer the client's ack ``ack_id`` (use the :class:`Ack` handlers get instead)."""
        if self.connected:
            self.driver.ack(self.namespace.name, ack_id, args)

    def expect_ack(self, ack_id: int, callback: AckCallback) -> None:
        """Call ``callback(args)`` when the client answers ack ``ack_id``, or
        ``callback(None)`` if the socket disconnects first. The id comes from
        :meth:`Namespace.next_ack_id` (a broadcast with acks shares one id).

        Raises:
            LocalProtocolError: too many acks are pending (``Limits.max_pending_acks``).
        """
        if self._acks is None:
            self._acks = AckRegistry(self.driver.limits.max_pending_acks)
        observer = self.namespace.server.observer
        if observer is not None:
            callback = _timed(callback, observer, self.namespace.server.clock)
        self._acks.add(ack_id, callback)

    def forget_ack(self, ack_id: int) -> None:
        """Stop waiting for ``ack_id`` (its caller gave up)."""
        if self._acks is not None:
            self._acks.pop(ack_id)

    async def call(
        self, event: str, *args: Any, timeout: float | None = 5.0, compress: bool = True
    ) -> list[Any]:
        """Send an event and wait for the client's ack; returns the ack's arguments
        (``compress=False``: see :meth:`compress`).

        Raises:
            AckTimeout: no ack within ``timeout`` seconds, or the socket is (or gets)
                disconnected before it answers.
            LocalProtocolError: too many acks are pending.
        """
        if not self.connected:
            raise AckTimeout(f"{event!r} to socket {self.id}: disconnected")
        done = anyio.Event()
        answer: list[list[Any] | None] = []

        def answered(result: list[Any] | None) -> None:
            answer.append(result)
            done.set()

        ack_id = self.namespace.next_ack_id()
        self.expect_ack(ack_id, answered)
        data = [event, *args]
        try:
            self.driver.emit(self.namespace.name, data, ack_id=ack_id, compress=compress)
        except BaseException:
            self.forget_ack(ack_id)
            raise
        if self._any_outgoing is not None:
            self.notify_outgoing(data)
        with anyio.move_on_after(timeout if timeout is not None else float("inf")):
            await done.wait()
        if not answer or answer[0] is None:
            self.forget_ack(ack_id)
            why = "disconnected" if not self.connected else f"no ack within {timeout} s"
            raise AckTimeout(f"{event!r} to socket {self.id}: {why}")
        return answer[0]

    def timeout(self, seconds: float) -> TimedEmit:
        """Node's ``socket.timeout(ms)``: ``await socket.timeout(0.5).emit_with_ack("q")``
        returns the client's ack values, or raises :class:`~thinkio.errors.AckTimeout`."""
        return TimedEmit(self, seconds)

    # -- rooms ------------------------------------------------------------------------------

    def join(self, *rooms: str) -> None:
        """Put this socket in rooms (nothing, with a DEBUG line, once it is disconnected)."""
        if not self.connected:
            self._dropped(f"join {rooms!r}")
            return
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
        self.disconnect_nowait(close)

    def disconnect_nowait(self, close: bool = False) -> None:
        """:meth:`disconnect`, from sync code."""
        if not self.connected:
            return
        if close:
            self.driver.close("forced server close")
            return
        self.driver.disconnect_socket(self)
        self.closed("server namespace disconnect")

    def state(self) -> NamespaceState:
        """Where this socket's namespace stands on its connection."""
        return self.driver.conn.state_of(self.namespace.name)
