"""ThinkJS's ``think.Controller`` for WebSocket actions, in Python.

One controller instance serves one action call, as in ThinkJS: keep what must outlive the call
on the socket (``self.websocket.data``), not on ``self``.

=========================  ==================================================================
ThinkJS                    thinkio
=========================  ==================================================================
``this.emit(e, data)``     ``await self.emit(e, *args)``: to this socket
``this.broadcast(e, d)``   ``await self.broadcast(e, *args)``: every socket of the namespace,
                           sender included, through the adapter (so on every server)
``this.wsData``            ``self.ws_data`` (the first argument); ``self.ws_args``: all of them
``this.wsCallback``        ``self.ws_callback``; an action's return value is the ack, too
``this.websocket``         ``self.websocket``: the :class:`~thinkio.server.Socket`
``this.isWebsocket``       ``self.is_websocket``
``this.ctx.io``            ``self.io`` / ``self.ctx.io``: the :class:`~thinkio.server.Server`
``socket.nsp`` (Node)      ``self.nsp``: the namespace, with every broadcast flag
``socket.timeout(ms)``     ``self.timeout(s).emit_with_ack(...)``: ask this client
``__before/__after``       ``before()`` / ``after()``; ``before()`` returning False skips the
                           action (and ``after()``)
=========================  ==================================================================

Where actions run: an ``async def`` action runs on the event loop and may await. A plain
``def`` action runs **on the event loop too, inline**: while it runs, no other client is
served, so it must not block (no ``time.sleep``, no blocking database driver or HTTP call,
no long computation). Blocking work goes to a worker thread: mark a plain ``def`` action
:func:`blocking`, or ``await anyio.to_thread.run_sync(fn)`` inside an ``async def`` action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..logs import ContextLogger, socket_fields
from ..server import Ack, BroadcastOperator, Handshake, Namespace, Server, Socket, TimedEmit

__all__ = ("Context", "Controller", "blocking", "is_blocking")

log = logging.getLogger("thinkio.dispatch")

F = TypeVar("F", bound=Callable[..., Any])

_BLOCKING = "__thinkio_blocking__"


def blocking(action: F) -> F:
    """Run a plain ``def`` action in a worker thread, so that it may block.

    ::

        class Reports(Controller):
            @blocking
            def build_action(self):
                return slow_query(self.ws_data)  # the ack; other clients are served meanwhile

    The action runs through :func:`anyio.to_thread.run_sync` (at most 40 at once, anyio's
    default; the others wait for a thread); ``before()`` and ``after()`` still run on the
    event loop, and the socket's next event waits for the action as usual. In the thread,
    reach the loop with ``anyio.from_thread.run``: ``anyio.from_thread.run(self.emit,
    "progress", 50)``. A running thread cannot be cancelled: a shutdown waits for it.

    Marking an ``async def`` action stops the start with a
    :class:`~thinkio.errors.ConfigError`: it should await
    ``anyio.to_thread.run_sync(fn)`` for its blocking part instead.
    """
    setattr(action, _BLOCKING, True)
    return action


def is_blocking(fn: Any) -> bool:
    """Whether ``fn`` was marked with :func:`blocking`."""
    return bool(getattr(fn, _BLOCKING, False))


class Context:
    """What one action call is about: the server, the socket, the event and its arguments.

    The handshake of the client's connection (headers, query, cookies, address) and its
    CONNECT ``auth`` payload are here in **every** action, not only in ``open``.
    """

    __slots__ = ("ack", "ack_taken", "args", "event", "io", "socket")

    def __init__(
        self,
        io: Server,
        socket: Socket,
        event: str,
        args: tuple[Any, ...] = (),
        ack: Ack | None = None,
    ) -> None:
        #: The Socket.IO server (ThinkJS's ``ctx.io``).
        self.io = io
        #: The client's socket on this namespace.
        self.socket = socket
        #: The event that led here: ``"open"``, ``"close"`` or the client's event name.
        self.event = event
        #: The event's arguments (for ``close``: the disconnect reason).
        self.args = args
        #: The client's ack callback, when it asked for one.
        self.ack = ack
        #: The action took the ack (``self.ws_callback``): it owns it, as a Node handler
        #: that takes the callback does; no automatic ack is sent.
        self.ack_taken = False

    def __repr__(self) -> str:
        return f"<Context {self.event!r} on {self.socket!r}>"

    @property
    def handshake(self) -> Handshake:
        """The client's first HTTP request: headers, query, address, cookies, url, issued."""
        return self.socket.handshake

    @property
    def headers(self) -> dict[str, str]:
        """Request headers of the handshake (names lower-cased)."""
        return self.socket.handshake.headers

    @property
    def query(self) -> dict[str, str]:
        """Query parameters of the handshake URL."""
        return self.socket.handshake.query

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent with the handshake."""
        return self.socket.handshake.cookies

    @property
    def address(self) -> str:
        """The client's IP address."""
        return self.socket.handshake.address

    @property
    def auth(self) -> dict[str, Any]:
        """The ``auth`` payload the client sent to join the namespace."""
        return self.socket.auth

    @property
    def namespace(self) -> str:
        """The namespace name (``"/"`` unless configured otherwise)."""
        return self.socket.namespace.name


