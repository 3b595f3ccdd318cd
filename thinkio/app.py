"""``App``: a configured Socket.IO server with controllers, static files and the browser client.

From a project directory (what ``thinkio run DIR`` does)::

    app = App.from_project("myapp")

Or in code, the same objects::

    class Chat(Controller):
        async def open_action(self):
            await self.broadcast("joined", self.websocket.id)

        async def say_action(self):
            await self.broadcast("said", self.ws_data)
            return "ok"                                  # the ack

    app = App(messages={"open": "/chat/open", "say": "/chat/say"}, controllers={"chat": Chat})

    async with anyio.create_task_group() as tg:         # asyncio or trio
        address = await tg.start(app.serve, "127.0.0.1", 8360)
        ...
        await app.shutdown()

Everything is checked when the App is built: the configuration, and every route of the
``messages`` maps (:class:`~thinkio.errors.ConfigError` names the key or the route). What
looks wrong but need not stop the start (the browser client not installed) is logged as a
warning when :meth:`App.serve` starts (:meth:`App.startup_warnings`).

Besides Engine.IO (``path``) and the static files, an App serves:

* the socket.io browser client at ``{path}/socket.io.js`` (``serve_client``), from the
  project's ``node_modules`` (see :mod:`thinkio.http.client_bundle`);
* ``/thinkio.json``: ``{"path": "/socket.io"}``, the settings a page needs to connect, so
  that a page (the scaffold's ``www/index.html``) follows a change of ``path``.

With ``websocket["type"]`` ``"ws"`` or ``"sockjs"`` (:mod:`thinkio.plain`), the same routes
and controllers serve a plain WebSocket or a SockJS endpoint at ``path`` instead of
Socket.IO (``/thinkio.json`` then says ``{"type": "ws", "path": "/ws"}``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import TaskStatus

from . import loops
from .adapters import redis_adapter_from_options
from .admin import AdminUI, instrument
from .config import AdapterConfig, AdapterSpec, Config, Middleware
from .dispatch import (
    Controller,
    ControllerLookup,
    Dispatcher,
    HttpController,
    HttpControllerLookup,
    HttpRoute,
    PlainDispatcher,
    Route,
    controllers_from,
    mount_routes,
    resolve_http_routes,
    resolve_routes,
)
from .errors import ConfigError
from .http import (
    BUNDLE_FILES,
    ClientBundle,
    CorsPolicy,
    HttpExchange,
    HttpHandler,
    HttpRequest,
    Router,
    StaticFiles,
)
from .plain import PlainHub, SockJSEndpoint, WebSocketEndpoint
from .project import Project
from .runner import run_until_signalled
from .server import Adapter, BoundAddress, Namespace, Server
from .settings import config_from_dict

__all__ = ("SETTINGS_URL", "App")

log = logging.getLogger("thinkio.app")

#: Where an App tells pages its settings (``{"path": ...}``), outside ``path`` on purpose: a
#: page must find it before it knows ``path``.
SETTINGS_URL = "/thinkio.json"


def _adapter_factory(spec: AdapterSpec) -> Callable[[Namespace], Adapter] | None:
    """The adapter factory for a setting; a dict's options are checked now, at start-up."""
    if isinstance(spec, AdapterConfig):
        if spec.type == "memory":
            return None
        if spec.type == "redis":
            return redis_adapter_from_options(spec.options)
        raise ConfigError(
            f"adapter: unknown adapter type {spec.type!r}; expected 'memory' or 'redis', or "
            "an Adapter subclass / factory of your own"
        )
    return spec


def _http_lookup(table: Mapping[str, type[HttpController]] | None) -> HttpControllerLookup:
    """A lookup over a dict of HTTP controller classes."""
    known = dict(table or {})

    def lookup(name: str) -> type[HttpController]:
        cls = known.get(name)
        if cls is None:
            raise LookupError(f"no HTTP controller {name!r} among {sorted(known) or 'none'}")
        if not (isinstance(cls, type) and issubclass(cls, HttpController)):
            raise LookupError(f"{cls!r} is not a thinkio.dispatch.HttpController subclass")
        return cls

    return lookup


