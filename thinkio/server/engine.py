"""The Engine.IO server: sessions over long-polling and WebSocket, driven by the sans-IO core.

Each :class:`thinkio.engineio.Session` gets an :class:`EngineSocket` here: its wake-up event
(set whenever the session may have something new, so a pending GET or the WebSocket writer
looks again), its timer registration, and its handshake data. All protocol decisions are the
core's; this module only moves bytes and time.

The code above (Socket.IO, or a raw Engine.IO app) implements :class:`EngineApp`. Its
callbacks are synchronous and run in the task that received the data, in order; anything slow
must be handed to a task of its own.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from ..engineio import (
    EngineOptions,
    EngineRequest,
    MessageReceived,
    NewSession,
    Packet,
    PacketType,
    Reason,
    Session,
    SessionClosed,
    route_request,
)
from ..errors import RemoteProtocolError, RequestRejected
from .cors import CorsPolicy
from .http import HttpConnection, HttpRequest
from .polling import serve_get, serve_post
from .timers import TimerService
from .ws_session import serve_websocket

__all__ = ("EngineApp", "EngineServer", "EngineSocket", "Handshake")

log = logging.getLogger("thinkio.engineio")


@dataclass(frozen=True, slots=True)
class Handshake:
    """What the client's first request said; Socket.IO exposes it as ``socket.handshake``."""

    headers: dict[str, str]
    query: dict[str, str]
    #: The client's IP address.
    address: str
    url: str
    #: When the session was opened, in ms since the epoch (Node's ``issued``).
    issued: int
    secure: bool = False
    #: The request carried an Origin header (a cross-site browser request).
    xdomain: bool = False
    #: Parsed ``Cookie`` header.
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Handshake:
        cookies: dict[str, str] = {}
        for part in request.headers.get("cookie", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                cookies[name] = value
        return cls(
            headers=dict(request.headers),
            query=dict(request.query),
            address=request.client[0],
            url=request.target,
            issued=int(time.time() * 1000),
            xdomain="origin" in request.headers,
            cookies=cookies,
        )


class EngineApp(Protocol):
    """What an Engine.IO server hands sessions to."""

    def on_open(self, socket: EngineSocket) -> None:
        """A session opened. Packets sent now go out with the open packet."""

    def on_message(self, socket: EngineSocket, data: str | bytes) -> None:
        """A message arrived. Raising RemoteProtocolError closes the session with its reason."""

    def on_close(self, socket: EngineSocket, reason: str) -> None:
        """The session ended (always called once, last)."""


class EngineSocket:
    """The I/O side of one Engine.IO session."""

    __slots__ = (
        "_closed_here",
        "_pumping",
        "_scheduled",
        "_server",
        "_waiter",
        "handshake",
        "session",
        "state",
    )

    def __init__(self, server: EngineServer, session: Session, handshake: Handshake) -> None:
        self._server = server
        self.session = session
        self.handshake = handshake
        self._waiter: anyio.Event | None = None
        self._pumping = False
        self._closed_here = False
        self._scheduled: float | None = None
        #: Free for the app above (the Socket.IO connection lives here).
        self.state: object = None

    @property
    def sid(self) -> str:
        return self.session.sid

    @property
    def protocol(self) -> int:
        return self.session.protocol

    @property
    def transport(self) -> str:
        return self.session.transport

    @property
    def closed(self) -> bool:
        """The session is closing or closed: nothing more can be sent."""
        return self.session.close_reason is not None

    def send(
        self, packets: Sequence[Packet], *, volatile: bool = False, size: int | None = None
    ) -> bool:
        """Queue packets (shared packets are fine: they are framed once). Never blocks.

        ``size``: the packets' data length, when the caller (a broadcast) computed it once.
        """
        session = self.session
        ok = session.send(packets, volatile=volatile, size=size)
        if session.has_events:
            self._server.pump(self)  # e.g. closed as a slow consumer
        else:
            self._notify()  # the common case: just wake the transport
        return ok

    def send_message(self, data: str | bytes, *, volatile: bool = False) -> bool:
        """Queue one message packet."""
        return self.send((Packet(PacketType.MESSAGE, data),), volatile=volatile)

    def close(self, reason: str = Reason.FORCED, *, close_packet: bool = True) -> None:
        """Close gracefully: what is queued is still delivered (see ``Session.close``)."""
        self._closed_here = True
        self.session.close(anyio.current_time(), reason, close_packet=close_packet)
        self._server.pump(self)

    def _notify(self) -> None:
        """Wake whoever waits for this session to change (a pending GET, the WS writer)."""
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set()

    def changed(self) -> anyio.Event:
        """An event set at the session's next change. Get it *before* looking at the session
        (no checkpoint in between), then wait on it: no change can slip through."""
        if self._waiter is None:
            self._waiter = anyio.Event()
        return self._waiter


AllowRequest = Callable[[HttpRequest], Awaitable[bool | str]]


class EngineServer:
    """Serves Engine.IO sessions for one mount path.

    Args:
        app: receives sessions and their messages.
        options: Engine.IO options.
        timers: the timer service (one per server).
        cors: which browser origins may connect, and the CORS headers of the answers.
        allow_request: optional async hook run on each valid handshake; return True to accept,
            or False / a message to refuse with 403 (Engine.IO code 4).
        sid_prefix: put in front of every new session id, so a front end can tell from the
            sid alone which process owns the session (``thinkio.cluster`` routes on it).
            Use URL-safe characters outside the base64url alphabet as the separator.
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
    ) -> None:
        self.app = app
        self.options = options
        self.timers = timers
        self.cors = cors or CorsPolicy()
        self.allow_request = allow_request
        self.sid_prefix = sid_prefix
        self.sockets: dict[str, EngineSocket] = {}
        #: False once the server shuts down: new handshakes get 503.
        self.accepting = True
        #: WebSocket connections still being served (shutdown waits for them to flush).
        self.open_websockets = 0

    # -- session plumbing ----------------------------------------------------------------------

    def pump(self, esock: EngineSocket) -> None:
        """Deliver the session's events, wake its waiters and re-arm its timer."""
        if esock._pumping:
            return  # the outer call drains what the inner one queued, in order
        esock._pumping = True
        session = esock.session
        try:
            while (event := session.next_event()) is not None:
                if isinstance(event, MessageReceived):
                    if esock._closed_here:
                        # The server closed the session while messages of the same read were
                        # still queued: like Node, it takes no more from a closing session.
                        # (What the client sent before closing itself is still delivered.)
                        continue
                    try:
                        self.app.on_message(esock, event.data)
                    except RemoteProtocolError as exc:
                        log.info("closing session %s: %s", esock.sid, exc)
                        esock._closed_here = True
                        session.close(anyio.current_time(), exc.close_reason)
                    except Exception:
                        # A bug above must not take the connection task down with it.
                        log.exception("session %s: the app failed on a message", esock.sid)
                elif isinstance(event, SessionClosed):
                    log.debug("session %s closed: %s", esock.sid, event.reason)
                    self.app.on_close(esock, event.reason)
        finally:
            esock._pumping = False
        if session.closed:
            self.sockets.pop(session.sid, None)
        else:
            deadline = session.next_deadline()
            if deadline is not None and deadline != esock._scheduled:
                esock._scheduled = deadline
                self.timers.schedule(deadline, lambda now: self._on_timer(esock, now))
        esock._notify()

    def _on_timer(self, esock: EngineSocket, now: float) -> None:
        esock._scheduled = None
        if not esock.session.closed:
            esock.session.handle_timeout(now)
            self.pump(esock)

    def _open(self, route: NewSession, request: HttpRequest) -> EngineSocket:
        sid = self.sid_prefix + secrets.token_urlsafe(15)
        while sid in self.sockets:
            sid = self.sid_prefix + secrets.token_urlsafe(15)
        session = Session(
            sid,
            route.transport,
            options=self.options,
            now=anyio.current_time(),
            protocol=route.protocol,
            b64=route.b64,
        )
        esock = EngineSocket(self, session, Handshake.from_request(request))
        self.sockets[sid] = esock
        self.app.on_open(esock)
        self.pump(esock)
        return esock

    async def close_all(self, reason: str = Reason.SHUTDOWN) -> None:
        """Close every session for a shutdown: queued packets go out, then the transport
        ends as if lost (no close packet), so every kind of client reconnects to the next
        server on this address."""
        for esock in list(self.sockets.values()):
            esock.close(reason, close_packet=False)

    # -- HTTP entry point ----------------------------------------------------------------------

    async def handle(self, request: HttpRequest, conn: HttpConnection) -> None:
        """Serve one request for this mount (polling, preflight, or a WebSocket upgrade)."""
        origin = request.headers.get("origin")
        if not self.cors.allows(origin):
            # 403 with a JSON body on both transports (an upgrade is refused before any 101).
            log.warning("refused origin %r from %s for %s", origin, request.client[0], request.path)
            refusal = RequestRejected(4, "Origin not allowed")
            headers = [(b"content-type", b"application/json")]
            await conn.respond(403, headers, refusal.json_body(), close=request.websocket_upgrade)
            return
        if request.method == "OPTIONS":
            request_headers = request.headers.get("access-control-request-headers")
            await conn.respond(204, self.cors.preflight_headers(origin, request_headers))
            return
        cors = self.cors.headers(origin)
        sid = request.query.get("sid")
        esock = self.sockets.get(sid) if sid is not None else None
        upgrade = request.websocket_upgrade
        try:
            route = route_request(
                EngineRequest(
                    request.method,
                    request.query,
                    websocket_upgrade=upgrade,
                    origin_allowed=_origin_chars_ok(origin),
                ),
                self.options,
                esock.session if esock is not None else None,
            )
            if isinstance(route, NewSession) and self.allow_request is not None:
                verdict = await self.allow_request(request)
                if verdict is not True:
                    raise RequestRejected(4, verdict if isinstance(verdict, str) else None)
        except RequestRejected as exc:
            await self._reject(request, conn, exc)
            return
        if isinstance(route, NewSession) and not self.accepting:
            await conn.respond(
                503,
                [(b"content-type", b"application/json"), *cors],
                b'{"code":3,"message":"Server shutting down"}',
            )
            return
        if upgrade:
            await serve_websocket(self, request, conn, route, esock)
        elif isinstance(route, NewSession):
            await serve_get(self, conn, self._open(route, request), cors)
        else:
            assert esock is not None
            if request.method == "GET":
                await serve_get(self, conn, esock, cors)
            elif request.method == "POST":
                await serve_post(self, request, conn, esock, cors)
            else:
                await self._reject(request, conn, RequestRejected(3, detail="bad method"))

    async def _reject(
        self, request: HttpRequest, conn: HttpConnection, exc: RequestRejected
    ) -> None:
        if request.websocket_upgrade:
            # Node's answer to a refused upgrade: the message as text, then close.
            await conn.respond(
                exc.http_status,
                [(b"content-type", b"text/html")],
                exc.eio_message.encode(),
                close=True,
            )
            return
        origin = request.headers.get("origin")
        cors = self.cors.headers(origin) if self.cors.allows(origin) else []
        headers = [(b"content-type", b"application/json"), *cors]
        await conn.respond(exc.http_status, headers, exc.json_body())


def _origin_chars_ok(origin: str | None) -> bool:
    """Node refuses an Origin header with characters invalid in a header value (code 3)."""
    return origin is None or all(0x20 <= ord(ch) < 0x7F or ch == "\t" for ch in origin)
