"""An ASGI ``http`` or ``websocket`` scope as the :class:`thinkio.http.HttpRequest` thinkio's
handlers read (the Engine.IO server, the HTTP routes, the static files)."""

from __future__ import annotations

from ..http import HttpRequest
from ..http.request import decode_headers, parse_query
from .types import Scope

__all__ = ("relative_path", "request_from_scope")


def relative_path(scope: Scope) -> str:
    """The scope's path below its ``root_path`` (where it is mounted: Starlette's ``Mount``
    puts the full path in ``path`` and the mount point in ``root_path``), still
    percent-encoded (from ``raw_path`` when the server gives it) as thinkio's handlers expect."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1").partition("?")[0] if raw else str(scope.get("path", "/"))
    root = str(scope.get("root_path") or "")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    return path or "/"


def request_from_scope(scope: Scope, *, websocket: bool = False) -> HttpRequest:
    """The request of a scope (no body yet). A WebSocket scope's request carries the
    ``Upgrade`` headers an HTTP/1.1 handshake has (an HTTP/2 one, RFC 8441, has none), so
    the Engine.IO server sees a WebSocket request either way."""
    path = relative_path(scope)
    query_string = bytes(scope.get("query_string") or b"").decode("latin-1")
    raw = [(bytes(name).lower(), bytes(value)) for name, value in scope.get("headers", ())]
    headers = decode_headers(raw)
    if websocket:
        headers["upgrade"] = "websocket"
        if "upgrade" not in headers.get("connection", "").lower():
            headers["connection"] = "Upgrade"
    client = scope.get("client") or ("", 0)
    return HttpRequest(
        method="GET" if websocket else str(scope.get("method", "GET")),
        target=f"{path}?{query_string}" if query_string else path,
        path=path,
        query=parse_query(query_string) if query_string else {},
        headers=headers,
        raw_headers=raw,
        client=(str(client[0]), int(client[1])),
        http_version=str(scope.get("http_version", "1.1")),
    )
