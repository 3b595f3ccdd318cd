"""Mounts: which handler serves a request path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .exchange import HttpExchange
from .request import HttpRequest

__all__ = ("HttpHandler", "Router", "not_found")

#: A request handler. It answers through the exchange (``exchange.respond(...)``), now or
#: later. A plain function runs in the connection's read callback and must not block; one
#: returning an awaitable (an ``async def``) runs in a task of its own.
HttpHandler = Callable[[HttpRequest, HttpExchange], Awaitable[None] | None]


def not_found(request: HttpRequest, exchange: HttpExchange) -> None:
    """The default fallback: 404."""
    exchange.respond(404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")


class Router:
    """Mounts: the longest whose path matches a request's path serves it."""

    def __init__(self, fallback: HttpHandler | None = None) -> None:
        self._mounts: list[tuple[str, HttpHandler, int | None]] = []
        self.fallback: HttpHandler = fallback or not_found
        #: Paths resolved to a mount already (a polling client asks for one path again and
        #: again): bounded, cleared when full and on every mount.
        self._resolved: dict[str, tuple[HttpHandler, int | None]] = {}

    def mount(self, path: str, handler: HttpHandler, *, max_body: int | None = None) -> None:
        """Serve ``path`` and everything below it with ``handler``.

        The longest matching mount wins, whatever the order of mounting: a file mounted at
        ``/socket.io/socket.io.js`` is served before the Engine.IO mount at ``/socket.io``.

        Args:
            path: the URL path prefix.
            handler: the handler.
            max_body: the largest request body it accepts (larger: 413 before it runs);
                None for the server's default.
        """
        self._mounts.append((path.rstrip("/"), handler, max_body))
        self._mounts.sort(key=lambda mount: len(mount[0]), reverse=True)
        self._resolved.clear()

    def resolve(self, path: str) -> tuple[HttpHandler, int | None]:
        """The handler for a request path and its body limit (the fallback if none)."""
        known = self._resolved.get(path)
        if known is not None:
            return known
        for prefix, handler, max_body in self._mounts:
            if (
                path == prefix
                or path.startswith(prefix + "/")
                or (not prefix and path.startswith("/"))
            ):
                if len(self._resolved) >= _RESOLVED_MAX:
                    self._resolved.clear()
                known = self._resolved[path] = (handler, max_body)
                return known
        return self.fallback, None  # not kept: the fallback may be replaced


_RESOLVED_MAX = 256
