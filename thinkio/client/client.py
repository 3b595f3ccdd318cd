"""``thinkio.Client``: a Socket.IO v5 client on anyio (asyncio and trio).

Layers, top to bottom::

    Client              handlers, emit / call, reconnection          (this module)
    ClientConnection    namespaces, packets, ack ids                  thinkio.socketio.client (sans-IO)
    EngineClient        polling / WebSocket / upgrade, heartbeat      thinkio.client.engine
    ClientSession       Engine.IO rules                               thinkio.engineio.client (sans-IO)

Tasks (one task group, owned by :meth:`Client.connect` and closed by
:meth:`Client.disconnect`):

* the engine's tasks (reader, timer, upgrade), one :class:`EngineClient` per connection;
* the *handler queue* (:class:`~.dispatch.HandlerQueue`): runs handlers one at a time, in the
  order the server's packets arrived. Acks from the server are resolved by the reader, not
  by the handler queue, so a handler may
  ``await client.call(...)`` without blocking its own answer;
* the *supervisor*: when the connection is lost unexpectedly it reconnects, with backoff, and
  joins every namespace again, or gives up with :class:`~thinkio.errors.ConnectionFailed`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from contextlib import suppress
from typing import Any, TypeVar, overload

import anyio
from anyio.abc import TaskGroup

from .._backoff import Backoff
from ..errors import (
    AckTimeout,
    ConnectionFailed,
    ConnectRefused,
    Disconnected,
    LocalProtocolError,
    RemoteProtocolError,
)
from ..limits import DEFAULT_LIMITS, Limits
from ..socketio import NamespaceState, Parser, parser_named
from ..socketio.client import (
    IO_CLIENT_DISCONNECT,
    IO_SERVER_DISCONNECT,
    AckFailed,
    ClientConnection,
    NamespaceClosed,
    NamespaceConnected,
    NamespaceRefused,
    ServerAck,
    ServerEvent,
)
from .acks import AckReply, AckWaiters
from .dispatch import HandlerCall, HandlerQueue
from .endpoint import Endpoint
from .engine import EngineClient
from .http import RequestFailed
from .options import ClientOptions
from .retry import retry

__all__ = ("Client",)

log = logging.getLogger("thinkio.client")

H = TypeVar("H", bound=Callable[..., Any])

_ATTEMPT_ERRORS = (OSError, RequestFailed, RemoteProtocolError, TimeoutError, Disconnected)


class Client:
    """A Socket.IO client for any Socket.IO v4 server (Engine.IO 4, Socket.IO protocol 5).

    Args:
        url: the server, ``http(s)://host:port`` (or ``ws(s)://``); a query is sent along.
        path: the Engine.IO path on the server.
        namespaces: the namespaces to join on connect (and to join again on reconnect).
        auth: the CONNECT payload sent for each namespace (PROTOCOL.md 2.4).
        transports: ``("polling", "websocket")``: open with polling and upgrade;
            ``("websocket",)`` or ``("polling",)`` to use only one.
        reconnection: reconnect after an unexpected disconnect (and retry the first connect).
        reconnection_attempts: how many reconnection attempts before giving up; None: never
            give up.
        reconnection_delay: seconds before the first attempt; doubled at each attempt.
        reconnection_delay_max: the longest wait between attempts.
        randomization_factor: jitter on each wait, 0 to 1.
        headers: extra HTTP headers for every request and WebSocket handshake.
        connect_timeout: seconds one connection attempt (handshake and namespace CONNECTs)
            may take.
        request_timeout: seconds a POST or WebSocket connect may take.
        limits: bounds on what the server may make the client hold.
        parser: the Socket.IO parser, ``"default"`` or ``"msgpack"``: the server's (see
            docs/parsers.md).

    Raises:
        ConfigError: an argument is out of range, or ``parser`` is not a known parser.
    """

    def __init__(
        self,
        url: str,
        *,
        path: str = "/socket.io",
        namespaces: Iterable[str] = ("/",),
        auth: Mapping[str, Any] | None = None,
        transports: Iterable[str] = ("polling", "websocket"),
        reconnection: bool = True,
        reconnection_attempts: int | None = 10,
        reconnection_delay: float = 1.0,
        reconnection_delay_max: float = 5.0,
        randomization_factor: float = 0.5,
        headers: Mapping[str, str] | None = None,
        connect_timeout: float = 20.0,
        request_timeout: float = 20.0,
        limits: Limits = DEFAULT_LIMITS,
        parser: str | Parser = "default",
    ) -> None:
        self._endpoint = Endpoint.parse(url, path)
        self._opts = ClientOptions(
            namespaces=tuple(dict.fromkeys(namespaces)),
            auth=dict(auth) if auth is not None else None,
            transports=tuple(transports),
            reconnection=reconnection,
            reconnection_attempts=reconnection_attempts,
            backoff=Backoff(reconnection_delay, reconnection_delay_max, randomization_factor),
            headers=tuple((headers or {}).items()),
            connect_timeout=connect_timeout,
            request_timeout=request_timeout,
            limits=limits,
            parser=parser_named(parser),
        )
        self._handlers: dict[tuple[str, object], Callable[..., Any]] = {}
        self._tg: TaskGroup | None = None
        self._host_task: int | None = None
        self._engine: EngineClient | None = None
        self._sio: ClientConnection | None = None
        self._wanted: list[str] = []
        self._waiters = AckWaiters()
        self._ns_changed = anyio.Event()
        self._refused: dict[str, ConnectRefused] = {}
        self._dispatcher: HandlerQueue | None = None
        self._closing = False
        self._failure: Exception | None = None
        self._done = anyio.Event()

    # -- inspection -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Every namespace asked for is joined over an open connection."""
        sio, engine = self._sio, self._engine
        if sio is None or engine is None or engine.closed or not self._wanted:
            return False
        return all(sio.state_of(n) is NamespaceState.CONNECTED for n in self._wanted)

    @property
    def sid(self) -> str | None:
        """The socket id of the first namespace (``/`` by default), or None."""
        return self.get_sid(self._opts.namespaces[0])

    def get_sid(self, namespace: str = "/") -> str | None:
        """The socket id the server gave ``namespace``, or None if it is not joined."""
        return None if self._sio is None else self._sio.sid_of(namespace)

    @property
    def transport(self) -> str | None:
        """``"polling"`` or ``"websocket"`` while connected, else None."""
        return None if self._engine is None else self._engine.transport

    # -- handlers ---------------------------------------------------------------------------

    @overload
    def on(
        self, event: object, handler: None = None, *, namespace: str = "/"
    ) -> Callable[[H], H]: ...
    @overload
    def on(self, event: object, handler: H, *, namespace: str = "/") -> H: ...
    def on(self, event: object, handler: Any = None, *, namespace: str = "/") -> Any:
        """Register ``handler`` for ``event`` on ``namespace`` (usable as a decorator).

        Handlers may be plain functions or coroutine functions. They run one at a time, in
        the order the server sent the events. For a server event that asks for an ack, Node's
        rules: a handler with a parameter named ``ack`` gets the ack callable and owns it
        (the server gets an answer when, and only when, it calls ``ack(*values)``; only the
        first call counts); otherwise the handler's return value is the answer: None sends no
        values, a tuple several, :data:`thinkio.server.NO_ACK` no answer at all, any other
        value one. Special events: ``"connect"`` (no arguments), ``"disconnect"``
        (the reason), ``"connect_error"`` (the exception).
        """

        def register(func: H) -> H:
            self._handlers[(namespace, event)] = func
            return func

        return register if handler is None else register(handler)

    # -- life cycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    async def connect(self) -> None:
        """Connect and join every namespace; retry with backoff if ``reconnection`` is set.

        This opens the client's task group in the calling task: call :meth:`disconnect` from
        the same task, in the same scope (``async with Client(...)`` does that for you).

        Raises:
            ConnectionFailed: no attempt succeeded (the last one's error is its cause).
            ConnectRefused: the server refused a namespace (CONNECT_ERROR); not retried.
            LocalProtocolError: the client is already connected.
        """
        if self._tg is not None:
            raise LocalProtocolError("connect() was already called; disconnect() first")
        self._closing, self._failure, self._done = False, None, anyio.Event()
        self._wanted = list(self._opts.namespaces)
        dispatcher = self._dispatcher = HandlerQueue(
            self._handlers, timeout=self._opts.request_timeout
        )
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg, self._host_task = tg, anyio.get_current_task().id
        try:
            tg.start_soon(dispatcher.run)
            await self._connect_loop(initial=True)
        except BaseException:
            self._closing = True
            await self._stop_tasks(tg)
            raise
        tg.start_soon(self._supervise)

    async def disconnect(self) -> None:
        """Leave every namespace, close the connection and stop the client's tasks.

        ``disconnect`` handlers run first (reason ``"io client disconnect"``). Safe to call
        twice. Called from a handler, it closes the connection and the task that called
        :meth:`connect` finishes the job in its own ``disconnect``.
        """
        self._closing = True
        engine, sio = self._engine, self._sio
        if engine is not None and sio is not None and not engine.closed and not sio.closed:
            for namespace in list(self._wanted):
                sio.disconnect(namespace)
            with suppress(Disconnected):
                await engine.send(sio.data_to_send())
            await self._handle_events(sio, engine)
            await engine.close()
        self._done.set()
        tg = self._tg
        if tg is None or anyio.get_current_task().id != self._host_task:
            return
        await self._stop_tasks(tg)

    async def _stop_tasks(self, tg: TaskGroup) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.stop()  # it runs what is queued first
        if self._engine is not None:
            self._engine.abort("forced close")
        tg.cancel_scope.cancel()
        self._tg = None
        self._waiters.fail_all(IO_CLIENT_DISCONNECT)
        await tg.__aexit__(None, None, None)

    async def wait(self) -> None:
        """Wait until the client is disconnected for good.

        Raises:
            ConnectionFailed: it gave up reconnecting.
            ConnectRefused: a namespace was refused while reconnecting.
        """
        await self._done.wait()
        if isinstance(self._failure, ConnectionFailed | ConnectRefused):
            raise self._failure

    # -- emitting ---------------------------------------------------------------------------

    async def emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        """Send an event (PROTOCOL.md 2.5); ``bytes`` anywhere in ``args`` go as binary.

        Raises:
            Disconnected: the namespace is not joined (or the connection is down).
            ConnectionFailed: the client gave up reconnecting.
            LocalProtocolError: a reserved event name, or arguments JSON cannot hold.
        """
        sio, engine = self._require(namespace)
        sio.emit(namespace, [event, *args])
        await engine.send(sio.data_to_send())

    async def call(
        self, event: str, *args: Any, namespace: str = "/", timeout: float = 5.0
    ) -> list[Any]:
        """Send an event and wait for the server's ack.

        Returns:
            The values the server's ack callback was called with.

        Raises:
            AckTimeout: no answer within ``timeout`` seconds.
            Disconnected: the namespace is not joined, or it went away before the answer.
            ConnectionFailed: the client gave up reconnecting.
            LocalProtocolError: a reserved event name, or arguments JSON cannot hold.
        """
        sio, engine = self._require(namespace)
        ack_id = sio.emit(namespace, [event, *args], ack=True)
        assert ack_id is not None
        waiter = self._waiters.expect(namespace, ack_id)
        try:
            await engine.send(sio.data_to_send())
            result = await waiter.wait(timeout)
        finally:
            self._waiters.forget(namespace, ack_id)
        if result is None:
            sio.cancel_ack(namespace, ack_id)  # a late answer is then ignored
            raise AckTimeout(f"no ack for {event!r} on {namespace!r} within {timeout} s")
        return result

    def _spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``await fn()`` in the client's task group (dropped once it is stopped)."""
        if self._tg is not None:
            self._tg.start_soon(fn)
        else:
            log.debug("%r dropped: the client is stopped", fn)

    def _require(self, namespace: str) -> tuple[ClientConnection, EngineClient]:
        if isinstance(self._failure, ConnectionFailed):
            raise self._failure
        sio, engine = self._sio, self._engine
        if sio is None or engine is None or engine.closed:
            reason = engine.close_reason if engine is not None else None
            raise Disconnected(reason or "not connected")
        if sio.state_of(namespace) is not NamespaceState.CONNECTED:
            raise Disconnected("not connected", f"namespace {namespace!r} is not connected")
        return sio, engine

    # -- connecting -------------------------------------------------------------------------

    async def _connect_loop(self, *, initial: bool) -> None:
        """Attempt to connect until one attempt succeeds or the attempts run out."""

        async def failed(exc: BaseException) -> None:
            log.debug("connection attempt to %s failed: %r", self._endpoint.url, exc)
            for namespace in self._wanted:
                await self._queue(HandlerCall(namespace, "connect_error", [exc]))

        await retry(
            self._attempt,
            backoff=self._opts.backoff,
            retries=self._opts.reconnection_attempts if self._opts.reconnection else 0,
            first_now=initial,
            url=self._endpoint.url,
            retry_on=_ATTEMPT_ERRORS,
            on_error=failed,
        )

    async def _attempt(self) -> None:
        """One connection: Engine.IO handshake, then CONNECT for every namespace."""
        assert self._tg is not None
        sio = ClientConnection(limits=self._opts.limits, parser=self._opts.parser)

        async def on_message(data: str | bytes) -> None:
            await self._on_message(sio, engine, data)

        engine = EngineClient(
            self._endpoint,
            on_message,
            transports=self._opts.transports,
            headers=self._opts.headers,
            request_timeout=self._opts.request_timeout,
            limits=self._opts.limits,
        )
        self._sio, self._engine, self._refused = sio, engine, {}
        try:
            with anyio.fail_after(self._opts.connect_timeout):
                await self._tg.start(engine.run)
                for namespace in self._wanted:
                    sio.connect(namespace, self._opts.auth)
                await engine.send(sio.data_to_send())
                while not all(sio.state_of(n) is NamespaceState.CONNECTED for n in self._wanted):
                    for namespace in self._wanted:
                        if namespace in self._refused:
                            raise self._refused[namespace]
                    if engine.closed:
                        raise Disconnected(engine.close_reason or "transport close")
                    await _first_of(self._ns_changed.wait, engine.wait_closed)
        except BaseException:
            engine.abort("forced close")
            sio.close("forced close")
            raise

    async def _supervise(self) -> None:
        """Reconnect after an unexpected disconnect (socket.io-client's Manager.reconnect)."""
        while True:
            engine, sio = self._engine, self._sio
            assert engine is not None and sio is not None
            await engine.wait_closed()
            if self._closing:
                return
            reason = engine.close_reason or "transport close"
            sio.close(reason)
            await self._handle_events(sio, engine)
            self._waiters.fail_all(reason)
            if not self._opts.reconnection or not self._wanted:
                await self._finish(Disconnected(reason))
                return
            try:
                await self._connect_loop(initial=False)
            except (ConnectionFailed, ConnectRefused) as exc:
                log.warning("giving up: %s", exc)
                await self._finish(exc)
                return

    async def _finish(self, failure: Exception) -> None:
        """The client is done for good: let the handlers see it, then wake :meth:`wait`."""
        self._failure = failure
        if self._dispatcher is not None:
            await self._dispatcher.wait_idle()
        self._done.set()

    # -- receiving --------------------------------------------------------------------------

    async def _on_message(
        self, sio: ClientConnection, engine: EngineClient, data: str | bytes
    ) -> None:
        if sio.closed:
            return
        try:
            sio.receive_message(data)
        except RemoteProtocolError as exc:
            # PROTOCOL.md 2.2: any decode error closes the whole connection.
            log.warning("invalid packet from the server: %s", exc)
            engine.abort("parse error")
            return
        await self._handle_events(sio, engine)

    async def _handle_events(self, sio: ClientConnection, engine: EngineClient) -> None:
        while (event := sio.next_event()) is not None:
            if isinstance(event, ServerAck | AckFailed):
                self._waiters.resolve(event)
            elif isinstance(event, ServerEvent):
                answer = None
                if event.ack_id is not None:
                    answer = AckReply(sio, engine, event.namespace, event.ack_id, self._spawn)
                await self._queue(HandlerCall(event.namespace, event.name, event.params, answer))
            # Queue the handler before waking connect(): once it wakes, it may stop the
            # dispatcher (a refusal), and the handler call must be in the queue by then.
            elif isinstance(event, NamespaceConnected):
                await self._queue(HandlerCall(event.namespace, "connect", []))
                self._notify_namespaces()
            elif isinstance(event, NamespaceRefused):
                error = ConnectRefused(event.namespace, event.message, event.data)
                await self._queue(HandlerCall(event.namespace, "connect_error", [error]))
                self._refused[event.namespace] = error
                self._notify_namespaces()
            elif isinstance(event, NamespaceClosed):
                await self._queue(HandlerCall(event.namespace, "disconnect", [event.reason]))
                if event.reason == IO_SERVER_DISCONNECT and event.namespace in self._wanted:
                    # Like socket.io-client: a namespace the server closed is not rejoined,
                    # and with none left the connection is closed. (Last: aborting the
                    # engine cancels the reader task this may run in.)
                    self._wanted.remove(event.namespace)
                    if not self._wanted:
                        engine.abort(IO_SERVER_DISCONNECT)

    def _notify_namespaces(self) -> None:
        self._ns_changed.set()
        self._ns_changed = anyio.Event()

    # -- dispatching ------------------------------------------------------------------------

    async def _queue(self, call: HandlerCall) -> None:
        if self._dispatcher is not None:
            await self._dispatcher.queue(call)


async def _first_of(*waits: Callable[[], Any]) -> None:
    """Return as soon as one of the given waits returns."""
    async with anyio.create_task_group() as tg:

        async def run(wait: Callable[[], Any]) -> None:
            await wait()
            tg.cancel_scope.cancel()

        for wait in waits:
            tg.start_soon(run, wait)
