"""The Socket.IO side of one Engine.IO session: its connection state and its sockets.

A :class:`SessionDriver` owns the session's sans-IO :class:`thinkio.socketio.Connection`. The
Engine.IO layer hands it every message (:meth:`SessionDriver.receive`); it feeds the
connection, routes what comes out to the sockets (a CONNECT to its namespace, an EVENT or ACK
to the socket it names), and hands what the connection queued back to the Engine.IO session.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from .._ids import new_id
from ..engine import EngineServer, EngineSocket
from ..engineio import message_packets, uncompressed
from ..errors import ConnectRejected, LocalProtocolError, RemoteProtocolError
from ..limits import Limits
from ..net import Clock, DeadlineQueue, TaskSpawner, TimerService
from ..socketio import (
    AckReceived,
    Connection,
    ConnectRequest,
    EventReceived,
    NamespaceDisconnected,
    NamespaceState,
    Parser,
)
from .handlers import call_handler, is_awaitable
from .namespace import Namespace, ParentNamespace
from .observer import ServerObserver
from .recovery import RecoveredSession, RecoveryOptions, SavedSession
from .socket import Socket

__all__ = ("DriverHost", "SessionDriver")

log = logging.getLogger("thinkio.socketio")

_CONNECTED = NamespaceState.CONNECTED  # (read per ack: a global is cheaper than the enum's hook)


class DriverHost(Protocol):
    """What a session's driver needs from its server (:class:`.server.Server`)."""

    @property
    def limits(self) -> Limits: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def timers(self) -> TimerService: ...

    @property
    def tasks(self) -> TaskSpawner: ...

    @property
    def engine(self) -> EngineServer: ...

    @property
    def connect_timeout(self) -> float: ...

    @property
    def namespaces(self) -> Mapping[str, Namespace]: ...

    @property
    def connection_state_recovery(self) -> RecoveryOptions | None: ...

    @property
    def parent_namespaces(self) -> Sequence[ParentNamespace]: ...

    def create_child(self, parent: ParentNamespace, name: str) -> Namespace: ...

    @property
    def parser(self) -> Parser: ...

    @property
    def connect_deadlines(self) -> DeadlineQueue[SessionDriver]:
        """Where drivers wait for their connect deadline (:meth:`SessionDriver.connect_due`)."""

    @property
    def observer(self) -> ServerObserver | None: ...


