"""The Socket.IO server: the low-level API the controller layer sits on (Node's ``io``).

Start it inside your own anyio task group, on asyncio or trio::

    io = Server()

    @io.on("connect")
    async def hello(socket):
        await socket.emit("welcome", socket.id)

    @io.on("chat")
    async def chat(socket, text):
        await io.emit("chat", text)   # to everyone, sender included
        return "ok"                   # the ack, if the client asked for one

    async with anyio.create_task_group() as tg:
        address = await tg.start(io.serve, "127.0.0.1", 8360)
        ...
        await io.shutdown()           # sessions end, clients reconnect elsewhere

The layers under it, each a package of its own, imports pointing down only:
:mod:`thinkio.engine` (Engine.IO sessions over polling and WebSocket), :mod:`thinkio.http`
(HTTP/1.1 on h11), :mod:`thinkio.net` (sockets, transports, timers, tasks).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar, overload

import anyio
from anyio.abc import TaskStatus

from ..engine import AllowRequest, EngineServer, EngineSocket, SessionCookie
from ..engineio import EngineOptions
from ..errors import ConfigError
from ..http import CorsOptions, CorsPolicy, HttpHandler, HttpServer, OriginSpec, Router
from ..limits import DEFAULT_LIMITS, Limits
from ..net import (
    SYSTEM_CLOCK,
    BoundAddress,
    Clock,
    DeadlineQueue,
    TaskSpawner,
    TimerService,
    listen,
    serve_listener,
)
from ..socketio import Parser, parser_named
from ..websocket.deflate import DeflateOptions, deflate_options
from .adapter import Adapter
from .broadcast import BroadcastOperator
from .driver import SessionDriver
from .handlers import Handler
from .metrics import ServerMetrics, metrics_options
from .namespace import Namespace, NamespaceMatcher, ParentNamespace
from .observer import ServerObserver
from .recovery import RecoveryOptions, recovery_options
from .socket import Socket

__all__ = ("Server",)

log = logging.getLogger("thinkio.socketio")

AdapterFactory = Callable[[Namespace], Adapter]
H = TypeVar("H", bound=Callable[..., Any])
M = TypeVar("M", bound=Callable[[Socket], Any])


class Server:
    """A Socket.IO server.

    Args:
        path: where Engine.IO is served (``/socket.io``; with or without a trailing slash).
        ping_interval: seconds between pings (Node: 25).
        ping_timeout: seconds to wait for a pong (Node: 20).
        upgrade_timeout: seconds a polling→WebSocket upgrade may take.
        max_http_buffer_size: largest POST body / WebSocket message in bytes.
        transports: enabled transports.
        allow_eio3: accept socket.io 2.x clients (Engine.IO v3).
        allow_origin: which browser origins may connect (see :mod:`thinkio.http.origins`);
            default all.
        cors: Node's ``cors`` options (see :mod:`thinkio.http.cors`): ``origin`` (the same
            setting as ``allow_origin``: give one), ``credentials`` (default False),
            ``methods``, ``allowed_headers``, ``exposed_headers``, ``max_age``.
        connect_timeout: seconds a client has to join a namespace.
        adapter: adapter factory, ``Namespace -> Adapter`` (in-memory by default).
        allow_request: async ``(request) -> True | False | message`` run on each handshake.
        limits: every size/count/time bound (``max_http_buffer_size`` overrides its payload
            size).
        clock: where time comes from (tests pass :class:`thinkio.testing.FakeClock`).
        connection_state_recovery: keep the state of a client whose transport dropped, and
            give it back, with the packets it missed, when it reconnects in time (Node's
            ``connectionStateRecovery``; see :mod:`thinkio.server.recovery`): True for the
            defaults, a :class:`~thinkio.server.RecoveryOptions`, or a dict with
            ``max_disconnection_duration`` (seconds; Node's ``maxDisconnectionDuration`` in
            ms is read too) and ``skip_middlewares``. Off (None) by default.
        parser: the Socket.IO parser of every client, ``"default"`` or ``"msgpack"``
            (npm ``socket.io-msgpack-parser``; see docs/parsers.md).
        per_message_deflate: WebSocket compression, off by default as in Node: True, or a
            dict with ``threshold`` (bytes, default 1024) and the negotiable parameters
            (see docs/websocket-compression.md).
        metrics: Prometheus metrics (:mod:`thinkio.server.metrics`): off by default; True
            serves them at ``/metrics``; ``{"path": ..., "labels": {...}}`` elsewhere, with
            constant labels. Needs ``thinkio[metrics]``.
        cookie: Node's ``cookie`` option: a cookie holding the session id on each handshake
            response, for sticky layer-7 load balancers. False (default) for none, True for
            ``io; Path=/; HttpOnly; SameSite=Lax``, or a mapping of ``name``, ``path``
            (False for none), ``http_only``/``httpOnly``, ``same_site``/``sameSite``,
            ``domain``, ``secure``, ``max_age``/``maxAge`` (see
            :class:`thinkio.engine.SessionCookie`).
        cleanup_empty_child_namespaces: forget a dynamic child namespace (see :meth:`of`)
            once its last socket left, as Node's option of that name.

    Raises:
        ConfigError: ``parser`` is not a known parser, ``per_message_deflate`` is wrong,
            ``path`` is not absolute, an origin entry can never match, the ``cors``
            options are wrong or ask for credentials with every origin allowed, or the
            ``cookie`` or ``connection_state_recovery`` options are wrong.
    """

    def __init__(
        self,
        *,
        path: str = "/socket.io",
        ping_interval: float = 25.0,
        ping_timeout: float = 20.0,
        upgrade_timeout: float = 10.0,
        max_http_buffer_size: int | None = None,
        transports: Iterable[str] = ("polling", "websocket"),
        allow_eio3: bool = False,
        allow_origin: OriginSpec = None,
        cors: CorsOptions | Mapping[str, Any] | None = None,
        connect_timeout: float = 45.0,
        adapter: AdapterFactory | None = None,
        allow_request: AllowRequest | None = None,
        limits: Limits | None = None,
        clock: Clock | None = None,
        connection_state_recovery: RecoveryOptions | Mapping[str, Any] | bool | None = None,
        parser: str | Parser = "default",
        per_message_deflate: bool | Mapping[str, Any] | DeflateOptions | None = False,
        metrics: bool | Mapping[str, Any] | None = None,
        cookie: bool | Mapping[str, Any] | SessionCookie | None = False,
        cleanup_empty_child_namespaces: bool = False,
    ) -> None:
        #: The Socket.IO parser every session of this server speaks.
        self.parser = parser_named(parser)
        limits = limits or DEFAULT_LIMITS
        if max_http_buffer_size is not None:
            limits = replace(limits, max_payload_bytes=max_http_buffer_size)
        if not path.startswith("/"):
            raise ConfigError(
                f"path: expected an absolute URL path like '/socket.io', got {path!r}"
            )
        self.path = path.rstrip("/") or "/"
        self.limits = limits
        self.connect_timeout = connect_timeout
        self.adapter_factory = adapter
        #: Connection state recovery, or None (off).
        self.connection_state_recovery = recovery_options(connection_state_recovery)
        self.engine_options = EngineOptions(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            upgrade_timeout=upgrade_timeout,
            transports=tuple(transports),
            allow_eio3=allow_eio3,
            limits=limits,
        )
        self.timers = TimerService(clock or SYSTEM_CLOCK)
        self.clock = self.timers.clock
        #: The sessions that have not joined a namespace yet, by connect deadline.
        self.connect_deadlines: DeadlineQueue[SessionDriver] = DeadlineQueue(
            self.timers, SessionDriver.connect_due
        )
        #: Runs what callbacks hand off (``async def`` handlers, HTTP routes).
        self.tasks = TaskSpawner()
        self.engine = EngineServer(
            self,
            options=self.engine_options,
            timers=self.timers,
            cors=CorsPolicy(cors, allow_origin=allow_origin),
            allow_request=allow_request,
            deflate=deflate_options(per_message_deflate),
            cookie=SessionCookie.from_option(cookie),
        )
        router = Router()
        router.mount(self.path, self.engine.handle, max_body=limits.max_payload_bytes)
        #: HTTP for every connection of this server (its router serves other paths too).
        self.http = HttpServer(router, limits, self.timers, self.tasks)
        self.namespaces: dict[str, Namespace] = {}
        #: Told what goes in and out (see :mod:`.observer`); None: nothing is counted.
        self.observer: ServerObserver | None = None
        #: The Prometheus metrics, when the ``metrics`` option is on.
        self.metrics: ServerMetrics | None = None
        metrics_opts = metrics_options(metrics)
        if metrics_opts is not None:
            self.metrics = self.observer = ServerMetrics(self, **metrics_opts)
            router.mount(self.metrics.path, self.metrics.handle)
        #: Dynamic namespaces (:meth:`of` with a pattern or a function), in creation order.
        self.parent_namespaces: list[ParentNamespace] = []
        self.cleanup_empty_child_namespaces = cleanup_empty_child_namespaces
        self._stop = anyio.Event()
        self.of("/")

    @property
    def router(self) -> Router:
        """What serves each request path (Engine.IO, plus whatever else is mounted)."""
        return self.http.router

    @router.setter
    def router(self, router: Router) -> None:
        self.http.router = router

    # -- namespaces -------------------------------------------------------------------------

    @overload
    def of(self, name: str) -> Namespace: ...
    @overload
    def of(self, name: NamespaceMatcher) -> ParentNamespace: ...
    def of(self, name: str | NamespaceMatcher) -> Namespace:
        r"""The namespace called ``name`` (created on first use).

        With a compiled regular expression, or a function ``(name, auth) -> bool`` (sync or
        async), a :class:`ParentNamespace`: dynamic namespaces, as Node's ``io.of(regex)``.
        A client joining a name no namespace has gets a child of the first parent whose
        matcher accepts it (checked in the order the parents were made); the child has the
        parent's handlers and middlewares. ``io.of(re.compile(r"^/room-\d+$"))``.
        """
        if not isinstance(name, str):
            if not (isinstance(name, re.Pattern) or callable(name)):
                raise ConfigError(
                    f"namespace: expected a name, a compiled pattern or a function, got {name!r}"
                )
            parent = ParentNamespace(self, name)
            self.parent_namespaces.append(parent)
            return parent
        if not name.startswith("/"):
            raise ConfigError(f"namespace names start with '/', got {name!r}")
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = Namespace(self, name)
            if self.tasks.running:  # created while running: start its adapter now
                self.tasks.spawn(self._start_adapter, ns)
        return ns

    def create_child(self, parent: ParentNamespace, name: str) -> Namespace:
        """Make the dynamic namespace ``name``, a child of ``parent`` (called by the session
        driver when a client joins a name the parent accepted)."""
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = parent.create_child(name)
            if self.tasks.running:
                self.tasks.spawn(self._start_adapter, ns)
        return ns

    def child_emptied(self, child: Namespace) -> None:
        """A dynamic child lost its last socket: forget it with
        ``cleanup_empty_child_namespaces``."""
        if not self.cleanup_empty_child_namespaces or child.parent is None:
            return
        if self.namespaces.get(child.name) is child:
            del self.namespaces[child.name]
        child.parent.drop_child(child)
        if self.tasks.running:
            self.tasks.spawn(child.adapter.close)

    @staticmethod
    async def _start_adapter(ns: Namespace) -> None:
        try:
            await ns.adapter.start()
        except Exception:
            log.exception("the adapter of namespace %s failed to start", ns.name)

    @property
    def sockets(self) -> Namespace:
        """The main namespace ``/`` (Node's ``io.sockets``)."""
        return self.namespaces["/"]

    @overload
    def on(self, event: str, handler: None = None) -> Callable[[H], H]: ...
    @overload
    def on(self, event: str, handler: H) -> H: ...
    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Register a handler on ``/``. See :meth:`Namespace.on`."""
        return self.sockets.on(event, handler)

    def on_any(self, handler: H) -> H:
        """Register a handler for every event on ``/``. See :meth:`Namespace.on_any`."""
        return self.sockets.on_any(handler)

    def on_unhandled(self, handler: H) -> H:
        """Register a handler for the events of ``/`` nobody handles. See
        :meth:`Namespace.on_unhandled`."""
        return self.sockets.on_unhandled(handler)

    def use(self, middleware: M) -> M:
        """Add a connect middleware on ``/``."""
        return self.sockets.use(middleware)

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Broadcast to the sockets of ``/`` in these rooms."""
        return self.sockets.to(*rooms)

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Broadcast to every socket of ``/`` except those in these rooms."""
        return self.sockets.except_(*rooms)

    @property
    def local(self) -> BroadcastOperator:
        """Broadcast to the sockets of ``/`` on this server only."""
        return self.sockets.local

    @property
    def volatile(self) -> BroadcastOperator:
        """Broadcast on ``/``, dropped for sockets that cannot take it now."""
        return self.sockets.volatile

    def compress(self, value: bool = True) -> BroadcastOperator:
        """Broadcast on ``/`` with Node's ``compress`` flag (see
        :meth:`BroadcastOperator.compress`)."""
        return self.sockets.compress(value)

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Broadcast with acks on ``/``, waiting at most ``seconds`` (Node's
        ``io.timeout(ms)``): ``await io.timeout(0.5).emit_with_ack("question")`` returns one
        ack per recipient, on every server."""
        return self.sockets.timeout(seconds)

    async def emit_with_ack(
        self, event: str, *args: Any, timeout: float | None = None
    ) -> list[Any]:
        """Send an event to every socket of ``/`` and return each client's ack (see
        :meth:`BroadcastOperator.emit_with_ack`)."""
        return await self.sockets.emit_with_ack(event, *args, timeout=timeout)

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every socket of ``/``."""
        await self.sockets.emit(event, *args)

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`emit` from sync code."""
        self.sockets.emit_nowait(event, *args)

    async def fetch_sockets(self) -> list[Any]:
        """Every socket of ``/``, on every server of the cluster."""
        return await self.sockets.fetch_sockets()

    async def sockets_join(self, *rooms: str) -> None:
        """Put every socket of ``/`` in rooms, on every server."""
        await self.sockets.sockets_join(*rooms)

    async def sockets_leave(self, *rooms: str) -> None:
        """Take every socket of ``/`` out of rooms, on every server."""
        await self.sockets.sockets_leave(*rooms)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every socket of ``/``, on every server."""
        await self.sockets.disconnect_sockets(close)

    def mount(self, path: str, handler: HttpHandler, *, max_body: int | None = None) -> None:
        """Serve another path on the same port (static files, an HTTP route...)."""
        self.router.mount(path, handler, max_body=max_body)

    # -- running ----------------------------------------------------------------------------

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run ``await fn(*args)`` in the server's task group (errors are logged).

        Raises:
            RuntimeError: the server is not running.
        """
        self.tasks.spawn(fn, *args)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the server's timers and handlers without listening, until :meth:`shutdown`.

        For serving connections that arrive some other way (the cluster's workers):
        ``await tg.start(io.run)``, then hand connections to ``io.http.protocol()``.
        """
        async with anyio.create_task_group() as tg:
            await tg.start(self.tasks.run)
            await tg.start(self.timers.run)
            await tg.start(self.engine.run_flusher)
            for ns in list(self.namespaces.values()):
                await ns.adapter.start()
            task_status.started()
            await self._stop.wait()
            tg.cancel_scope.cancel()

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 8360,
        *,
        task_status: TaskStatus[BoundAddress] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and serve until :meth:`shutdown` (or cancellation).

        Reports the bound address (useful with port 0) through ``await tg.start(io.serve, ...)``.

        Raises:
            PortInUse: the port is taken.
        """
        listeners, bound = listen(host, port)  # PortInUse raises here, unwrapped
        async with anyio.create_task_group() as tg:
            try:
                await tg.start(self.run)
            except BaseException:
                for sock in listeners:
                    sock.close()
                raise
            for sock in listeners:
                await tg.start(self._accept, sock)
            log.info("listening on %s", bound.url)
            task_status.started(bound)
            await self._stop.wait()
            tg.cancel_scope.cancel()

    async def _accept(self, sock: Any, *, task_status: TaskStatus[None]) -> None:
        await serve_listener(
            sock,
            self.http.protocol,
            spawn=self.tasks.spawn,
            connections=self.http,
            max_connections=self.limits.max_connections,
            task_status=task_status,
        )

    async def shutdown(self, timeout: float = 5.0) -> None:
        """End every session, then stop :meth:`serve`.

        Sessions end the way a lost transport does (no close packet), so every kind of
        client reconnects to the next server on this address; what was queued for them is
        still written. Disconnect handlers run with the reason ``"server shutting down"``.
        Waits at most ``timeout`` seconds (on the server's clock, which a test's
        :class:`~thinkio.testing.FakeClock` moves) for the writes and the handlers, then logs
        what it gave up on and cancels it. A polling client that does not come back for what
        was queued for it is the usual one.
        """
        self.engine.accepting = False
        self.engine.close_all()
        self.http.close_idle()
        with anyio.move_on_after(timeout) as waiting:
            deadline = self.timers.call_later(timeout, lambda _now: waiting.cancel())
            try:
                await self.engine.wait_all_closed()
                await self.tasks.wait_idle()
            finally:
                deadline.cancel()
        if waiting.cancelled_caught:
            log.warning("shutdown: gave up after %g s on %s", timeout, self._unfinished())
        for ns in self.namespaces.values():
            await ns.adapter.close()
        self._stop.set()

    def _unfinished(self) -> str:
        """What a shutdown is still waiting for, in words."""
        sessions, handlers = len(self.engine.sockets), self.tasks.busy
        parts = []
        if sessions:
            parts.append(
                f"{_count(sessions, 'session')} not closed (a polling client that did not come "
                "back for what was queued for it, or a WebSocket client not reading)"
            )
        if handlers:
            parts.append(f"{_count(handlers, 'handler or other task')} still running (cancelled)")
        return " and ".join(parts) or "WebSocket connections still open"

    # -- EngineApp: sessions in, namespaces out ---------------------------------------------

    def on_open(self, esock: EngineSocket) -> SessionDriver:
        """A session opened: its Socket.IO side is a :class:`SessionDriver`."""
        return SessionDriver(self, esock)


def _count(n: int, what: str) -> str:
    """``1 session``, ``2 sessions``."""
    return f"{n} {what}" if n == 1 else f"{n} {what}s"
