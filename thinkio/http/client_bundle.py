"""The socket.io browser client at ``/socket.io/socket.io.js``, like Node's ``serveClient``.

The bundle is the official ``socket.io-client`` package from the npm registry, never a copy
kept in git: ``npm install socket.io-client@4`` in a project puts it in
``node_modules/socket.io-client/dist/``, and thinkio serves the files of that folder under the
Engine.IO path (``{path}/socket.io.js``, ``{path}/socket.io.min.js``, their ``.map`` files,
the ``esm`` and ``msgpack`` builds). When it is not installed, those URLs answer 404 with a
text saying how to install it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import anyio

from .exchange import HttpExchange
from .request import HttpRequest
from .router import HttpHandler
from .static import not_found, serve_file

__all__ = ("BUNDLE_FILES", "ClientBundle")

#: The files of ``socket.io-client/dist`` that are served (as Node's socket.io does).
BUNDLE_FILES = frozenset(
    {
        "socket.io.js",
        "socket.io.js.map",
        "socket.io.min.js",
        "socket.io.min.js.map",
        "socket.io.esm.min.js",
        "socket.io.esm.min.js.map",
        "socket.io.msgpack.min.js",
        "socket.io.msgpack.min.js.map",
    }
)
_DIST = Path("node_modules", "socket.io-client", "dist")


class ClientBundle:
    """Finds and serves the installed socket.io browser client.

    Args:
        search: folders to look in, in order; each may hold
            ``node_modules/socket.io-client/dist/``.
    """

    def __init__(self, search: Iterable[str | Path]) -> None:
        self.search = tuple(Path(d).resolve() for d in search)

    def __repr__(self) -> str:
        return f"<ClientBundle in {', '.join(map(str, self.search)) or 'nowhere'}>"

    def find(self) -> Path | None:
        """The ``dist`` folder of the first installed client, or None (blocking: for
        start-up checks; requests use :meth:`locate`)."""
        for folder in self.search:
            dist = folder / _DIST
            if (dist / "socket.io.js").is_file():
                return dist
        return None

    async def locate(self) -> Path | None:
        """The ``dist`` folder of the first installed client, or None.

        Looked up on each request, so an ``npm install`` while the server runs is picked up.
        """
        for folder in self.search:
            dist = folder / _DIST
            if await anyio.Path(dist / "socket.io.js").is_file():
                return dist
        return None

    def missing_text(self) -> str:
        """The 404 text when the client is not installed."""
        where = self.search[0] if self.search else Path("YOUR_PROJECT")
        looked = ", ".join(str(d / _DIST) for d in self.search) or "nowhere"
        return (
            "The socket.io browser client is not installed.\n"
            f"Install it from the npm registry:  cd {where} && npm install socket.io-client@4\n"
            f"(thinkio serves it from node_modules/socket.io-client/dist; looked in: {looked})\n"
        )

    def handler(self, name: str) -> HttpHandler:
        """An HTTP handler serving the file ``name`` of the bundle (GET and HEAD)."""

        async def handle(request: HttpRequest, conn: HttpExchange) -> None:
            if request.method not in ("GET", "HEAD"):
                conn.respond(405, [(b"allow", b"GET, HEAD")])
                return
            await self.serve(name, request, conn)

        return handle

    async def serve(self, name: str, request: HttpRequest, conn: HttpExchange) -> None:
        """Answer a GET or HEAD for ``name`` (one of :data:`BUNDLE_FILES`)."""
        dist = await self.locate()
        if dist is None:
            not_found(conn, self.missing_text())
            return
        await serve_file(request, conn, dist / name, cache_control=b"public, max-age=0")