class SessionDriver:
    """One session's namespaces and sockets (see the module docstring)."""

    __slots__ = (
        "_connect_deadline",
        "_draining",
        "conn",
        "engine",
        "esock",
        "observer",
        "server",
        "sockets",
    )

    def __init__(self, server: DriverHost, esock: EngineSocket) -> None:
        self.server = server
        self.esock = esock
        #: The Engine.IO server: a stretch of code between its ``begin()`` and ``end()`` is
        #: one batch, whose writes go out when it ends (see :meth:`EngineServer.begin`).
        self.engine = server.engine
        self.conn = Connection(
            limits=server.limits,
            protocol=5 if esock.protocol >= 4 else 4,
            now=server.clock.now(),
            connect_timeout=server.connect_timeout,
            parser=server.parser,
        )
        #: The session's sockets, by namespace name.
        self.sockets: dict[str, Socket] = {}
        #: The connect deadline waiting in the server's ``connect_deadlines``, or None.
        self._connect_deadline: float | None = None
        self._draining = False
        #: Told what goes in and out (None: nobody watches, nothing is counted).
        self.observer = server.observer

    @property
    def limits(self) -> Limits:
        return self.server.limits

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in a task of the server."""
        self.server.tasks.spawn(fn, *args)

    # -- from the Engine.IO session ---------------------------------------------------------

    def opened(self) -> None:
        """The session opened (protocol 4: ``/`` is joined at once)."""
        self._drain()

    def receive(self, data: str | bytes) -> None:
        """A message arrived.

        Raises:
            RemoteProtocolError: it breaks the protocol; the Engine.IO layer closes the session.
        """
        if self.observer is not None:
            self.observer.messages_in(1, len(data))
        self.conn.receive_message(data, self.server.clock.now())
        self._drain()

    def ended(self, reason: str) -> None:
        """The session ended: every socket disconnects with ``reason``."""
        # Idempotent, and needed even after the connection refused a packet (it is then
        # "closed" but its namespaces are still joined): every socket must leave and hear why.
        self.conn.close(reason)
        self._drain()

    def _drain(self) -> None:
        """Run what the connection's events call for, then hand its packets to the session."""
        conn = self.conn
        sockets = self.sockets
        next_event = conn.next_event
        self._draining = True
        try:
            while (event := next_event()) is not None:
                if type(event) is EventReceived:
                    socket = sockets.get(event.namespace)
                    if socket is not None:
                        socket.receive_event(event.args, event.ack_id)
                elif type(event) is AckReceived:
                    socket = sockets.get(event.namespace)
                    if socket is not None:
                        socket.receive_ack(event.ack_id, event.args)
                elif type(event) is ConnectRequest:
                    self._connect(event.namespace, event.auth)
                elif type(event) is NamespaceDisconnected:
                    socket = sockets.pop(event.namespace, None)
                    if socket is not None:
                        socket.closed(event.reason)
        finally:
            self._draining = False
        self.flush()
        if self._connect_deadline is not None or conn.next_deadline() is not None:
            self._arm_connect_timer()

    def _arm_connect_timer(self) -> None:
        deadline = self.conn.next_deadline()
        if deadline == self._connect_deadline:
            return  # (None and None: the usual case once a namespace is joined)
        queue = self.server.connect_deadlines
        if self._connect_deadline is not None:
            queue.discard(self)
        self._connect_deadline = deadline
        if deadline is not None:
            queue.add(self, deadline)

    def connect_due(self, now: float) -> None:
        """The connect deadline came (called by the server's ``connect_deadlines``)."""
        self._connect_deadline = None
        engine = self.esock
        if self.conn.closed:
            return
        try:
            self.conn.handle_timeout(now)
        except RemoteProtocolError as exc:
            engine.close(exc.close_reason)
            return
        self._arm_connect_timer()

    # -- to the Engine.IO session -----------------------------------------------------------

    def flush(self, *, compress: bool = True) -> None:
        """Hand what the connection queued to the Engine.IO session (``compress=False``:
        its frames are never compressed)."""
        payloads = self.conn.data_to_send()
        if payloads:
            if self.observer is not None:
                self.observer.messages_out(len(payloads), sum(map(len, payloads)))
            packets = message_packets(payloads)
            self.esock.send(packets if compress else uncompressed(packets))

    def emit(
        self, namespace: str, args: list[Any], *, ack_id: int | None = None, compress: bool = True
    ) -> None:
        """Send an event on a joined namespace (``compress=False``: its frames are never
        compressed, Node's ``socket.compress(false)``).

        Raises:
            LocalProtocolError: the namespace is not joined, or the event cannot be encoded.
        """
        if not compress:
            self.flush()  # what is queued already goes as it would have
        self.conn.emit(namespace, args, ack_id=ack_id)
        if self.observer is not None:
            socket = self.sockets.get(namespace)
            if socket is not None:
                self.observer.event_sent(namespace, socket.id, args)
        self.flush(compress=compress)

    def ack(self, namespace: str, ack_id: int, args: list[Any]) -> None:
        """Answer the client's ack on a joined namespace (nothing once it left).

        Raises:
            LocalProtocolError: the values cannot be encoded.
        """
        conn = self.conn
        try:
            conn.ack(namespace, ack_id, args)
        except LocalProtocolError:
            if conn.state_of(namespace) is _CONNECTED:
                raise  # the values cannot be encoded (or the connection closed)
            return  # the namespace was left: nothing to answer (looked up only on a refusal)
        if not self._draining:  # else the drain flushes once, after every handler it ran
            # An ack from a task (an async handler's) is one batch of its own: written now,
            # with what the task queued before it, rather than at the flusher's next turn
            # (inside a batch already, it waits for that batch's end).
            engine = self.engine
            engine.begin()
            try:
                self.flush()
            finally:
                engine.end()

    def disconnect_socket(self, socket: Socket) -> None:
        """The server disconnects one socket from its namespace (``1<nsp>`` goes out)."""
        name = socket.namespace.name
        if self.sockets.get(name) is socket:
            del self.sockets[name]
        if self.conn.state_of(name) is NamespaceState.CONNECTED:
            self.conn.disconnect(name)
            self.flush()

    def close(self, reason: str) -> None:
        """End the whole Engine.IO session."""
        self.esock.close(reason)

    # -- connecting -------------------------------------------------------------------------

    def _connect(self, name: str, auth: dict[str, Any]) -> None:
        ns = self.server.namespaces.get(name)
        if ns is None:
            if self.server.parent_namespaces:
                self.spawn(self._connect_dynamic, name, auth)
            else:
                self.conn.reject_invalid_namespace(name)
            return
        self._join(ns, auth)

    async def _connect_dynamic(self, name: str, auth: dict[str, Any]) -> None:
        """A name no namespace has: the first parent namespace that accepts it makes it."""
        for parent in list(self.server.parent_namespaces):
            try:
                accepted = await call_handler(parent.accepts, name, auth)
            except Exception:
                log.exception("the matcher of dynamic namespace %s failed for %s", parent, name)
                accepted = False
            if accepted:
                break
        else:
            if self.conn.state_of(name) is NamespaceState.CONNECTING:
                self.conn.reject_invalid_namespace(name)
                self.flush()
            return
        if self.conn.state_of(name) is NamespaceState.CONNECTING:
            self._join(self.server.create_child(parent, name), auth)

    def _join(self, ns: Namespace, auth: dict[str, Any]) -> None:
        """A client joins ``ns``: its dropped socket given back (connection state recovery),
        or a new one."""
        recovery = self.server.connection_state_recovery
        if recovery is not None and self.conn.protocol >= 5:
            pid, offset = auth.get("pid"), auth.get("offset")
            if type(pid) is str and type(offset) is str:
                self.spawn(self._restore, ns, recovery, auth, pid, offset)
                return
        self._start_socket(ns, Socket(ns, self, self._socket_id(ns.name), auth))

    async def _restore(
        self, ns: Namespace, recovery: RecoveryOptions, auth: dict[str, Any], pid: str, offset: str
    ) -> None:
        """A client came back with ``{pid, offset}``: its old socket if the adapter still
        has it (Node's ``_createSocket``), else a new one."""
        try:
            session = await ns.adapter.restore_session(pid, offset)
        except Exception:
            log.exception("could not restore session on %s", ns.name)
            session = None
        if session is None:
            self._start_socket(ns, Socket(ns, self, self._socket_id(ns.name), auth))
            return
        socket = Socket(ns, self, session.sid, auth)
        socket.pid = session.pid
        socket.recovered = True
        if session.data is not None:
            socket.data = session.data
        if recovery.skip_middlewares:
            self._accept(ns, socket, session)
        else:
            self._start_socket(ns, socket, session, catch_up=True)

    def _start_socket(
        self,
        ns: Namespace,
        socket: Socket,
        session: RecoveredSession | None = None,
        *,
        catch_up: bool = False,
    ) -> None:
        """Run the connect middlewares, then accept (a restored session also gets what was
        sent while they ran: ``catch_up``)."""
        name = ns.name
        for i, middleware in enumerate(ns.middlewares):
            try:
                result = middleware(socket)
            except ConnectRejected as exc:
                self._reject(name, exc.message, exc.data)
                return
            except Exception:
                log.exception("connect middleware failed for %s", name)
                self._reject(name, "Internal server error")
                return
            if is_awaitable(result):
                store = ns.adapter.recovery
                if session is not None and catch_up and store is not None:
                    # The middlewares go on in a task: once they are done, the packets kept
                    # from now on are added to what it missed.
                    session.catch_up_from = store.position()
                self.spawn(self._finish_middlewares, ns, socket, result, i + 1, session)
                return
        self._accept(ns, socket, session)

    async def _finish_middlewares(
        self,
        ns: Namespace,
        socket: Socket,
        pending: Awaitable[Any],
        first: int,
        session: RecoveredSession | None = None,
    ) -> None:
        name = ns.name
        try:
            await pending
            for middleware in ns.middlewares[first:]:
                result = middleware(socket)
                if is_awaitable(result):
                    await result
        except ConnectRejected as exc:
            self._reject(name, exc.message, exc.data)
            return
        except Exception:
            log.exception("connect middleware failed for %s", name)
            self._reject(name, "Internal server error")
            return
        self._accept(ns, socket, session)

    def _reject(self, name: str, message: str, data: Any = None) -> None:
        if self.conn.state_of(name) is NamespaceState.CONNECTING:
            self.conn.reject(name, message, data)
            self.flush()

    def _socket_id(self, namespace: str) -> str:
        """A fresh id; for socket.io 2.x clients the legacy one they compute themselves
        (the Engine.IO sid on ``/``, ``/nsp#sid`` elsewhere; PROTOCOL.md 4)."""
        if self.conn.protocol >= 5:
            return new_id()
        sid = self.esock.sid
        return sid if namespace == "/" else f"{namespace}#{sid}"

    def _accept(
        self, ns: Namespace, socket: Socket, session: RecoveredSession | None = None
    ) -> None:
        name = ns.name
        conn = self.conn
        if conn.state_of(name) is not NamespaceState.CONNECTING:
            # The session ended while the middlewares (or the restore) ran: a restored
            # session is kept again, for the client's next try.
            if session is not None:
                ns.adapter.persist_session(
                    SavedSession(session.sid, session.pid, session.rooms, session.data)
                )
            return
        if (
            session is None
            and self.server.connection_state_recovery is not None
            and conn.protocol >= 5
        ):
            socket.pid = new_id()
        conn.accept(name, socket.id, socket.pid)
        self.flush()  # the CONNECT reply goes out before anything the handlers send
        self._arm_connect_timer()
        self.sockets[name] = socket
        socket.connected = True
        ns.add_socket(socket)
        if session is not None:
            # Recovered: its rooms back, then what it missed, before any handler runs.
            store = ns.adapter.recovery
            if session.catch_up_from is not None and store is not None:
                session.missed += store.since(session.catch_up_from, session.rooms)
            ns.adapter.join(socket.id, session.rooms)
            for data in session.missed:
                try:
                    conn.emit(name, data)
                except LocalProtocolError as exc:
                    log.debug("a missed packet cannot be sent again: %s", exc)
            self.flush()
        socket.opened()
