"""Sticky routing: which worker owns a session, read from its sid and the first request head.

Every worker gives its sessions ids that start with its index and a dot (``"2.Xq3..."``,
:func:`sid_prefix`), through :class:`~thinkio.server.EngineServer`'s ``sid_prefix``. The
rest of the sid is base64url, which has no dot, so the prefix is unambiguous. Routing then
needs no table shared between processes and no client address: a request names its session
in the query (PROTOCOL.md 1.1, ``sid=``), and the sid names its owner.

SockJS (the ``sockjs`` type, :mod:`thinkio.plain.sockjs`) names its session in the path
instead, ``{prefix}/<server>/<session>/<transport>``, and the *client* picks it, so it cannot
name a worker: such a request goes to the worker :func:`session_owner` computes from the
session id (a hash, the same in every process). The supervisor learns the prefix from
the workers (the app's ``sockjs`` path, in their ``ready`` frame); without one, nothing
about SockJS is looked at.

The :class:`ConnectionRouter` accepts connections, reads each one's first request head with
:func:`peek_head` (never further than one read past it) and passes the connection on.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import parse_qsl

import anyio
from anyio.abc import TaskGroup

from .channel import Channel

__all__ = (
    "HEAD_END",
    "UNAVAILABLE",
    "ConnectionRouter",
    "owner_of",
    "peek_head",
    "rebuild_head",
    "session_owner",
    "sid_from_head",
    "sid_prefix",
    "sockjs_session",
    "target_from_head",
)

#: What ends an HTTP/1.1 request head (RFC 9112 2.1).
HEAD_END = b"\r\n\r\n"
_SEPARATOR = "."
#: Most digits a worker index may have in a sid (keeps hostile sids cheap to reject).
_MAX_INDEX_DIGITS = 4
_READ_SIZE = 65536
_UNAVAILABLE_BODY = b'{"code":3,"message":"No worker available"}'
#: The whole answer when no worker is serving (all are restarting).
UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_UNAVAILABLE_BODY)
) + _UNAVAILABLE_BODY

log = logging.getLogger("thinkio.cluster")


def sid_prefix(index: int) -> str:
    """The prefix of every session id worker ``index`` creates."""
    return f"{index}{_SEPARATOR}"


def owner_of(sid: str, workers: int) -> int | None:
    """The index of the worker that created ``sid``, or None if no worker could have."""
    head, sep, rest = sid.partition(_SEPARATOR)
    if not sep or not rest or not head or len(head) > _MAX_INDEX_DIGITS:
        return None
    if not (head.isascii() and head.isdigit()):
        return None
    index = int(head)
    return index if index < workers else None


def _head_end(data: bytes) -> int:
    """Where the first request head ends in ``data`` (after its blank line), or -1.

    Blank lines before a request are skipped, as h11 does (RFC 9112 2.2). A bare LF ends a
    line too, as h11 accepts it.
    """
    start = len(data) - len(data.lstrip(b"\r\n"))
    crlf = data.find(HEAD_END, start)
    lf = data.find(b"\n\n", start)
    ends = [i + 4 for i in (crlf,) if i >= 0] + [i + 2 for i in (lf,) if i >= 0]
    return min(ends) if ends else -1


def sid_from_head(data: bytes) -> str | None:
    """The ``sid`` query parameter of the first request in ``data``, if any."""
    start = len(data) - len(data.lstrip(b"\r\n"))
    line_end = data.find(b"\n", start)
    line = data[start : line_end if line_end >= 0 else len(data)].rstrip(b"\r")
    parts = line.split(b" ")
    if len(parts) != 3:
        return None
    _, _, query = parts[1].partition(b"?")
    if b"sid=" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key == "sid":
            return value
    return None


def target_from_head(data: bytes) -> str | None:
    """The request target of the first request in ``data`` (as sent), if its request line
    is well formed."""
    start = len(data) - len(data.lstrip(b"\r\n"))
    line_end = data.find(b"\n", start)
    line = data[start : line_end if line_end >= 0 else len(data)]
    parts = line.rstrip(b"\r").split(b" ")
    return parts[1].decode("latin-1") if len(parts) == 3 else None


def sockjs_session(path: str, prefix: str) -> str | None:
    """The session id of a SockJS session route (``{prefix}/<server>/<session>/<transport>``,
    a query string allowed), or None for any other path."""
    path = path.partition("?")[0]
    if not path.startswith(prefix) or path[len(prefix) : len(prefix) + 1] != "/":
        return None
    parts = path[len(prefix) + 1 :].split("/")
    if len(parts) < 3 or not all(parts[:3]) or "." in parts[0] or "." in parts[1]:
        return None
    return parts[1]


def session_owner(session: str, workers: int) -> int:
    """The worker a session named by its client (SockJS) belongs to: the same in every
    process (a BLAKE2 digest of the id, not Python's per-process ``hash``; a CRC would split
    ids that differ in one character unevenly)."""
    digest = hashlib.blake2b(session.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % workers


def rebuild_head(
    method: str, target: str, http_version: str, headers: list[tuple[bytes, bytes]]
) -> bytes:
    """Serialize a parsed request head again, to hand the request to another process.

    Header names come out lower-cased (h11 normalizes them); HTTP does not care.
    """
    lines = [f"{method} {target} HTTP/{http_version}".encode("latin-1")]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + HEAD_END


async def peek_head(sock: socket.socket, limit: int) -> tuple[bytes, bool]:
    """Read from a non-blocking socket until the first request head is complete.

    Args:
        sock: a connected, non-blocking socket that nobody else reads.
        limit: the most bytes to wait for; a longer head is handed on as it is, and the
            worker's HTTP parser answers it (431).

    Returns:
        Every byte read (possibly past the head: a body, a pipelined request), and whether
        the head is complete. Empty bytes: the peer closed or reset before sending anything.
        The caller bounds the time.
    """
    data = b""
    while True:
        try:
            chunk = sock.recv(_READ_SIZE)
        except BlockingIOError:
            await anyio.wait_readable(sock)
            continue
        except OSError:
            return data, False
        if not chunk:
            return data, False
        data += chunk
        if _head_end(data) >= 0:
            return data, True
        if len(data) > limit:
            return data, False


class Worker(Protocol):
    """What the router needs to know of a worker."""

    ready: bool
    channel: Channel | None


class ConnectionRouter:
    """Passes each connection to the worker that owns its session, or round robin.

    Args:
        workers: the workers, by index (the supervisor keeps them up to date).
        head_timeout: seconds a new connection may take to send its first request head.
        head_limit: the most bytes of head to wait for.
    """

    def __init__(self, workers: Sequence[Worker], head_timeout: float, head_limit: int):
        self.workers = workers
        self.head_timeout = head_timeout
        self.head_limit = head_limit
        self._next = 0
        #: The app's SockJS prefix (its session routes stick by session id), or None.
        self.sockjs_path: str | None = None

    async def accept_loop(self, lsock: socket.socket, tg: TaskGroup) -> None:
        """Accept connections on a non-blocking listening socket until cancelled."""
        while True:
            await anyio.wait_readable(lsock)
            while True:
                try:
                    conn, addr = lsock.accept()
                except BlockingIOError:
                    break
                except OSError as exc:  # out of descriptors: back off a little
                    log.warning("accept failed: %s", exc)
                    await anyio.sleep(0.1)
                    break
                tg.start_soon(self._route, conn, addr)

    async def _route(self, conn: socket.socket, addr: Any) -> None:
        try:
            conn.setblocking(False)
            data = b""
            with anyio.move_on_after(self.head_timeout):
                # Complete or not (too long, too slow), what was read goes on: the worker's
                # HTTP parser answers a bad head.
                data, _ = await peek_head(conn, self.head_limit)
            if data and not await self.dispatch(conn.fileno(), data, addr):
                with contextlib.suppress(OSError):
                    conn.send(UNAVAILABLE)
        finally:
            conn.close()  # the worker has its own copy now

    def choose(self, owner: int | None) -> Worker | None:
        """The owner if it is serving, else the next serving worker in turn."""
        if owner is not None and self.workers[owner].ready:
            return self.workers[owner]
        ready = [w for w in self.workers if w.ready]
        if not ready:
            return None
        self._next += 1
        return ready[self._next % len(ready)]

    async def dispatch(self, fd: int, data: bytes, addr: Any) -> bool:
        """Pass a connection and the bytes read from it on; False if no worker is serving.

        The caller still owns ``fd`` and closes it.
        """
        sid = sid_from_head(data)
        owner = owner_of(sid, len(self.workers)) if sid else None
        if owner is None and self.sockjs_path is not None:
            target = target_from_head(data)
            session = sockjs_session(target, self.sockjs_path) if target else None
            if session is not None:
                owner = session_owner(session, len(self.workers))
        ok = isinstance(addr, tuple | list) and len(addr) >= 2
        client = [str(addr[0]), int(addr[1])] if ok else ["", 0]
        for _ in self.workers:
            worker = self.choose(owner)
            if worker is None or worker.channel is None:
                return False
            try:
                await worker.channel.send({"t": "conn", "addr": client}, [data], fd=fd)
                return True
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                worker.ready, owner = False, None  # dying: try another one
        return False