class Controller:
    """Base class of WebSocket controllers.

    Subclass it in ``controller/<name>.py`` and write one method per action: the action
    ``addUser`` of ``/websocket/addUser`` is the method ``add_user_action`` (see
    :func:`thinkio.dispatch.action_method`). Actions, ``before`` and ``after`` may be plain
    or ``async`` methods and take no arguments: the event's data is on ``self``. A plain
    method runs on the event loop and must not block: see :func:`blocking`.

    Args:
        ctx: the call's :class:`Context`.
    """

    #: Always True here: thinkio controllers only serve WebSocket (Socket.IO) events.
    is_websocket: bool = True

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # -- what the client sent ----------------------------------------------------------------

    @property
    def websocket(self) -> Socket:
        """The client's socket (ThinkJS's ``this.websocket``)."""
        return self.ctx.socket

    @property
    def io(self) -> Server:
        """The Socket.IO server (ThinkJS's ``this.ctx.io``)."""
        return self.ctx.io

    @property
    def event(self) -> str:
        """The event being handled (``"open"``, ``"close"``, ``"addUser"``...)."""
        return self.ctx.event

    @property
    def ws_data(self) -> Any:
        """The event's first argument, or None (ThinkJS's ``this.wsData``).

        In ``close`` it is the disconnect reason (``"transport close"``,
        ``"client namespace disconnect"``, ``"ping timeout"``...).
        """
        return self.ctx.args[0] if self.ctx.args else None

    @property
    def ws_args(self) -> tuple[Any, ...]:
        """Every argument of the event."""
        return self.ctx.args

    @property
    def ws_callback(self) -> Ack | None:
        """The client's ack callback, or None when it did not ask for one.

        An action that takes it owns the ack, as a Node handler that takes the callback
        does: the client gets an answer when (and only when) the action calls it. An action
        that never touches it answers with its return value instead (a tuple for several
        values; :data:`thinkio.NO_ACK` for none).
        """
        ctx = self.ctx
        if ctx.ack is not None:
            ctx.ack_taken = True
        return ctx.ack

    @property
    def logger(self) -> ContextLogger:
        """A logger named after the controller: ``thinkio.controller.websocket``.

        (For a project's ``controller/websocket.py``; a controller defined elsewhere is
        named by its class.) Its records carry the call's ``sid``, ``socket``, ``namespace``
        and ``event`` (fields of ``--log-format json``; :mod:`thinkio.logs`).
        """
        _, found, name = type(self).__module__.rpartition(".controller.")
        logger = logging.getLogger(
            f"thinkio.controller.{name if found else type(self).__qualname__}"
        )
        return ContextLogger(logger, socket_fields(self.ctx.socket, event=self.ctx.event))

    # -- hooks -------------------------------------------------------------------------------

    def before(self) -> Any:
        """Runs before every action (ThinkJS's ``__before``); return False to skip the action."""
        return None

    def after(self) -> Any:
        """Runs after every action that completed (ThinkJS's ``__after``)."""
        return None

    # -- sending -----------------------------------------------------------------------------

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to this client (ThinkJS's ``this.emit``).

        As in socket.io, nothing is sent once the client is gone (in ``close``, say).

        Raises:
            LocalProtocolError: a reserved event name, or values JSON cannot carry.
        """
        if not self.ctx.socket.connected:
            log.debug("emit %r to disconnected socket %s dropped", event, self.ctx.socket.id)
            return
        await self.ctx.socket.emit(event, *args)

    async def broadcast(self, event: str, *args: Any) -> None:
        """Send an event to every client of this namespace, this one included.

        It goes through the namespace's adapter, so with a cluster adapter it reaches the
        clients of every server.

        Raises:
            LocalProtocolError: a reserved event name, or values JSON cannot carry.
        """
        await self.ctx.socket.namespace.emit(event, *args)

    @property
    def nsp(self) -> Namespace:
        """This client's namespace (Node's ``socket.nsp``): its broadcast operators with
        every flag, ``await self.nsp.volatile.emit(...)``, ``self.nsp.local``,
        ``self.nsp.compress(False)``, ``await self.nsp.timeout(1).emit_with_ack(...)`` (one
        ack per client, on every server). For a dynamic namespace, the child the client
        joined (``self.nsp.parent`` is the pattern's)."""
        return self.ctx.socket.namespace  # type: ignore[return-value]

    def timeout(self, seconds: float) -> TimedEmit:
        """Ask this client and wait for its ack (Node's ``socket.timeout(ms)``):
        ``answer = await self.timeout(1).emit_with_ack("question")``."""
        return self.ctx.socket.timeout(seconds)

    # -- rooms -------------------------------------------------------------------------------

    def join(self, *rooms: str) -> None:
        """Put this client in rooms.

        Raises:
            LocalProtocolError: the client is disconnected.
        """
        self.ctx.socket.join(*rooms)

    def leave(self, room: str) -> None:
        """Take this client out of a room."""
        self.ctx.socket.leave(room)

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Every client in these rooms, **this one included** if it is in one of them.

        ``await self.to("room").emit(...)``; chain ``.except_(...)`` to leave some out (this
        client: ``self.to("room").except_(self.websocket.id)``, which is socket.io's
        ``socket.to(room)``).
        """
        return self.ctx.socket.namespace.to(*rooms)
