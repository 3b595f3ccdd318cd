"""The ``messages`` map and controllers driving a ``ws`` or ``sockjs`` endpoint.

The same routes as for Socket.IO (:func:`~thinkio.dispatch.resolve_routes`), run by the same
:class:`~thinkio.dispatch.Dispatcher` (``before``, the action, ``after``; inline, in a
coroutine or in a worker thread): so a project switches ``websocket["type"]`` and keeps its
controllers. What differs is the socket: ``self.websocket`` is a
:class:`~thinkio.plain.PlainSocket`, ``self.io`` (and ``self.broadcast``) the endpoint's
:class:`~thinkio.plain.PlainHub`; ``self.ws_data`` is the envelope's ``data``.

* ``open`` runs when a client connected (after the connect middlewares, which may refuse it:
  :class:`~thinkio.errors.ConnectRejected` closes the connection with 1008 and its message,
  and no action runs for that client, ``close`` neither);
* ``close`` runs when it left, with the reason as ``ws_data``;
* every other event runs its action; an action's return value is not sent anywhere (the
  plain types have no acks: answer with ``self.emit``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any, cast

from ..config import CLOSE, OPEN, Middleware
from ..errors import ConnectRejected
from ..plain import PlainHub, PlainSocket
from ..server.handlers import call_handler
from .controller import Context
from .dispatcher import Dispatcher
from .routes import Route

__all__ = ("POLICY_VIOLATION", "PlainDispatcher")

#: The close code of a client refused by a connect middleware (RFC 6455: policy violation).
POLICY_VIOLATION = 1008


class PlainDispatcher:
    """Runs a hub's events as controller actions (a :class:`thinkio.plain.PlainHandler`).

    Args:
        hub: the endpoint's clients.
        routes: the resolved routes (all of namespace ``/``).
        dispatcher: runs an action (the same code as for Socket.IO).
        middleware: connect middlewares ``fn(socket)``, run before ``open``.
    """

    def __init__(
        self,
        hub: PlainHub,
        routes: Iterable[Route],
        dispatcher: Dispatcher,
        middleware: Iterable[Middleware] = (),
    ) -> None:
        self.hub = hub
        self.dispatcher = dispatcher
        self.middleware = tuple(middleware)
        self.routes = {route.event: route for route in routes}
        self._unrouted = dispatcher.unrouted_logger(self.routes)

    def install(self) -> None:
        """Make this the hub's handler."""
        self.hub.handler = self

    def _context(self, socket: PlainSocket, event: str, args: tuple[Any, ...]) -> Context:
        # A controller reaches the socket and the io through the names both kinds share
        # (emit, namespace.emit, id, data, handshake...): cast, not a second Context.
        return Context(cast(Any, self.hub), cast(Any, socket), event, args)

    def _run(self, route: Route | None, ctx: Context) -> Awaitable[Any] | None:
        if route is None:
            return None
        if route.inline:
            self.dispatcher.run_inline(route, ctx)
            return None
        return self.dispatcher.run(route, ctx)

    # -- PlainHandler ---------------------------------------------------------------------------

    def open(self, socket: PlainSocket) -> Awaitable[Any] | None:
        if self.middleware:
            return self._open_after_middleware(socket)
        return self._run(self.routes.get(OPEN), self._context(socket, OPEN, ()))

    async def _open_after_middleware(self, socket: PlainSocket) -> None:
        for middleware in self.middleware:
            try:
                await call_handler(middleware, socket)
            except ConnectRejected as exc:
                socket.accepted = False  # as a refused Socket.IO client: no open, no close
                socket.close(POLICY_VIOLATION, exc.message)
                return
        pending = self._run(self.routes.get(OPEN), self._context(socket, OPEN, ()))
        if pending is not None:
            await pending

    def event(self, socket: PlainSocket, event: str, data: Any) -> Awaitable[Any] | None:
        if not socket.accepted:
            return None
        route = self.routes.get(event)
        if route is None or event in (OPEN, CLOSE):
            self._unrouted(socket, event, data)
            return None
        return self._run(route, self._context(socket, event, (data,)))

    def close(self, socket: PlainSocket, reason: str) -> Awaitable[Any] | None:
        if not socket.accepted:
            return None
        return self._run(self.routes.get(CLOSE), self._context(socket, CLOSE, (reason,)))