class App:
    """A thinkio application: the configuration, the routes and the :class:`Server` they drive.

    Args:
        config: a :class:`Config`, or a dict of settings (see :func:`thinkio.settings.config_from_dict`).
        controllers: controller classes by name (``{"websocket": WebsocketController}``), or
            a function ``name -> class`` raising LookupError for an unknown name.
        http_controllers: the HTTP controllers of the ``http`` map, the same way
            (``{"api": ApiController}``; see :mod:`thinkio.dispatch.http`).
        **options: settings as keywords, merged with a ``config`` dict
            (``App(messages={...}, controllers={...}, allow_origin="...")``); ``cors={...}``
            takes Node's cors options (docs/security.md).

    Raises:
        ConfigError: a setting is wrong, a route does not resolve, or the configured adapter
            is not available.
    """

    def __init__(
        self,
        config: Config | Mapping[str, Any] | None = None,
        /,
        *,
        controllers: Mapping[str, type[Controller]] | ControllerLookup | None = None,
        http_controllers: Mapping[str, type[HttpController]] | HttpControllerLookup | None = None,
        **options: Any,
    ) -> None:
        if isinstance(config, Config):
            if options:
                raise ConfigError(
                    f"App(): give a Config or settings, not both ({', '.join(options)})"
                )
            self.config = config
        else:
            data = dict(config or {})
            for key in options:
                if key in data:
                    raise ConfigError(f"App(): {key!r} is given both in the dict and as a keyword")
            self.config = config_from_dict({**data, **options})
        lookup = controllers if callable(controllers) else controllers_from(controllers or {})
        http_lookup = (
            http_controllers if callable(http_controllers) else _http_lookup(http_controllers)
        )
        socketio = self.config.socketio
        #: Every route of the messages maps, resolved to controller methods.
        self.routes: tuple[Route, ...] = resolve_routes(socketio.messages, lookup)
        #: The Socket.IO server (ThinkJS's ``ctx.io``).
        self.io = Server(**socketio.server_options(), adapter=_adapter_factory(socketio.adapter))
        #: Every route of the ``http`` map, resolved to HTTP controller methods.
        self.http_routes: tuple[HttpRoute, ...] = resolve_http_routes(self.config.http, http_lookup)
        self.dispatcher = Dispatcher(self.io, self.routes)
        #: The ``ws`` / ``sockjs`` endpoint's clients (None for Socket.IO).
        self.hub: PlainHub | None = None
        #: The ``ws`` / ``sockjs`` endpoint (None for Socket.IO).
        self.endpoint: WebSocketEndpoint | SockJSEndpoint | None = None
        if self.config.plain is None:
            self.dispatcher.install()
            for middleware in self.config.middleware:
                self.use(middleware)
        else:
            self.hub = PlainHub(
                self.config.plain.type,
                tasks=self.io.tasks,
                max_clients=self.config.plain.max_connections,
            )
            PlainDispatcher(
                self.hub, self.routes, self.dispatcher, self.config.middleware
            ).install()
        #: The Admin UI's server side (the ``admin`` setting), or None.
        self.admin: AdminUI | None = None
        if self.config.admin is not None:
            try:
                self.admin = instrument(self.io, **self.config.admin)
            except ConfigError as exc:
                raise ConfigError(f"admin: {exc}") from None
        self.io.router = self._router()

    @classmethod
    def from_project(cls, root: str | Path) -> App:
        """Load the project in ``root`` (``config/``, ``controller/``, ``www/``).

        Raises:
            ConfigError: not a project, a module fails to import, a setting is wrong or a
                route does not resolve.
        """
        project = Project(root)
        return cls(
            project.load_config(),
            controllers=project.controller,
            http_controllers=project.http_controller,
        )

    def __repr__(self) -> str:
        return f"<App {len(self.routes)} routes, {self.config.socketio.path}>"

    def _router(self) -> Router:
        """The HTTP routes: Engine.IO (+ the browser client), then static files."""
        cfg = self.config
        static = cfg.static_dir
        if static is not None and not static.is_dir():
            raise ConfigError(f"static_dir: {static} is not a directory")
        router = self.io.router if self.hub is None else Router()  # no Engine.IO mount
        if static is not None:
            router.fallback = StaticFiles(static)
        #: The browser client's files (None with ``serve_client = False``).
        self.client_bundle: ClientBundle | None = None
        if self.hub is not None:
            assert cfg.plain is not None
            section, plain = cfg.socketio, cfg.plain
            common: dict[str, Any] = {
                "path": section.path,
                "cors": CorsPolicy(section.cors, allow_origin=section.allow_origin),
                "limits": self.io.limits,
                "timers": self.io.timers,
                "max_message": section.max_http_buffer_size,
            }
            endpoint: WebSocketEndpoint | SockJSEndpoint
            if plain.type == "ws":
                endpoint = WebSocketEndpoint(self.hub, **common)
            else:
                endpoint = SockJSEndpoint(
                    self.hub,
                    **common,
                    heartbeat_delay=plain.heartbeat_delay / 1000,
                    disconnect_delay=plain.disconnect_delay / 1000,
                    response_limit=plain.response_limit,
                )
            self.endpoint = endpoint
            router.mount(section.path, endpoint.handle, max_body=section.max_http_buffer_size)
        elif cfg.socketio.serve_client:
            # Mounted under the Engine.IO path: the longest mount wins, as in Node's serveClient.
            self.client_bundle = ClientBundle([cfg.socketio.client_dir or Path.cwd()])
            for name in BUNDLE_FILES:
                handler = self.client_bundle.handler(name)
                router.mount(f"{self.io.path.rstrip('/')}/{name}", handler)
        router.mount(SETTINGS_URL, self._settings_handler())
        mount_routes(router, self.io, self.http_routes)
        return router

    def _settings_handler(self) -> HttpHandler:
        page: dict[str, str] = {"path": self.config.socketio.path.rstrip("/") or "/"}
        if self.config.plain is not None:
            page = {"type": self.config.plain.type, **page}
        body = json.dumps(page).encode()
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-cache")]

        def settings(request: HttpRequest, exchange: HttpExchange) -> None:
            if request.method in ("GET", "HEAD"):
                exchange.respond(200, headers, body)  # HEAD: the headers only
            else:
                exchange.respond(405, [(b"allow", b"GET, HEAD")])

        return settings

    def startup_warnings(self) -> list[str]:
        """What looks wrong but does not stop the start; :meth:`serve` logs each one.

        The socket.io browser client not installed while pages may load it (the client
        folder has a ``package.json``, or static files are served): the page would load,
        then never connect, and nothing would say why.
        """
        bundle, socketio = self.client_bundle, self.config.socketio
        if bundle is None or not bundle.search or bundle.find() is not None:
            return []
        folder = bundle.search[0]
        listed = (folder / "package.json").is_file()
        if not listed and self.config.static_dir is None:
            return []  # no page here: an embedded server for non-browser clients
        fix = (
            f"run `npm install` in {folder} (its package.json lists socket.io-client)"
            if listed
            else f"run `npm install socket.io-client@4` in {folder}"
        )
        return [
            f"the socket.io browser client is not installed: {fix}; until then "
            f"{socketio.path.rstrip('/')}/socket.io.js answers 404 and pages that load it "
            "never connect (set serve_client = False if they load it from elsewhere)"
        ]

    # -- hooks ---------------------------------------------------------------------------------

    def use(self, middleware: Middleware, *, namespace: str | None = None) -> Middleware:
        """Add a connect middleware: ``fn(socket)``, sync or async (usable as a decorator).

        It runs before a client joins the namespace; raise
        :class:`~thinkio.errors.ConnectRejected` ``(message, data)`` to refuse: the client gets
        a CONNECT_ERROR with that message and data. Without ``namespace`` it applies to every
        namespace of the messages maps (and ``/``).
        """
        names = [namespace] if namespace is not None else list(self.io.namespaces)
        for name in names:
            self.io.of(name).use(middleware)
        return middleware

    # -- running -------------------------------------------------------------------------------

    async def serve(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        task_status: TaskStatus[BoundAddress] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and serve until :meth:`shutdown` (or cancellation).

        ``await tg.start(app.serve, host, port)`` returns the bound address (the real port
        when 0 was asked for). Host and port default to the configuration's.

        ``sticky_cluster`` is for ``thinkio run`` (a supervisor and worker processes); an
        app started here, in the caller's own program, is one process. See docs/cluster.md.

        Raises:
            PortInUse: the port is taken (inside an exception group, from the task group).
        """
        for warning in self.startup_warnings():
            log.warning("%s", warning)
        await self.io.serve(
            self.config.host if host is None else host,
            self.config.port if port is None else port,
            task_status=task_status,
        )

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        loop: str | None = None,
        backend: str | None = None,
        on_ready: Callable[[BoundAddress], None] | None = None,
    ) -> None:
        """Serve until Ctrl-C (or SIGTERM), then shut down gracefully. Blocks.

        Args:
            host: interface to listen on (default: the configuration's).
            port: port to listen on (default: the configuration's).
            loop: ``"asyncio"``, ``"uvloop"`` or ``"trio"`` (default: uvloop when it is
                installed, else asyncio; see :mod:`thinkio.loops`).
            backend: the earlier name of ``loop``.
            on_ready: called with the bound address once connections are accepted
                (default: print ``thinkio serving on URL (LOOP)``).

        Raises:
            ConfigError: see :meth:`serve`; an unknown loop.
            MissingExtra: the loop's package is not installed (``thinkio[trio]``,
                ``thinkio[speed]``).
            PortInUse: the port is taken.
        """
        if loop is not None and backend is not None and loop != backend:
            raise ConfigError(f"loop={loop!r} and backend={backend!r}: give one of them")
        name = loops.resolve_loop(loop or backend)

        def announce(bound: BoundAddress) -> None:
            print(f"thinkio serving on {bound.url} ({name})", flush=True)

        async def serve(*, task_status: TaskStatus[BoundAddress]) -> None:
            await self.serve(host, port, task_status=task_status)

        run_until_signalled(serve, self.shutdown, loop=name, on_ready=on_ready or announce)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Disconnect every client, let the ``close`` actions run, then stop :meth:`serve`.

        Sessions end without a close packet, as if the connection were lost, so that every
        client reconnects (to the next server on this address: a restart or a deploy); the
        ``close`` actions get ``"server shutting down"``. Waits at most about ``timeout``
        seconds in all.
        """
        if self.hub is not None:
            self.hub.close_all()
            with anyio.move_on_after(timeout):
                await self.hub.wait_all_closed()  # the close actions ran
        await self.io.shutdown(timeout)  # it waits for the queued close actions too
