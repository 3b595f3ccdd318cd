"""Socket events to controller actions: the handlers the dispatcher puts on a Server.

For each namespace of the ``messages`` maps:

* ``open`` runs when a client joins the namespace (after the connect middlewares accepted it);
* ``close`` runs when it leaves, with the disconnect reason as ``ws_data``;
* every other event runs its action with the event's arguments; when the client asked for an
  ack, the action's return value is the answer (unless it answered through ``ws_callback``).

The server runs one socket's handlers one at a time, in the order the packets arrived, and its
first event only after the connect handlers finished: so a socket's actions run in order, and
only after ``open`` finished. Each call gets a new controller instance. An action that raises is
logged with its traceback and the route, sends no ack, and leaves the socket connected. Events
with no route are dropped with a debug log.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from typing import Any

from ..config import CLOSE, OPEN
from ..server import Ack, Server, Socket
from ..server.acks import ack_args
from .controller import Context
from .routes import Route

__all__ = ("Dispatcher",)

log = logging.getLogger("thinkio.dispatch")

#: What :meth:`Dispatcher.run` returns for an action that raised.
_FAILED: Any = object()


async def _call(fn: Any) -> Any:
    result = fn()
    if inspect.isawaitable(result):
        result = await result
    return result


class Dispatcher:
    """Registers the routes' handlers on a server's namespaces.

    Args:
        io: the server.
        routes: resolved routes (see :func:`thinkio.dispatch.resolve_routes`).
    """

    def __init__(self, io: Server, routes: Iterable[Route]) -> None:
        self.io = io
        self.routes: dict[str, dict[str, Route]] = {}
        for route in routes:
            self.routes.setdefault(route.namespace, {})[route.event] = route

    def install(self) -> None:
        """Create the namespaces and register a handler per route."""
        for name, table in self.routes.items():
            ns = self.io.of(name)
            for event, route in table.items():
                if event == OPEN:
                    ns.on("connect", self._open_handler(route))
                elif event == CLOSE:
                    ns.on("disconnect", self._close_handler(route))
                else:
                    ns.on(event, self._event_handler(route))
            ns.on_any(self._unrouted_logger(table))

    # -- handlers ------------------------------------------------------------------------------

    def _open_handler(self, route: Route) -> Any:
        async def on_open(socket: Socket) -> None:
            await self.run(route, Context(self.io, socket, OPEN))

        return on_open

    def _close_handler(self, route: Route) -> Any:
        async def on_close(socket: Socket, reason: str) -> None:
            await self.run(route, Context(self.io, socket, CLOSE, (reason,)))

        return on_close

    def _event_handler(self, route: Route) -> Any:
        # The parameter named ``ack`` makes the server hand over the client's ack callback;
        # the controller's rules decide who answers (Context.ack_taken, thinkio.server.acks).
        async def on_event(socket: Socket, *args: Any, ack: Ack | None = None) -> None:
            ctx = Context(self.io, socket, route.event, args, ack)
            result = await self.run(route, ctx)
            if ack is not None and not ctx.ack_taken and result is not _FAILED:
                answer = ack_args(result)
                if answer is not None:
                    ack(*answer)

        return on_event

    @staticmethod
    def _unrouted_logger(table: dict[str, Route]) -> Any:
        def on_any(socket: Socket, event: str, *args: Any) -> None:
            if event not in table:
                log.debug(
                    "no route for event %r on %s (socket %s): ignored",
                    event,
                    socket.namespace.name,
                    socket.id,
                )

        return on_any

    async def run(self, route: Route, ctx: Context) -> Any:
        """Run one action: ``before()``, the action, ``after()``; returns the action's result.

        An exception is logged (with the route) and swallowed, so the socket stays
        connected; the client then gets no ack, as when a socket.io handler throws.
        """
        controller = route.controller(ctx)
        try:
            if await _call(controller.before) is False:
                return None
            result = await _call(getattr(controller, route.method))
            await _call(controller.after)
        except Exception:
            log.exception(
                "action %s failed (event %r, namespace %s, socket %s)",
                route.path,
                ctx.event,
                ctx.namespace,
                ctx.socket.id,
            )
            # No ack: the client's times out, which is what a failed call should look like.
            return _FAILED
        return result
