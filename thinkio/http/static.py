"""Static files (a ThinkJS project's ``www/``): GET and HEAD, under one root, nothing outside it.

A request path is percent-decoded, split into parts, and refused (404) if any part is ``..``,
``.``, starts with a dot (``.git``, ``.env``; ``.well-known`` is allowed), or holds a
backslash or NUL. What is left is resolved, symlinks followed, and must still be inside the
resolved root: a symlink pointing out of the root is a 404 too. ``/`` and directories serve
their ``index.html``; a directory asked for without its trailing slash is redirected to it,
so relative links in its page work.

Responses carry a content type (``mimetypes`` plus explicit web types), ``ETag`` and
``Last-Modified``; a matching ``If-None-Match`` / ``If-Modified-Since`` gets 304. Files are
read in a worker thread (:mod:`anyio.Path`), so the event loop never blocks on the disk.
"""

from __future__ import annotations

import email.utils
import logging
import mimetypes
import stat
from pathlib import Path
from urllib.parse import quote, unquote

import anyio

from .exchange import HttpExchange
from .request import HttpRequest

__all__ = ("StaticFiles", "content_type", "not_found", "serve_file")

log = logging.getLogger("thinkio.static")

#: Types the platform's mimetypes table may lack or get wrong.
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
_TEXT = b"text/plain; charset=utf-8"


def content_type(path: str | Path) -> str:
    """The Content-Type to serve a file with (``application/octet-stream`` if unknown)."""
    suffix = Path(path).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(str(path), strict=False)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _etag(st_size: int, st_mtime_ns: int) -> str:
    return f'W/"{st_size:x}-{st_mtime_ns:x}"'


def _not_modified(request: HttpRequest, etag: str, mtime: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or etag in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since is not None:
        try:
            when = email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(mtime) <= when
    return False


async def serve_file(
    request: HttpRequest,
    conn: HttpExchange,
    path: Path,
    *,
    cache_control: bytes = b"no-cache",
) -> None:
    """Answer a GET or HEAD with one file (no checks on ``path``: the caller made them).

    A file that vanished meanwhile is a 404.
    """
    try:
        st = await anyio.Path(path).stat()
        body = b"" if request.method == "HEAD" else await anyio.Path(path).read_bytes()
    except OSError:
        not_found(conn)
        return
    etag = _etag(st.st_size, st.st_mtime_ns)
    headers = [
        (b"etag", etag.encode()),
        (b"last-modified", email.utils.formatdate(st.st_mtime, usegmt=True).encode()),
        (b"cache-control", cache_control),
    ]
    if _not_modified(request, etag, st.st_mtime):
        conn.respond(304, headers)
        return
    headers += [
        (b"content-type", content_type(path).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if request.method == "HEAD":
        conn.respond(200, headers, content_length=st.st_size)
    else:
        conn.respond(200, headers, body)


def not_found(conn: HttpExchange, text: str = "Not Found") -> None:
    """A plain-text 404."""
    conn.respond(404, [(b"content-type", _TEXT)], text.encode())


class StaticFiles:
    """An HTTP handler serving the files under ``root``.

    Use it as a router's fallback: ``server.router.fallback = StaticFiles("www")``.

    Args:
        root: the directory served at ``/``.
        index: the file served for a directory.
    """

    def __init__(self, root: str | Path, *, index: str = "index.html") -> None:
        self.root = Path(root).resolve()
        self.index = index

    def __repr__(self) -> str:
        return f"<StaticFiles {self.root}>"

    async def __call__(self, request: HttpRequest, conn: HttpExchange) -> None:
        if request.method not in ("GET", "HEAD"):
            conn.respond(
                405,
                [(b"content-type", _TEXT), (b"allow", b"GET, HEAD")],
                b"Method Not Allowed",
            )
            return
        target = await self.locate(request.path)
        if target is None:
            not_found(conn)
        elif isinstance(target, str):
            conn.respond(301, [(b"location", target.encode()), (b"content-type", _TEXT)])
        else:
            await serve_file(request, conn, target)

    async def locate(self, url_path: str) -> Path | str | None:
        """The file a URL path names; a ``str`` is a redirect target; None is a 404."""
        try:
            decoded = unquote(url_path, errors="strict")
        except UnicodeDecodeError:
            return None
        parts = [p for p in decoded.split("/") if p]
        for part in parts:
            if part in (".", "..") or "\\" in part or "\x00" in part:
                return None
            if part.startswith(".") and part != ".well-known":
                return None
        found = await self._inside(anyio.Path(self.root).joinpath(*parts))
        if found is None:
            return None
        resolved, mode = found
        if stat.S_ISDIR(mode):
            if not url_path.endswith("/"):
                # Built from the checked parts, so never "//host" (an open redirect).
                return quote("/" + "/".join(parts), safe="/") + "/"
            index = await self._inside(resolved / self.index)
            return Path(index[0]) if index is not None and stat.S_ISREG(index[1]) else None
        return Path(resolved) if stat.S_ISREG(mode) else None

    async def _inside(self, path: anyio.Path) -> tuple[anyio.Path, int] | None:
        """``path`` resolved (symlinks followed) and its mode, if it exists inside the root."""
        try:
            resolved = await path.resolve(strict=True)
            mode = (await resolved.stat()).st_mode
        except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a bad name
            return None
        if not Path(resolved).is_relative_to(self.root):
            log.info("refused %s: it leads out of %s", path, self.root)
            return None
        return resolved, mode
