"""Socket events to controller actions: the handlers the dispatcher puts on a Server.

For each namespace of the ``messages`` maps:

* ``open`` runs when a client joins the namespace (after the connect middlewares accepted it);
* ``close`` runs when it leaves, with the disconnect reason as ``ws_data``;
* every other event runs its action with the event's arguments; when the client asked for an
  ack, the action's return value is the answer (unless it answered through ``ws_callback``).

The server runs one socket's handlers one at a time, in the order the packets arrived, and its
first event only after the connect handlers finished: so a socket's actions run in order, and
only after ``open`` finished. Each call gets a new controller instance. An action that raises is
logged with its traceback and the route, sends no ack, and leaves the socket connected.

How a route runs (decided when it is resolved, see :class:`~thinkio.dispatch.Route`): a plain
``def`` controller (``before``, action, ``after``) becomes a plain handler, which the server
may run inline on the event loop; an action marked :func:`~thinkio.dispatch.blocking` runs in
a worker thread (:func:`anyio.to_thread.run_sync`); the rest are coroutines.

An event with no route is dropped, and logged at INFO the first time its name is seen on a
namespace, with a did-you-mean when a mapped name is close (``adduser`` for ``addUser``): a
client and a ``messages`` map that disagree on a name would otherwise fail without a word.
Names are remembered up to :data:`UNROUTED_NAMES_LOGGED` per namespace, so a client sending
random names cannot grow the set (or the log) without bound.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

import anyio.to_thread

from ..config import CLOSE, OPEN
from ..logs import socket_fields
from ..server import Ack, Server, Socket
from ..server.acks import ack_args
from ..server.handlers import call_handler
from .controller import Context, Controller
from .routes import Route

__all__ = ("UNROUTED_NAMES_LOGGED", "Dispatcher")

log = logging.getLogger("thinkio.dispatch")

#: Unrouted event names logged per namespace; past that, one line says the rest are not.
UNROUTED_NAMES_LOGGED = 100

#: What :meth:`Dispatcher.run` returns for an action that raised.
_FAILED: Any = object()


class Dispatcher:
    """Registers the routes' handlers on a server's namespaces.

    Args:
        io: the server.
        routes: resolved routes (see :func:`thinkio.dispatch.resolve_routes`).
    """

    def __init__(self, io: Server, routes: Iterable[Route]) -> None:
        self.io = io
        self.routes: dict[str | re.Pattern[str], dict[str, Route]] = {}
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
            ns.on_unhandled(self.unrouted_logger(table))

    # -- handlers ------------------------------------------------------------------------------

    def _open_handler(self, route: Route) -> Any:
        if route.inline:

            def on_open_inline(socket: Socket) -> None:
                self.run_inline(route, Context(self.io, socket, OPEN))

            return on_open_inline

        async def on_open(socket: Socket) -> None:
            await self.run(route, Context(self.io, socket, OPEN))

        return on_open

    def _close_handler(self, route: Route) -> Any:
        if route.inline:

            def on_close_inline(socket: Socket, reason: str) -> None:
                self.run_inline(route, Context(self.io, socket, CLOSE, (reason,)))

            return on_close_inline

        async def on_close(socket: Socket, reason: str) -> None:
            await self.run(route, Context(self.io, socket, CLOSE, (reason,)))

        return on_close

    def _event_handler(self, route: Route) -> Any:
        # The parameter named ``ack`` makes the server hand over the client's ack callback;
        # the controller's rules decide who answers (Context.ack_taken, thinkio.server.acks).
        if route.inline:

            def on_event_inline(socket: Socket, *args: Any, ack: Ack | None = None) -> None:
                ctx = Context(self.io, socket, route.event, args, ack)
                self._answer(ctx, self.run_inline(route, ctx))

            return on_event_inline

        async def on_event(socket: Socket, *args: Any, ack: Ack | None = None) -> None:
            ctx = Context(self.io, socket, route.event, args, ack)
            self._answer(ctx, await self.run(route, ctx))

        return on_event

    @staticmethod
    def unrouted_logger(table: dict[str, Route]) -> Callable[..., None]:
        """``on_unhandled(socket, event, *args)`` logging each unrouted event name once (see
        above). An ``on_unhandled`` handler, not an ``on_any`` one: the routed events then run
        their action directly, without a job each."""
        # open and close name the connect and disconnect: a client's event of that name has
        # no route either.
        mapped = sorted(event for event in table if event not in (OPEN, CLOSE))
        routed = frozenset(mapped)
        seen: set[str] = set()

        def log_unrouted(socket: Socket, event: str, *args: Any) -> None:
            if event in routed or event in seen or len(seen) > UNROUTED_NAMES_LOGGED:
                return
            seen.add(event)
            namespace = socket.namespace.name
            if len(seen) > UNROUTED_NAMES_LOGGED:
                log.info(
                    "more events with no route on %s: not logged any more (the first %d were)",
                    namespace,
                    UNROUTED_NAMES_LOGGED,
                )
                return
            close = difflib.get_close_matches(event, mapped, n=1, cutoff=0.6)
            if not close:  # a case slip scores low on its own: addUser vs ADDUSER
                close = [name for name in mapped if name.lower() == event.lower()]
            hint = f"; did you mean {close[0]!r}?" if close else ""
            log.info(
                "event %r on %s has no route in messages (dropped; logged once per name)%s",
                event,
                namespace,
                hint,
            )

        return log_unrouted

    async def run(self, route: Route, ctx: Context) -> Any:
        """Run one action: ``before()``, the action, ``after()``; returns the action's result.

        A :func:`~thinkio.dispatch.blocking` action runs in a worker thread. An exception is
        logged (with the route) and swallowed, so the socket stays connected; the client then
        gets no ack, as when a socket.io handler throws.
        """
        controller = route.controller(ctx)
        try:
            if await call_handler(controller.before) is False:
                return None
            action = getattr(controller, route.method)
            if route.blocking:
                result = await anyio.to_thread.run_sync(action)
            else:
                result = await call_handler(action)
            await call_handler(controller.after)
        except Exception:
            self._failed(route, ctx)
            return _FAILED
        return result

    def run_inline(self, route: Route, ctx: Context) -> Any:
        """:meth:`run` for a route whose ``before``, action and ``after`` are plain ``def``:
        the whole call, on the caller's thread, without suspending."""
        controller: Controller = route.controller(ctx)
        try:
            if controller.before() is False:
                return None
            result = getattr(controller, route.method)()
            controller.after()
        except Exception:
            self._failed(route, ctx)
            return _FAILED
        return result

    @staticmethod
    def _answer(ctx: Context, result: Any) -> None:
        """The automatic ack, unless the action took it (``self.ws_callback``) or failed."""
        ack = ctx.ack
        if ack is not None and not ctx.ack_taken and result is not _FAILED:
            answer = ack_args(result)
            if answer is not None:
                ack(*answer)

    @staticmethod
    def _failed(route: Route, ctx: Context) -> None:
        log.exception(
            "action %s failed (event %r, namespace %s, socket %s)",
            route.path,
            ctx.event,
            ctx.namespace,
            ctx.socket.id,
            extra=socket_fields(ctx.socket, event=ctx.event, action=route.path),
        )
        # No ack follows: the client's times out, which is what a failed call should look like.
