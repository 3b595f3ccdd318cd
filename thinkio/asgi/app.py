"""thinkio as an ASGI 3 application: :class:`ASGIApp` (and :func:`project`).

The same server as ``thinkio run``'s — the sans-IO sessions (:mod:`thinkio.engineio`,
:mod:`thinkio.socketio`), the Engine.IO server's routing, CORS, limits and error answers
(:class:`thinkio.engine.EngineServer`), the Socket.IO server (:class:`thinkio.server.Server`)
— with the ASGI server (uvicorn, hypercorn...) in place of thinkio's HTTP and WebSocket
protocols:

* ``lifespan``: the thinkio server runs between startup and shutdown (:mod:`.lifespan`);
* ``http``: each request is served by the handler thinkio's router picks for its path — the
  Engine.IO mount (long-polling, preflights, error JSON), the browser client, a project's
  HTTP routes, its static files (:mod:`.http`);
* ``websocket``: on the Engine.IO path, a session's WebSocket or an upgrade's probe
  (:mod:`.websocket`).

A path thinkio's router does not serve goes to ``other_asgi_app`` (404 without one), so an
:class:`ASGIApp` can wrap a whole Starlette or FastAPI app, or be mounted in one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from ..engine import EngineSocket, WebSocketTransport
from ..errors import ConfigError
from ..http import HttpExchange
from ..server import Server
from .http import AsgiResponder, Response, send_response, serve_http
from .lifespan import run_lifespan
from .request import relative_path, request_from_scope
from .types import ASGIApplication, Receive, Scope, Send
from .websocket import AsgiWebSocket

if TYPE_CHECKING:
    from ..app import App

__all__ = ("ASGIApp", "project")

log = logging.getLogger("thinkio.asgi")

_NOT_RUNNING = (
    b"thinkio is not running: the ASGI lifespan did not start it. Mounted in Starlette or "
    b"FastAPI? Mounted apps get no lifespan: pass lifespan=sio.lifespan to the outer app "
    b"(see docs/asgi.md)."
)


class ASGIApp:
    """A thinkio server (or App) as an ASGI application.

    Args:
        io: the :class:`thinkio.server.Server`, or a :class:`thinkio.App` (its server, HTTP
            routes, browser client and static files).
        other_asgi_app: what serves every other path (404 without one); its lifespan events
            are forwarded.
        socketio_path: where Engine.IO is served, below the mount point (``"socket.io"``,
            slashes optional); default: the server's ``path``.

    Mounted in a Starlette/FastAPI app (``app.mount("/ws", sio)``), it gets no lifespan
    events: give the outer app ``lifespan=sio.lifespan``.

    Raises:
        ConfigError: ``socketio_path`` is empty.
    """

    def __init__(
        self,
        io: Server | App,
        other_asgi_app: ASGIApplication | None = None,
        socketio_path: str | None = None,
    ) -> None:
        #: The thinkio App, when one was given.
        self.app: App | None = None if isinstance(io, Server) else io
        server = io if isinstance(io, Server) else io.io
        self.server = server
        self.other_asgi_app = other_asgi_app
        if socketio_path is None:
            self.engine_path = server.path.rstrip("/")
        else:
            stripped = socketio_path.strip("/")
            if not stripped:
                raise ConfigError("socketio_path: give a path like 'socket.io'")
            self.engine_path = "/" + stripped
            if self.engine_path != server.path.rstrip("/"):
                server.router.mount(
                    self.engine_path, server.engine.handle, max_body=server.limits.max_payload_bytes
                )
        self._warned = False

    def __repr__(self) -> str:
        return f"<ASGIApp {self.engine_path} other={self.other_asgi_app!r}>"

    @property
    def running(self) -> bool:
        """The thinkio server runs (its lifespan started)."""
        return self.server.tasks.running

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await run_lifespan(
                scope, receive, send, start=self._start, stop=self._stop, inner=self.other_asgi_app
            )
        elif self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)

    # -- running ----------------------------------------------------------------------------

    async def _start(self, tg: TaskGroup) -> None:
        if self.app is not None:
            for warning in self.app.startup_warnings():
                log.warning("%s", warning)
        await tg.start(self.server.run)

    async def _stop(self) -> None:
        await self.server.shutdown()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """Run the thinkio server for the life of an outer app that mounts this one:
        ``Starlette(lifespan=sio.lifespan, routes=[Mount("/ws", sio)])``."""
        async with anyio.create_task_group() as tg:
            await self._start(tg)
            try:
                yield
            finally:
                with anyio.CancelScope(shield=True):
                    await self._stop()
                tg.cancel_scope.cancel()

    def _not_running(self) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", _NOT_RUNNING.decode())

    # -- scopes -----------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.server.router
        handler, max_body = router.resolve(relative_path(scope))
        if handler is router.fallback and self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
            return
        if not self.running:
            self._not_running()
            text = (b"content-type", b"text/plain; charset=utf-8")
            await send_response(send, Response(503, [text], _NOT_RUNNING, None))
            return
        request = request_from_scope(scope)
        limit = self.server.limits.max_body_bytes if max_body is None else max_body
        await serve_http(handler, request, limit, scope, receive, send)

    def _is_engine_path(self, path: str) -> bool:
        mount = self.engine_path
        return path == mount or path.startswith(mount + "/")

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._is_engine_path(relative_path(scope)):
            if self.other_asgi_app is not None:
                await self.other_asgi_app(scope, receive, send)
                return
            await receive()
            await send({"type": "websocket.close", "code": 1008, "reason": "not found"})
            return
        if (await receive())["type"] != "websocket.connect":
            return
        if not self.running:
            self._not_running()
            await send({"type": "websocket.close", "code": 1011, "reason": "not running"})
            return
        server = self.server
        engine = server.engine
        request = request_from_scope(scope, websocket=True)
        responder = AsgiResponder(scope)
        exchange = HttpExchange(responder, request)
        opened: list[AsgiWebSocket] = []
        max_message = server.limits.max_payload_bytes

        def opener(esock: EngineSocket, probe: bool) -> WebSocketTransport:
            ws = AsgiWebSocket(engine, esock, probe=probe, max_message=max_message)
            opened.append(ws)
            return ws

        result = engine.handle(request, exchange, opener)
        if result is not None:
            await result
        if opened and opened[0].started:
            await opened[0].run(receive, send)
            return
        await _refuse_websocket(scope, send, responder.response)


async def _refuse_websocket(scope: Scope, send: Send, response: Response | None) -> None:
    """Answer a refused WebSocket handshake: with the Engine.IO server's HTTP answer where
    the ASGI server can send one (the ``websocket.http.response`` extension), else with a
    close before accepting (the ASGI server answers 403)."""
    if response is not None and "websocket.http.response" in (scope.get("extensions") or {}):
        status, headers, body, _ = response
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": "refused"})


def project(root: str | Path = ".", *, other_asgi_app: ASGIApplication | None = None) -> ASGIApp:
    """The thinkio project in ``root`` as an ASGI application: its controllers, its
    ``messages`` and ``http`` maps, its static files. In ``myproj/asgi.py``::

        app = thinkio.asgi.project(Path(__file__).parent)

    then ``uvicorn myproj.asgi:app``.

    Raises:
        ConfigError: not a project, or its configuration is wrong (see
            :meth:`thinkio.App.from_project`).
    """
    from ..app import App

    return ASGIApp(App.from_project(root), other_asgi_app)
