"""The clients of a ``ws`` or ``sockjs`` endpoint, and the order their events run in.

A :class:`PlainHub` is the whole endpoint as a controller sees it: ``self.io`` and the
``namespace`` of every :class:`PlainSocket` (so a controller's ``self.broadcast`` reaches
every client of the hub, the sender included, as think-websocket-ws's ``broadcast`` does).
It knows nothing of the wire: each socket talks to its client through a
:class:`PlainTransport` (a WebSocket, or a SockJS session over any of its transports).

What a client sends goes to the hub's :class:`PlainHandler` (the app layer's dispatcher):
``open`` once, then one ``event`` per envelope, then ``close`` once. A socket runs them one
at a time, in order: a handler that returns an awaitable (an ``async def`` action) is
awaited in a task before the next one starts, and the calls that arrive meanwhile wait in
the socket's queue; a handler that does not (a plain ``def`` action) runs inline, in the
callback that read the message, with no task. A client that sends faster than its actions
run grows that queue up to ``max_queued`` calls, then is closed with 1008.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio

from .._ids import new_id
from ..engine import Handshake
from ..errors import LocalProtocolError
from ..net import TaskSpawner
from ..server.handlers import is_awaitable
from .envelope import encode_envelope

__all__ = ("PlainHandler", "PlainHub", "PlainSocket", "PlainTransport")

log = logging.getLogger("thinkio.plain")

#: Close code when the server shuts down (RFC 6455 "going away").
GOING_AWAY = 1001
#: Close code for a client whose calls pile up faster than its actions run (policy).
POLICY = 1008


class PlainTransport(Protocol):
    """How a :class:`PlainSocket` reaches its client."""

    def send_text(self, text: str) -> None:
        """Queue one message for the client (dropped once closing)."""

    def close(self, code: int, reason: str) -> None:
        """Close the connection with a close code and reason."""


class PlainHandler(Protocol):
    """What runs a socket's events (:class:`thinkio.dispatch.PlainDispatcher`).

    Each returns None when it ran to the end, or an awaitable the socket awaits before the
    next call.
    """

    def open(self, socket: PlainSocket) -> Awaitable[Any] | None: ...

    def event(self, socket: PlainSocket, event: str, data: Any) -> Awaitable[Any] | None: ...

    def close(self, socket: PlainSocket, reason: str) -> Awaitable[Any] | None: ...


class _NoHandler:
    def open(self, socket: PlainSocket) -> None:
        return None

    def event(self, socket: PlainSocket, event: str, data: Any) -> None:
        return None

    def close(self, socket: PlainSocket, reason: str) -> None:
        return None


class PlainHub:
    """Every client of one ``ws`` or ``sockjs`` endpoint of this process.

    Args:
        kind: ``"ws"`` or ``"sockjs"`` (for logs and ``repr``).
        tasks: where awaited handlers run (the server's task spawner).
        max_clients: the most clients at once (None: only the server's ``max_connections``).
        max_queued: the most calls one client may have waiting for its running action.
    """

    #: The namespace name a controller sees (``self.ctx.namespace``): a hub has one.
    name = "/"

    def __init__(
        self,
        kind: str,
        *,
        tasks: TaskSpawner,
        max_clients: int | None = None,
        max_queued: int = 1024,
    ) -> None:
        self.kind = kind
        self.tasks = tasks
        self.max_clients = max_clients
        self.max_queued = max_queued
        self.handler: PlainHandler = _NoHandler()
        #: The connected clients by id.
        self.sockets: dict[str, PlainSocket] = {}
        #: False once the server shuts down: new clients are refused.
        self.accepting = True
        self._idle: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"<PlainHub {self.kind} {len(self.sockets)} clients>"

    @property
    def full(self) -> bool:
        """No room for another client (``max_clients`` reached)."""
        return self.max_clients is not None and len(self.sockets) >= self.max_clients

    # -- clients ----------------------------------------------------------------------------

    def connect(
        self, transport: PlainTransport, handshake: Handshake, sid: str | None = None
    ) -> PlainSocket:
        """A client is connected: its socket, whose ``open`` is under way."""
        socket = PlainSocket(self, transport, handshake, sid or new_id())
        self.sockets[socket.id] = socket
        socket.submit(self.handler.open, socket)
        return socket

    def disconnected(self, socket: PlainSocket) -> None:
        """A socket ran its ``close``: forget it."""
        self.sockets.pop(socket.id, None)
        if not self.sockets and self._idle is not None:
            self._idle.set()

    # -- sending (a controller's ``self.io`` / ``self.broadcast``) ----------------------------

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every client of the hub (encoded once).

        Raises:
            LocalProtocolError: more than one value, or a value JSON cannot carry.
        """
        self.emit_nowait(event, *args)

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`emit` from sync code."""
        text = encode_envelope(event, args)
        for socket in list(self.sockets.values()):
            if socket.accepted:
                socket.send_text(text)

    def to(self, *rooms: Any) -> Any:
        """Rooms are a Socket.IO feature.

        Raises:
            LocalProtocolError: always.
        """
        raise LocalProtocolError(
            f"rooms are a Socket.IO feature: the {self.kind!r} type has none (use "
            "self.emit / self.broadcast, or type 'socketio')"
        )

    # -- shutting down ----------------------------------------------------------------------

    def close_all(self, reason: str = "server shutting down") -> None:
        """Close every client (1001, going away)."""
        self.accepting = False
        for socket in list(self.sockets.values()):
            socket.close(GOING_AWAY, reason)

    async def wait_all_closed(self) -> None:
        """Return once every client's ``close`` has run."""
        while self.sockets:
            self._idle = anyio.Event()
            await self._idle.wait()
        self._idle = None


class PlainSocket:
    """One client of a :class:`PlainHub` (a controller's ``self.websocket``).

    Attributes:
        id: a random id (the SockJS session id, for SockJS).
        handshake: the client's first request: ``headers``, ``query``, ``address``,
            ``cookies``, ``url``.
        data: free for the application (kept for the client's lifetime).
        connected: True until the connection ends.
    """

    __slots__ = (
        "_calls",
        "_closing",
        "_hub",
        "_running",
        "_transport",
        "accepted",
        "connected",
        "data",
        "handshake",
        "id",
    )

    def __init__(
        self, hub: PlainHub, transport: PlainTransport, handshake: Handshake, sid: str
    ) -> None:
        self._hub = hub
        self._transport = transport
        self.id = sid
        self.handshake = handshake
        self.data: dict[str, Any] = {}
        self.connected = True
        #: False once a connect middleware refused the client: no action runs for it any
        #: more (its ``close`` neither) and broadcasts skip it.
        self.accepted = True
        self._closing = False
        self._running = False
        self._calls: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()

    def __repr__(self) -> str:
        return f"<PlainSocket {self._hub.kind} {self.id}>"

    @property
    def namespace(self) -> PlainHub:
        """The hub (a controller's ``self.broadcast`` goes through it)."""
        return self._hub

    @property
    def auth(self) -> dict[str, Any]:
        """Socket.IO's CONNECT payload: the plain types have none (empty)."""
        return {}

    # -- sending ----------------------------------------------------------------------------

    async def emit(self, event: str, *args: Any) -> None:
        """Send ``{"event": event, "data": args[0]}`` to this client (nothing once it is gone).

        Raises:
            LocalProtocolError: more than one value, or a value JSON cannot carry.
        """
        self.emit_nowait(event, *args)

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`emit` from sync code."""
        text = encode_envelope(event, args)
        if self.connected:
            self._transport.send_text(text)

    def send_text(self, text: str) -> None:
        """Send an encoded message as it is."""
        if self.connected:
            self._transport.send_text(text)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (``close`` runs once it ended)."""
        if self.connected and not self._closing:
            self._closing = True
            self._transport.close(code, reason)

    async def disconnect(self, close: bool = True) -> None:
        """Close the connection normally (1000), as Socket.IO's ``socket.disconnect()``."""
        self.close(1000, "server disconnect")

    def join(self, *rooms: Any) -> None:
        """Rooms are a Socket.IO feature.

        Raises:
            LocalProtocolError: always.
        """
        self._hub.to()

    leave = join

    # -- what the client sent (called by the transport) ---------------------------------------

    def received(self, event: str, data: Any) -> None:
        """An envelope arrived: run its event after the ones before it."""
        if self.connected and not self._closing:
            self.submit(self._hub.handler.event, self, event, data)

    def ended(self, reason: str) -> None:
        """The connection is over: run ``close`` (after the calls still queued)."""
        if not self.connected:
            return
        self.connected = False
        self.submit(self._closed, reason, last=True)

    def _closed(self, reason: str) -> Awaitable[Any] | None:
        hub = self._hub
        try:
            result = hub.handler.close(self, reason)
        except Exception:
            hub.disconnected(self)
            raise
        if is_awaitable(result):
            return self._after_close(result)
        hub.disconnected(self)
        return None

    async def _after_close(self, result: Awaitable[Any]) -> None:
        try:
            await result
        finally:
            self._hub.disconnected(self)

    # -- ordering ---------------------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], *args: Any, last: bool = False) -> None:
        """Run ``fn(*args)`` after the calls before it: inline if nothing runs and it does
        not need to wait, else in the socket's task. ``last`` (the ``close`` call) is queued
        even past ``max_queued``."""
        if self._running:
            if len(self._calls) >= self._hub.max_queued and not last:
                log.info("%r: more than %d calls queued; closed", self, self._hub.max_queued)
                self.close(POLICY, "too many messages queued")
                return
            self._calls.append((fn, args))
            return
        try:
            result = fn(*args)
        except Exception:
            log.exception("%r: handler failed", self)
            return
        if is_awaitable(result):
            self._running = True
            self._hub.tasks.spawn(self._drain, result)

    async def _drain(self, first: Awaitable[Any]) -> None:
        try:
            pending: Awaitable[Any] | None = first
            while True:
                if pending is not None:
                    try:
                        await pending
                    except Exception:
                        log.exception("%r: handler failed", self)
                if not self._calls:
                    return
                fn, args = self._calls.popleft()
                try:
                    result = fn(*args)
                except Exception:
                    log.exception("%r: handler failed", self)
                    result = None
                pending = result if is_awaitable(result) else None
        finally:
            self._running = False
