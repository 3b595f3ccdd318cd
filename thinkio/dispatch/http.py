"""HTTP routes next to the sockets: ThinkJS's HTTP controllers, for a thinkio project.

The ``http`` map of ``config/config.py`` routes ``"METHOD /path"`` to an action path::

    http = {"POST /api/notify": "/api/notify"}

``/api/notify`` resolves as a ``messages`` route does (see :mod:`.routes`): the
``notify_action`` method of the :class:`HttpController` subclass in ``controller/api.py``.
The action reads the request on ``self.request`` (:class:`RouteRequest`) and reaches the
Socket.IO server on ``self.io``; what it returns is the answer:

=====================  ===============================================================
return                 answer
=====================  ===============================================================
a dict or a list       200, JSON
a str                  200, ``text/plain; charset=utf-8``
bytes                  200, ``application/octet-stream``
None                   204, no body
``(status, value)``    that status, the value answered as above
=====================  ===============================================================

``raise HttpError(status, message)`` answers ``{"error": message}`` with that status (a
body that is not JSON makes :meth:`RouteRequest.json` raise a 400). Any other exception is
logged and answered 500. A path routed for other methods answers 405 with ``Allow``.

The routes are served by thinkio's own server and under ASGI alike (:mod:`thinkio.asgi`):
both hand requests to the same :class:`~thinkio.http.Router`.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..config import HttpRouteConfig
from ..errors import ConfigError, ThinkioError
from ..http import HttpExchange, HttpHandler, HttpRequest, Router
from ..server import Server
from .routes import action_method

__all__ = (
    "HttpController",
    "HttpControllerLookup",
    "HttpError",
    "HttpRoute",
    "RouteRequest",
    "http_handlers",
    "mount_routes",
    "resolve_http_routes",
)

log = logging.getLogger("thinkio.dispatch")

_JSON = (b"content-type", b"application/json")


class HttpError(ThinkioError):
    """Raise in an HTTP action to answer ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RouteRequest:
    """The request an HTTP action serves (``self.request``)."""

    __slots__ = ("_request",)

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def path(self) -> str:
        return self._request.path

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the last of repeated names wins)."""
        return self._request.query

    @property
    def headers(self) -> dict[str, str]:
        """Headers, names lower-cased."""
        return self._request.headers

    @property
    def body(self) -> bytes:
        return self._request.body

    @property
    def address(self) -> str:
        """The client's IP address."""
        return self._request.client[0]

    def text(self) -> str:
        """The body as UTF-8 text.

        Raises:
            HttpError: 400, the body is not UTF-8.
        """
        try:
            return self._request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HttpError(400, f"the body is not UTF-8: {exc}") from None

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            HttpError: 400, the body is not JSON.
        """
        try:
            return json.loads(self._request.body)
        except ValueError as exc:
            raise HttpError(400, f"the body is not JSON: {exc}") from None


class HttpController:
    """Base class of HTTP controllers (see the module docstring).

    Args:
        io: the Socket.IO server.
        request: the request.
    """

    #: False here: HTTP controllers serve HTTP requests (ThinkJS's ``isWebsocket``).
    is_websocket: bool = False

    def __init__(self, io: Server, request: RouteRequest) -> None:
        #: The Socket.IO server: ``await self.io.emit(...)`` reaches every socket.
        self.io = io
        #: The request.
        self.request = request

    @property
    def logger(self) -> logging.Logger:
        """A logger named after the controller's module."""
        return logging.getLogger(f"thinkio.controller.{type(self).__module__.rpartition('.')[2]}")


#: ``name -> HttpController subclass``; raises LookupError (with the reason) if unknown.
HttpControllerLookup = Callable[[str], type[HttpController]]


@dataclass(frozen=True, slots=True)
class HttpRoute:
    """One entry of the ``http`` map, resolved to a controller method."""

    method: str
    path: str
    action: str
    controller: type[HttpController]
    #: ``"notify_action"``.
    function: str


def resolve_http_routes(
    routes: Iterable[HttpRouteConfig], lookup: HttpControllerLookup
) -> tuple[HttpRoute, ...]:
    """Every route of the ``http`` map, resolved.

    Raises:
        ConfigError: a controller or method is missing; the message names the route.
    """
    out = []
    for route in routes:
        where = f"{route.where}: {route.action!r}"
        name, _, action = route.action.strip("/").rpartition("/")
        try:
            cls = lookup(name)
        except LookupError as exc:
            raise ConfigError(f"{where}: HTTP controller {name!r} not found: {exc}") from None
        function = action_method(action)
        if not callable(getattr(cls, function, None)):
            raise ConfigError(
                f"{where}: HTTP controller {name!r} ({cls.__qualname__}) has no method "
                f"{function}() for the action {action!r}"
            )
        out.append(HttpRoute(route.method, route.path, route.action, cls, function))
    return tuple(out)


def _answer(exchange: HttpExchange, result: Any) -> None:
    status = 200
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        status, result = result
    if result is None:
        exchange.respond(204 if status == 200 else status, [])
    elif isinstance(result, str):
        exchange.respond(status, [(b"content-type", b"text/plain; charset=utf-8")], result.encode())
    elif isinstance(result, bytes):
        exchange.respond(status, [(b"content-type", b"application/octet-stream")], result)
    else:
        exchange.respond(status, [_JSON], json.dumps(result).encode())


def http_handlers(io: Server, routes: Iterable[HttpRoute]) -> dict[str, HttpHandler]:
    """One HTTP handler per routed path (mount each at its path: :func:`mount_routes`)."""
    by_path: dict[str, dict[str, HttpRoute]] = {}
    for route in routes:
        by_path.setdefault(route.path, {})[route.method] = route
    return {path: _handler(io, path, methods) for path, methods in by_path.items()}


def mount_routes(router: Router, io: Server, routes: Iterable[HttpRoute]) -> None:
    """Mount the handlers of ``routes`` on ``router``."""
    for path, handler in http_handlers(io, routes).items():
        router.mount(path, handler)


def _handler(io: Server, path: str, methods: dict[str, HttpRoute]) -> HttpHandler:
    allow = ", ".join(sorted(methods)).encode()
    not_found = (404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")

    async def serve(request: HttpRequest, exchange: HttpExchange) -> None:
        if (request.path.rstrip("/") or "/") != path:
            exchange.respond(*not_found)  # a mount serves what is below it: not here
            return
        route = methods.get(request.method)
        if route is None:
            exchange.respond(405, [(b"allow", allow)])
            return
        controller = route.controller(io, RouteRequest(request))
        try:
            result = getattr(controller, route.function)()
            if inspect.isawaitable(result):
                result = await result
            _answer(exchange, result)
        except HttpError as exc:
            exchange.respond(exc.status, [_JSON], json.dumps({"error": exc.message}).encode())
        except Exception:
            log.exception("HTTP action %s failed on %s %s", route.action, request.method, path)
            exchange.respond(500, [_JSON], b'{"error":"internal server error"}')

    return serve
