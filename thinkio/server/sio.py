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
        await io.shutdown()           # close packets go out, then serve() returns
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar, overload

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ..engineio import EngineOptions
from ..errors import ConfigError, ConnectRejected, RemoteProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from ..socketio import (
    AckReceived,
    Connection,
    ConnectRequest,
    EventReceived,
    NamespaceDisconnected,
    NamespaceState,
)
from .adapter import Adapter
from .cors import CorsOptions, CorsPolicy
from .engine import AllowRequest, EngineServer, EngineSocket
from .http import Handler as HttpHandler
from .http import Router
from .namespace import BroadcastOperator, Namespace, engine_packets
from .origins import OriginSpec
from .serve import BoundAddress, listen, serve_listener
from .socket import Handler, Socket, call_handler
from .timers import TimerService

__all__ = ("Client", "Server")

log = logging.getLogger("thinkio.socketio")

AdapterFactory = Callable[[Namespace], Adapter]
H = TypeVar("H", bound=Callable[..., Any])
M = TypeVar("M", bound=Callable[[Socket], Any])


class Client:
    """The Socket.IO side of one Engine.IO session: its namespaces' sockets."""

    __slots__ = ("conn", "esock", "server", "sockets")

    def __init__(self, server: Server, esock: EngineSocket, conn: Connection) -> None:
        self.server = server
        self.esock = esock
        self.conn = conn
        self.sockets: dict[str, Socket] = {}

    def flush(self) -> None:
        """Hand what the connection queued to the Engine.IO session."""
        payloads = self.conn.data_to_send()
        if payloads:
            self.esock.send(engine_packets(payloads))


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
        allow_origin: which browser origins may connect (see :mod:`.origins`); default all.
        cors: Node's ``cors`` options (see :mod:`.cors`): ``origin`` (the same setting as
            ``allow_origin``: give one), ``credentials`` (default False), ``methods``,
            ``allowed_headers``, ``exposed_headers``, ``max_age``.
        connect_timeout: seconds a client has to join a namespace.
        adapter: adapter factory, ``Namespace -> Adapter`` (in-memory by default).
        allow_request: async ``(request) -> True | False | message`` run on each handshake.
        limits: every size/count bound (``max_http_buffer_size`` overrides its payload size).

    Raises:
        ConfigError: ``path`` is not absolute, an origin entry can never match, or the
            ``cors`` options are wrong or ask for credentials with every origin allowed.
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
    ) -> None:
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
        self.engine_options = EngineOptions(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            upgrade_timeout=upgrade_timeout,
            transports=tuple(transports),
            allow_eio3=allow_eio3,
            limits=limits,
        )
        self.timers = TimerService()
        self.engine = EngineServer(
            self,
            options=self.engine_options,
            timers=self.timers,
            cors=CorsPolicy(cors, allow_origin=allow_origin),
            allow_request=allow_request,
        )
        self.router = Router()
        self.router.mount(self.path, self.engine.handle)
        self.namespaces: dict[str, Namespace] = {}
        self._tg: TaskGroup | None = None
        #: Sockets whose handler task is running (shutdown waits for them).
        self._busy_sockets = 0
        self._stop = anyio.Event()
        self.of("/")

    # -- namespaces ----------------------------------------------------------------------------

    def of(self, name: str) -> Namespace:
        """The namespace called ``name`` (created on first use)."""
        if not name.startswith("/"):
            raise ConfigError(f"namespace names start with '/', got {name!r}")
        ns = self.namespaces.get(name)
        if ns is None:
            ns = self.namespaces[name] = Namespace(self, name)
            if self._tg is not None:  # created while running: start its adapter now
                self.spawn(self._start_adapter(ns))
        return ns

    def _start_adapter(self, ns: Namespace) -> Callable[[], Coroutine[Any, Any, None]]:
        async def start() -> None:
            try:
                await ns.adapter.start()
            except Exception:
                log.exception("the adapter of namespace %s failed to start", ns.name)

        return start

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

    def use(self, middleware: M) -> M:
        """Add a connect middleware on ``/``."""
        return self.sockets.use(middleware)

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        return self.sockets.to(*rooms)

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        return self.sockets.except_(*rooms)

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every socket of ``/``."""
        await self.sockets.emit(event, *args)

    def mount(self, path: str, handler: HttpHandler) -> None:
        """Serve another path on the same port (static files, a raw Engine.IO app...)."""
        self.router.mount(path, handler)

    # -- running -------------------------------------------------------------------------------

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a coroutine function in the server's task group."""
        if self._tg is None:
            raise RuntimeError("the server is not running: start it with serve()")
        self._tg.start_soon(fn)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Run the server's timers and handlers without listening, until :meth:`shutdown`.

        For mounting this server's :attr:`engine` on another server's router (or another
        HTTP front end): ``await tg.start(io.run)``.
        """
        async with anyio.create_task_group() as tg:
            self._tg = tg
            await tg.start(self.timers.run)
            for ns in list(self.namespaces.values()):
                await ns.adapter.start()
            task_status.started()
            await self._stop.wait()
            tg.cancel_scope.cancel()
        self._tg = None

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
        listener, bound = await listen(host, port)  # PortInUse raises here, unwrapped
        async with anyio.create_task_group() as tg:
            await tg.start(self.run)
            tg.start_soon(serve_listener, listener, self.router, self.limits)
            log.info("listening on %s", bound.url)
            task_status.started(bound)
            await self._stop.wait()
            tg.cancel_scope.cancel()

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Close every session (clients get close packets), then stop :meth:`serve`.

        Disconnect handlers run with the reason ``"server shutting down"``. Waits at most
        ``timeout`` seconds for the close packets and the handlers, then cancels what is left.
        """
        self.engine.accepting = False
        await self.engine.close_all()
        with anyio.move_on_after(timeout):
            # Close packets written, and every handler already queued (the disconnect
            # handlers above all, reason "server shutting down") has run.
            while self.engine.sockets or self.engine.open_websockets or self._busy_sockets:
                await anyio.sleep(0.02)
        for ns in self.namespaces.values():
            await ns.adapter.close()
        self._stop.set()

    # -- EngineApp: sessions in, namespaces out ------------------------------------------------

    def on_open(self, esock: EngineSocket) -> None:
        conn = Connection(
            limits=self.limits,
            protocol=5 if esock.protocol >= 4 else 4,
            now=anyio.current_time(),
            connect_timeout=self.connect_timeout,
        )
        client = Client(self, esock, conn)
        esock.state = client
        self._drain(client)

    def on_message(self, esock: EngineSocket, data: str | bytes) -> None:
        client = esock.state
        assert isinstance(client, Client)
        client.conn.receive_message(data, anyio.current_time())  # raises: engine closes
        self._drain(client)

    def on_close(self, esock: EngineSocket, reason: str) -> None:
        client = esock.state
        assert isinstance(client, Client)
        # Idempotent, and needed even after the connection refused a packet (it is then
        # "closed" but its namespaces are still joined): every socket must leave and hear why.
        client.conn.close(reason)
        self._drain(client)

    def _drain(self, client: Client) -> None:
        conn = client.conn
        while (event := conn.next_event()) is not None:
            if isinstance(event, EventReceived):
                socket = client.sockets.get(event.namespace)
                if socket is not None:
                    socket._dispatch_event(event.args, event.ack_id)
            elif isinstance(event, AckReceived):
                socket = client.sockets.get(event.namespace)
                if socket is not None:
                    socket._resolve_ack(event.ack_id, event.args)
            elif isinstance(event, ConnectRequest):
                self._connect(client, event.namespace, event.auth)
            elif isinstance(event, NamespaceDisconnected):
                socket = client.sockets.pop(event.namespace, None)
                if socket is not None:
                    socket._closed(event.reason)
        client.flush()
        self._arm_connect_timer(client)

    def _arm_connect_timer(self, client: Client) -> None:
        deadline = client.conn.next_deadline()
        if deadline is None or math.isinf(deadline):
            return

        def fire(now: float) -> None:
            if client.conn.closed:
                return
            try:
                client.conn.handle_timeout(now)
            except RemoteProtocolError as exc:
                client.esock.close(exc.close_reason)
                return
            self._arm_connect_timer(client)

        self.timers.schedule(deadline, fire)

    def _connect(self, client: Client, name: str, auth: dict[str, Any]) -> None:
        ns = self.namespaces.get(name)
        if ns is None:
            client.conn.reject_invalid_namespace(name)
            return
        socket = Socket(ns, client, self._socket_id(client, name), auth)
        if not ns.middlewares:
            self._accept(client, socket)
            return

        async def run_middlewares() -> None:
            try:
                for middleware in ns.middlewares:
                    await call_handler(middleware, socket)
            except ConnectRejected as exc:
                if client.conn.state_of(name) is NamespaceState.CONNECTING:
                    client.conn.reject(name, exc.message, exc.data)
                    client.flush()
                return
            except Exception:
                log.exception("connect middleware failed for %s", name)
                if client.conn.state_of(name) is NamespaceState.CONNECTING:
                    client.conn.reject(name, "Internal server error")
                    client.flush()
                return
            if client.conn.state_of(name) is NamespaceState.CONNECTING:
                self._accept(client, socket)
                client.flush()

        self.spawn(run_middlewares)

    @staticmethod
    def _socket_id(client: Client, namespace: str) -> str:
        """A fresh id; for socket.io 2.x clients the legacy one they compute themselves
        (the Engine.IO sid on ``/``, ``/nsp#sid`` elsewhere; PROTOCOL.md 4)."""
        if client.conn.protocol >= 5:
            return secrets.token_urlsafe(15)
        sid = client.esock.sid
        return sid if namespace == "/" else f"{namespace}#{sid}"

    def _accept(self, client: Client, socket: Socket) -> None:
        ns = socket.namespace
        client.conn.accept(ns.name, socket.id)
        client.flush()  # the CONNECT reply goes out before anything the handlers send
        client.sockets[ns.name] = socket
        socket.connected = True
        ns._add(socket)

        async def run_connect_handlers() -> None:
            for handler in ns.handlers.get("connect", []):
                await call_handler(handler, socket)

        socket._enqueue(run_connect_handlers)
