"""The Engine.IO server: sessions over long-polling and WebSocket, driven by the sans-IO core.

:meth:`EngineServer.handle` is the handler of the Engine.IO mount (:class:`thinkio.http.Router`).
It runs in the HTTP read callback: origin and CORS, then :func:`thinkio.engineio.route_request`
decides, then a polling GET or POST is answered, or the connection becomes a WebSocket.
Only ``allow_request`` (an async hook) makes a handshake wait in a task.

Writes are batched. A read callback and a timer run between :meth:`EngineServer.begin` and
:meth:`EngineServer.end`; sessions that got packets meanwhile are flushed when the outermost
batch ends, each in one write: a handler that answers and broadcasts while a read is handled
costs one write per socket, and no task or wake-up hands the bytes over. Packets queued from
a task (an ``async def`` handler, a broadcast from a background job) are flushed by the
flusher task at its next turn, so a burst of emits from one task goes out as one write per
socket; emits give it a turn every :data:`FLUSH_BUDGET` seconds of work.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
from anyio.abc import TaskStatus

from .._ids import new_id
from ..engineio import (
    EngineOptions,
    EngineRequest,
    ExistingSession,
    NewSession,
    Reason,
    Session,
    route_request,
)
from ..errors import RemoteProtocolError, RequestRejected
from ..http import CorsPolicy, HttpExchange, HttpRequest
from ..limits import Limits
from ..net import TimerService
from ..websocket import ClosingHandshake, accept_token
from ..websocket.deflate import DeflateOptions
from .cookie import SessionCookie
from .handshake import Handshake
from .polling import serve_get, serve_post
from .socket import EngineApp, EngineSocket, WebSocketTransport
from .websocket import EngineWebSocket

__all__ = ("AllowRequest", "EngineServer", "WebSocketOpener")

log = logging.getLogger("thinkio.engineio")

AllowRequest = Callable[[HttpRequest], Awaitable[bool | str]]

#: Makes the transport of a WebSocket accepted for a session, ``(esock, probe) -> transport``,
#: not started yet. :meth:`EngineServer.handle` makes :class:`EngineWebSocket`\ s on the
#: connection it took over; a server whose WebSockets are messages (ASGI) passes its own.
WebSocketOpener = Callable[[EngineSocket, bool], WebSocketTransport]

_JSON = (b"content-type", b"application/json")

#: Seconds a task may keep queueing packets before its emits let the flusher write them.
FLUSH_BUDGET = 0.02


class EngineServer:
    """Serves Engine.IO sessions for one mount path.

    Args:
        app: receives sessions and their messages.
        options: Engine.IO options.
        timers: the timer service (one per server); its clock is the sessions' clock.
        cors: which browser origins may connect, and the CORS headers of the answers.
        allow_request: optional async hook run on each valid handshake; return True to accept,
            or False / a message to refuse with 403 (Engine.IO code 4).
        sid_prefix: put in front of every new session id, so a front end can tell from the
            sid alone which process owns the session (``thinkio.cluster`` routes on it).
        cookie: the cookie set on each handshake response (Node's ``cookie`` option), or None.
    """

    def __init__(
        self,
        app: EngineApp,
        *,
        options: EngineOptions,
        timers: TimerService,
        cors: CorsPolicy | None = None,
        allow_request: AllowRequest | None = None,
        sid_prefix: str = "",
        deflate: DeflateOptions | None = None,
        cookie: SessionCookie | None = None,
    ) -> None:
        self.app = app
        #: permessage-deflate for WebSockets (None: off, Node's default).
        self.deflate = deflate
        self.options = options
        self.limits: Limits = options.limits
        self.timers = timers
        self.clock = timers.clock
        self.cors = cors or CorsPolicy()
        self.allow_request = allow_request
        self.sid_prefix = sid_prefix
        self.cookie = cookie
        self.sockets: dict[str, EngineSocket] = {}
        #: False once the server shuts down: new handshakes get 503.
        self.accepting = True
        #: WebSocket connections still open (shutdown waits for them to flush).
        self.open_websockets = 0
        #: WebSockets waiting for the client's close frame (a shutdown stops waiting).
        self.closing_handshakes: set[ClosingHandshake] = set()
        #: Sessions opened since the start (read by :mod:`thinkio.server.metrics`).
        self.sessions_opened = 0
        #: Sessions closed because they did not read what was sent to them fast enough.
        self.slow_consumers_dropped = 0
        self._probes: dict[EngineSocket, WebSocketTransport] = {}
        self._depth = 0
        self._pending: list[EngineSocket] = []
        self._all_closed: anyio.Event | None = None
        #: Set to wake the flusher task (None while it does not run: flush at once).
        self._flusher: anyio.Event | None = None
        self._deferred_since: float | None = None

    # -- batches ----------------------------------------------------------------------------

    def begin(self) -> None:
        """Start a batch: sessions that get packets are flushed when it ends."""
        self._depth += 1

    def end(self) -> None:
        """End a batch; the outermost one flushes every session that got packets."""
        self._depth -= 1
        if self._depth == 0 and self._pending:
            self.flush_pending()

    def want_flush(self, esock: EngineSocket) -> None:
        """``esock`` has something to write: when the current batch ends, or (outside any
        batch: from a task) at the flusher's next turn."""
        if esock.dirty:
            return
        if self._depth:
            esock.dirty = True
            self._pending.append(esock)
            return
        flusher = self._flusher
        if flusher is None:
            esock.flush()
            return
        esock.dirty = True
        self._pending.append(esock)
        if self._deferred_since is None:
            self._deferred_since = self.clock.now()
            flusher.set()

    def flush_due(self) -> bool:
        """Whether packets queued from a task have waited :data:`FLUSH_BUDGET` or more: an
        emitting task then gives the flusher a turn (see :meth:`cooperate`)."""
        since = self._deferred_since
        return since is not None and self.clock.now() - since >= FLUSH_BUDGET

    async def cooperate(self) -> None:
        """Let the flusher write what a busy task queued, if it has waited long enough."""
        if self.flush_due():
            await anyio.lowlevel.checkpoint()

    async def run_flusher(
        self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Write what tasks queue, one write per socket per turn, until cancelled."""
        try:
            while True:
                self._flusher = wake = anyio.Event()
                if not self._pending:
                    task_status.started()
                    task_status = anyio.TASK_STATUS_IGNORED
                    await wake.wait()
                self._deferred_since = None
                self.flush_pending()
        finally:
            self._flusher = None
            self._deferred_since = None
            self.flush_pending()

    def flush_pending(self) -> None:
        """Flush every session waiting for it (in the order they got packets)."""
        self._depth += 1  # what a flush queues (a pump's close) joins this round
        try:
            pending = self._pending
            i = 0
            while i < len(pending):
                esock = pending[i]
                esock.dirty = False
                esock.flush()
                i += 1
            pending.clear()
        finally:
            self._depth -= 1

    # -- sessions ---------------------------------------------------------------------------

    def open(self, route: NewSession, request: HttpRequest) -> EngineSocket:
        """Create a session for a valid handshake and tell the app."""
        sid = self.sid_prefix + new_id()
        while sid in self.sockets:
            sid = self.sid_prefix + new_id()
        session = Session(
            sid,
            route.transport,
            options=self.options,
            now=self.clock.now(),
            protocol=route.protocol,
            b64=route.b64,
        )
        esock = EngineSocket(self, session, Handshake.from_request(request))
        self.sockets[sid] = esock
        self.sessions_opened += 1
        esock.handler = self.app.on_open(esock)
        esock.handler.opened()
        esock.pump()
        return esock

    def forget(self, esock: EngineSocket) -> None:
        """The session ended: its sid is unknown from now on."""
        if self.sockets.get(esock.sid) is esock:
            del self.sockets[esock.sid]
            if esock.session.overflowed:
                self.slow_consumers_dropped += 1
        probe = self._probes.pop(esock, None)
        if probe is not None:
            probe.finish()
        self._maybe_all_closed()

    def probe_of(self, esock: EngineSocket) -> WebSocketTransport | None:
        """The WebSocket probing an upgrade of ``esock`` now, if any."""
        return self._probes.get(esock)

    def upgraded(self, esock: EngineSocket) -> None:
        """The session's probe WebSocket is its transport now (``Upgraded``)."""
        probe = self._probes.pop(esock, None)
        if probe is not None:
            probe.upgraded()

    def upgrade_aborted(self, esock: EngineSocket, reason: str) -> None:
        """The upgrade was dropped (``UpgradeAborted``): close the probe."""
        log.info("session %s: upgrade aborted: %s", esock.sid, reason)
        probe = self._probes.pop(esock, None)
        if probe is not None:
            probe.finish()

    def close_all(self, reason: str = Reason.SHUTDOWN) -> None:
        """Close every session for a shutdown: queued packets go out, then the transport
        ends as if lost (no close packet), so every kind of client reconnects to the next
        server on this address."""
        self.begin()
        try:
            for esock in list(self.sockets.values()):
                esock.close(reason, close_packet=False)
        finally:
            self.end()
        # A server going away does not wait for close frames: each WebSocket closes once its
        # close frame is written (the clients see their transport end, and reconnect).
        for handshake in list(self.closing_handshakes):
            handshake.finish()

    def websocket_closed(self) -> None:
        """A WebSocket connection ended."""
        self.open_websockets -= 1
        self._maybe_all_closed()

    def _maybe_all_closed(self) -> None:
        if self._all_closed is not None and not self.sockets and not self.open_websockets:
            self._all_closed.set()

    async def wait_all_closed(self) -> None:
        """Return once no session and no WebSocket connection is left."""
        while self.sockets or self.open_websockets:
            self._all_closed = anyio.Event()
            await self._all_closed.wait()
        self._all_closed = None

    # -- HTTP entry point -------------------------------------------------------------------

    def handle(
        self, request: HttpRequest, exchange: HttpExchange, opener: WebSocketOpener | None = None
    ) -> Awaitable[None] | None:
        """Serve one request for this mount (polling, preflight, or a WebSocket upgrade).

        ``opener``: for a WebSocket the server in front already accepted at its level (an
        ASGI ``websocket`` scope), what makes its transport; without it an upgrade request's
        connection is taken over and spoken to as a WebSocket here.
        """
        origin = request.headers.get("origin")
        allowed = origin is None or self.cors.allows(origin)  # no Origin: not a browser's
        upgrade = request.websocket_upgrade
        if request.method == "OPTIONS" and not upgrade:
            # A preflight is answered 204 before any check (Node's cors); a refused origin's
            # answer carries no CORS header, so the browser does not send the request.
            request_headers = request.headers.get("access-control-request-headers")
            headers = self.cors.preflight_headers(origin, request_headers) if allowed else []
            exchange.respond(204, headers)
            return None
        cors = self.cors.headers(origin) if allowed else []
        sid = request.query.get("sid")
        esock = self.sockets.get(sid) if sid is not None else None
        try:
            route = route_request(
                EngineRequest(  # positional: a named tuple is built faster so
                    request.method,
                    request.query,
                    upgrade,  # websocket_upgrade
                    origin is None or _origin_chars_ok(origin),  # origin_valid
                    allowed,  # origin_allowed
                ),
                self.options,
                esock.session if esock is not None else None,
            )
        except RequestRejected as exc:
            self._reject(request, exchange, exc)
            return None
        if isinstance(route, NewSession) and self.allow_request is not None:
            return self._handle_allowed(request, exchange, route, esock, cors, opener)
        self._serve(request, exchange, route, esock, cors, opener, upgrade)
        return None

    async def _handle_allowed(
        self,
        request: HttpRequest,
        exchange: HttpExchange,
        route: NewSession,
        esock: EngineSocket | None,
        cors: list[tuple[bytes, bytes]],
        opener: WebSocketOpener | None,
    ) -> None:
        assert self.allow_request is not None
        verdict = await self.allow_request(request)
        if verdict is not True:
            self._reject(
                request, exchange, RequestRejected(4, verdict if isinstance(verdict, str) else None)
            )
            return
        if exchange.aborted:
            return
        self.begin()
        try:
            self._serve(request, exchange, route, esock, cors, opener, request.websocket_upgrade)
        finally:
            self.end()

    def _serve(
        self,
        request: HttpRequest,
        exchange: HttpExchange,
        route: NewSession | ExistingSession,
        esock: EngineSocket | None,
        cors: list[tuple[bytes, bytes]],
        opener: WebSocketOpener | None,
        upgrade: bool,
    ) -> None:
        if isinstance(route, NewSession) and not self.accepting:
            exchange.respond(503, [_JSON, *cors], b'{"code":3,"message":"Server shutting down"}')
            return
        self.begin()
        try:
            now = self.clock.now()
            if upgrade:
                self._upgrade(request, exchange, route, esock, opener)
            elif isinstance(route, NewSession):
                esock = self.open(route, request)
                if self.cookie is not None:
                    cors = [*cors, self.cookie.header(esock.sid)]
                serve_get(esock, exchange, cors, now)
            else:
                assert esock is not None
                if request.method == "GET":
                    serve_get(esock, exchange, cors, now)
                elif request.method == "POST":
                    serve_post(esock, request, exchange, cors, now)
                else:
                    self._reject(request, exchange, RequestRejected(3, detail="bad method"))
        finally:
            self.end()

    def _upgrade(
        self,
        request: HttpRequest,
        exchange: HttpExchange,
        route: NewSession | ExistingSession,
        esock: EngineSocket | None,
        opener: WebSocketOpener | None,
    ) -> None:
        if opener is None:
            try:
                accept = accept_token(request.headers)
            except RemoteProtocolError as why:
                exchange.respond(
                    400,
                    [(b"content-type", b"text/html")],
                    f"Bad request: {why}".encode(),
                    close=True,
                )
                return
            max_message = self.limits.max_payload_bytes
            deflate = None
            if self.deflate is not None:
                offered = request.headers.get("sec-websocket-extensions")
                if offered:
                    deflate = self.deflate.negotiate(offered, max_message)

            cookie = self.cookie

            def opener(esock: EngineSocket, probe: bool) -> WebSocketTransport:
                return EngineWebSocket(
                    self,
                    esock,
                    probe=probe,
                    max_message=max_message,
                    exchange=exchange,
                    accept=accept,
                    deflate=deflate,
                    # A WebSocket opened first is a handshake: its 101 sets the cookie.
                    headers=[cookie.header(esock.sid)] if cookie and not probe else None,
                )

        if isinstance(route, NewSession):
            ws = opener(self.open(route, request), False)
        else:
            assert esock is not None
            try:
                esock.session.begin_upgrade(self.clock.now())
            except RemoteProtocolError as exc:
                log.info("refusing a second WebSocket for session %s: %s", esock.sid, exc)
                esock.pump()  # what the probe's arrival caused (a timeout that closed it) goes on
                ws = opener(esock, True)
                self.open_websockets += 1
                ws.start()
                ws.refuse()
                return
            esock.pump()
            ws = opener(esock, True)
            self._probes[esock] = ws
        self.open_websockets += 1
        ws.start()

    def _reject(self, request: HttpRequest, exchange: HttpExchange, exc: RequestRejected) -> None:
        if exc.code == 4:
            log.info(
                "refused %s %s from %s: %s", request.method, request.path, request.client[0], exc
            )
        if request.websocket_upgrade:
            # Node's answer to a refused upgrade: the message as text, then close.
            exchange.respond(
                exc.http_status,
                [(b"content-type", b"text/html")],
                exc.eio_message.encode(),
                close=True,
            )
            return
        origin = request.headers.get("origin")
        cors = self.cors.headers(origin) if self.cors.allows(origin) else []
        exchange.respond(exc.http_status, [_JSON, *cors], exc.json_body())


def _origin_chars_ok(origin: str | None) -> bool:
    """Node refuses an Origin header with characters invalid in a header value (code 3)."""
    return origin is None or all(0x20 <= ord(ch) < 0x7F or ch == "\t" for ch in origin)
