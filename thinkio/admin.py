"""The server side of the official Socket.IO Admin UI (npm ``@socket.io/admin-ui``).

``instrument(io, auth=...)`` makes a thinkio server speak the dashboard's protocol on a
namespace of its own (``/admin``), as the npm package's ``instrument()`` does for Node:

* on connect: ``session`` (a session id, after a password login), ``config``
  (``{supportedFeatures}``), and in development mode ``all_sockets`` (every socket of every
  namespace, on every server of the cluster);
* every ``stats_interval`` seconds: ``server_stats`` (``serverId``, ``hostname``, ``pid``,
  ``uptime``, ``clientsCount``, ``pollingClientsCount``, ``namespaces`` with their socket
  counts, and ``aggregatedEvents``: connections, disconnections, packets and bytes in and out
  per second);
* in development mode, as they happen: ``socket_connected``, ``socket_disconnected``,
  ``room_joined``, ``room_left``, ``event_received``, ``event_sent`` (an emit to one socket;
  broadcasts are counted in the stats, not reported one by one);
* the dashboard's commands, unless ``readonly``: ``emit``, ``join``, ``leave``,
  ``_disconnect`` (on a namespace, optionally only the sockets of one room).

Every message is a broadcast on the admin namespace, so under ``--workers`` (or with a Redis
adapter) each server reports its own ``server_stats`` and events to a dashboard connected to
any of them, and the dashboard adds them up; ``all_sockets`` fetches the sockets of every
server.

Basic auth checks the handshake's ``auth`` ``{username, password}`` against a bcrypt hash
(the ``bcrypt`` package, ``thinkio[admin]``), in a worker thread (a check takes ~0.1-0.3 s);
the dashboard then reconnects with the session id it was given.

The protocol is hand-written here (it is a handful of event names and payload shapes over
Socket.IO, with no library of its own in Python); the dashboard itself is the npm package's
prebuilt ``ui/dist``, served by :func:`serve_ui` (``instrument(..., ui="/admin")``).

Not reported: ``socket_updated`` (a transport upgrade; the transport shown is the one at
connect or fetch time).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import socket as stdlib_socket
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread

from .adapters.remote import js_date_string
from .errors import ConfigError, ConnectRejected
from .extras import require
from .http import HttpExchange, HttpRequest, StaticFiles, serve_file
from .server import Namespace, Server, Socket
from .server.observer import add_observer

__all__ = ("UI_PACKAGE_DIST", "AdminUI", "instrument", "serve_ui")

log = logging.getLogger("thinkio.admin")

#: Where npm puts the dashboard's files, under a folder with the package installed.
UI_PACKAGE_DIST = Path("node_modules", "@socket.io", "admin-ui", "ui", "dist")
#: Most sessions (dashboard logins) kept; the oldest is forgotten first.
MAX_SESSIONS = 1000
_BCRYPT_HASH = re.compile(r"^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$")
_MODES = ("development", "production")


def _timestamp() -> str:
    """Now, as JavaScript's ``JSON.stringify(new Date())`` writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """``value`` as JSON can carry it (what cannot be shown is shown as its repr)."""
    return json.loads(json.dumps(value, default=repr))


class AdminUI:
    """The Admin UI's side of one server (made by :func:`instrument`; see the module
    docstring). Attributes mirror :func:`instrument`'s arguments."""

    def __init__(
        self,
        io: Server,
        *,
        auth: bool | Mapping[str, Any],
        mode: str = "development",
        namespace_name: str = "/admin",
        server_id: str | None = None,
        readonly: bool = False,
        stats_interval: float = 2.0,
    ) -> None:
        if mode not in _MODES:
            raise ConfigError(f"mode: expected 'development' or 'production', got {mode!r}")
        if not stats_interval > 0:
            raise ConfigError(f"stats_interval: expected seconds > 0, got {stats_interval!r}")
        self.io = io
        self.mode = mode
        self.readonly = readonly
        self.stats_interval = float(stats_interval)
        self._server_id = server_id
        self._credentials = _check_auth(auth)
        self._bcrypt = require("bcrypt", "admin") if self._credentials else None
        self._sessions: OrderedDict[str, None] = OrderedDict()
        self._new_sessions: dict[str, str] = {}
        self._instrumented: set[str] = set()
        self._started = time.monotonic()
        self._opened = io.engine.sessions_opened
        self._open = len(io.engine.sockets)
        self._buffer: dict[tuple[int, str], int] = {}
        self.namespace: Namespace = io.of(namespace_name)
        self.features = self._features()
        ns = self.namespace
        if self._credentials:
            ns.use(self._authenticate)
        ns.on("connect", self._admin_connected)
        if not readonly:
            ns.on("emit", self._emit)
            ns.on("join", self._join)
            ns.on("leave", self._leave)
            ns.on("_disconnect", self._disconnect)
        self.development = mode == "development"
        if self.development:
            self._watch_namespaces()
        io.observer = add_observer(io.observer, self)
        io.timers.call_at(io.clock.now() + self.stats_interval, self._tick)

    def _features(self) -> list[str]:
        features = (
            []
            if self.readonly
            else ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]
        )
        features.append("AGGREGATED_EVENTS")
        if self.mode == "development":
            features.append("ALL_EVENTS")
        return features

    @property
    def server_id(self) -> str:
        """This server's name on the dashboard: the ``server_id`` given, else the host name
        (``host#pid`` in a cluster worker, as Node names its cluster workers)."""
        if self._server_id is not None:
            return self._server_id
        host = stdlib_socket.gethostname()
        return f"{host}#{os.getpid()}" if self.io.engine.sid_prefix else host

    # -- authentication ---------------------------------------------------------------------

    async def _authenticate(self, socket: Socket) -> None:
        assert self._credentials is not None and self._bcrypt is not None
        auth = socket.auth if isinstance(socket.auth, dict) else {}
        session = auth.get("sessionId")
        if isinstance(session, str) and session in self._sessions:
            return
        username, hashed = self._credentials
        password = auth.get("password")
        if auth.get("username") == username and isinstance(password, str):
            matches = await anyio.to_thread.run_sync(
                self._bcrypt.checkpw, password.encode(), hashed
            )
            if matches:
                session = secrets.token_hex(8)
                self._sessions[session] = None
                while len(self._sessions) > MAX_SESSIONS:
                    self._sessions.popitem(last=False)
                self._new_sessions[socket.id] = session
                return
        log.info("admin: invalid credentials from %s", socket.handshake.address)
        raise ConnectRejected("invalid credentials")

    # -- the dashboard's socket -------------------------------------------------------------

    async def _admin_connected(self, socket: Socket) -> None:
        session = self._new_sessions.pop(socket.id, None)
        if session is not None:
            socket.emit_nowait("session", session)
        socket.emit_nowait("config", {"supportedFeatures": self.features})
        socket.emit_nowait("server_stats", self.stats(consume=False))
        if self.development:
            sockets = await self.all_sockets()
            if socket.connected:
                socket.emit_nowait("all_sockets", sockets)

    async def all_sockets(self) -> list[dict[str, Any]]:
        """Every socket of every namespace, on every server, as the dashboard shows one."""
        found: list[dict[str, Any]] = []
        for name, ns in list(self.io.namespaces.items()):
            for socket in await ns.fetch_sockets():
                found.append(self.serialize(socket, name))
        return found

    def serialize(self, socket: Any, nsp: str) -> dict[str, Any]:
        """One socket (local, or another server's) as the dashboard's ``SerializedSocket``."""
        if isinstance(socket, Socket):
            hs = socket.handshake
            handshake: dict[str, Any] = {
                "address": hs.address,
                "headers": hs.headers,
                "query": hs.query,
                "issued": hs.issued,
                "secure": hs.secure,
                "time": js_date_string(hs.issued),
                "url": hs.url,
                "xdomain": hs.xdomain,
            }
            client_id = socket.driver.esock.sid[:12]
            transport = socket.transport
        else:  # a RemoteSocket: what its server described
            handshake = {k: v for k, v in dict(socket.handshake).items() if k != "auth"}
            client_id, transport = socket.id[:12], None
        headers = handshake.get("headers") or {}
        forwarded = headers.get("cf-connecting-ip") or headers.get("x-forwarded-for")
        if forwarded:
            handshake["address"] = forwarded
        data = socket.data if isinstance(socket.data, dict) else {}
        return {
            "id": socket.id,
            "clientId": client_id,
            "transport": transport,
            "nsp": nsp,
            "data": _plain(data),
            "handshake": _plain(handshake),
            "rooms": sorted(socket.rooms),
        }

    # -- the dashboard's commands (not in readonly mode) ------------------------------------

    def _target(self, nsp: Any, filter_: Any) -> Any:
        """The namespace (or its sockets in room ``filter_``) a command names; None if it
        names none (the dashboard never creates a namespace)."""
        ns = self.io.namespaces.get(nsp) if isinstance(nsp, str) else None
        if ns is None:
            log.info("admin: command for unknown namespace %r ignored", nsp)
            return None
        if isinstance(filter_, str) and filter_:
            return ns.in_(filter_)
        return ns

    async def _emit(self, socket: Socket, nsp: Any = None, filter_: Any = None, *args: Any) -> None:
        target = self._target(nsp, filter_)
        if target is not None and args and isinstance(args[0], str):
            await target.emit(args[0], *args[1:])

    async def _join(self, socket: Socket, nsp: Any = None, room: Any = None, f: Any = None) -> None:
        target = self._target(nsp, f)
        if target is not None and isinstance(room, str):
            await target.sockets_join(room)

    async def _leave(
        self, socket: Socket, nsp: Any = None, room: Any = None, f: Any = None
    ) -> None:
        target = self._target(nsp, f)
        if target is not None and isinstance(room, str):
            await target.sockets_leave(room)

    async def _disconnect(
        self, socket: Socket, nsp: Any = None, close: Any = False, f: Any = None
    ) -> None:
        target = self._target(nsp, f)
        if target is not None:
            await target.disconnect_sockets(bool(close))

    # -- development mode: every connection, room change and event --------------------------

    def _watch_namespaces(self) -> None:
        """Listen on every namespace not listened on yet (new ones are found at each tick)."""
        for name, ns in list(self.io.namespaces.items()):
            if name in self._instrumented:
                continue
            self._instrumented.add(name)
            ns.on("connect", self._socket_connected)
            ns.on("disconnect", self._socket_disconnected)
            if ns is not self.namespace:
                ns.on_any(self._event_received)
            ns.adapter.room_listener = self._room_listener(name)

    def _broadcast(self, event: str, *args: Any) -> None:
        try:
            self.namespace.emit_nowait(event, *args)
        except Exception:  # what the app put in socket.data, say: never the app's problem
            log.exception("admin: %s could not be sent", event)

    def _socket_connected(self, socket: Socket) -> None:
        nsp = socket.namespace.name
        self._broadcast("socket_connected", self.serialize(socket, nsp), _timestamp())

    def _socket_disconnected(self, socket: Socket, reason: str) -> None:
        nsp = socket.namespace.name
        self._broadcast("socket_disconnected", nsp, socket.id, reason, _timestamp())

    def _event_received(self, socket: Socket, event: str, *args: Any) -> None:
        nsp = socket.namespace.name
        self._broadcast("event_received", nsp, socket.id, [event, *args], _timestamp())

    def _room_listener(self, nsp: str) -> Any:
        def changed(kind: str, room: str, sid: str) -> None:
            event = "room_joined" if kind == "join" else "room_left"
            self._broadcast(event, nsp, room, sid, _timestamp())

        return changed

    # -- aggregated events (a ServerObserver) and server_stats ------------------------------

    def _count(self, kind: str, count: int) -> None:
        second = int(time.time()) * 1000
        key = (second, kind)
        self._buffer[key] = self._buffer.get(key, 0) + count

    def messages_in(self, count: int, size: int) -> None:
        self._count("packetsIn", count)
        self._count("bytesIn", size)

    def messages_out(self, count: int, size: int) -> None:
        self._count("packetsOut", count)
        self._count("bytesOut", size)

    def broadcast(self, recipients: int, messages: int, size: int) -> None:
        self.messages_out(recipients * messages, recipients * size)

    def ack_answered(self, seconds: float) -> None:
        pass

    def event_sent(self, namespace: str, sid: str, args: list[Any]) -> None:
        if self.development and namespace != self.namespace.name:
            self._broadcast("event_sent", namespace, sid, list(args), _timestamp())

    def stats(self, *, consume: bool = True) -> dict[str, Any]:
        """This server's ``server_stats``; ``consume`` takes the aggregated events (the
        periodic report does; the one sent to a dashboard as it connects does not)."""
        engine = self.io.engine
        sessions = list(engine.sockets.values())
        events: list[dict[str, Any]] = []
        if consume:
            opened, open_now = engine.sessions_opened, len(sessions)
            now = int(time.time()) * 1000
            new = opened - self._opened
            gone = new - (open_now - self._open)
            self._opened, self._open = opened, open_now
            for kind, count in (("rawConnection", new), ("rawDisconnection", gone)):
                if count > 0:
                    events.append({"timestamp": now, "type": kind, "count": count})
            for (second, kind), count in sorted(self._buffer.items()):
                events.append({"timestamp": second, "type": kind, "count": count})
            self._buffer.clear()
        return {
            "serverId": self.server_id,
            "hostname": stdlib_socket.gethostname(),
            "pid": os.getpid(),
            "uptime": time.monotonic() - self._started,
            "clientsCount": len(sessions),
            "pollingClientsCount": sum(s.transport == "polling" for s in sessions),
            "aggregatedEvents": events,
            "namespaces": [
                {"name": name, "socketsCount": len(ns.sockets)}
                for name, ns in self.io.namespaces.items()
            ],
        }

    def _tick(self, now: float) -> None:
        self.io.timers.call_at(now + self.stats_interval, self._tick)
        if self.development:
            self._watch_namespaces()
        # A cluster adapter's publish needs the server's tasks: none while it does not run.
        with contextlib.suppress(RuntimeError):
            self.namespace.emit_nowait("server_stats", self.stats())


def _check_auth(auth: Any) -> tuple[str, bytes] | None:
    """``False`` (no auth) or ``{"type": "basic", "username", "password": bcrypt hash}``."""
    if auth is False:
        log.warning("admin: authentication is disabled, please use with caution")
        return None
    if not isinstance(auth, Mapping):
        raise ConfigError(
            "auth: give {'type': 'basic', 'username': ..., 'password': <bcrypt hash>}, "
            f"or False to allow anyone (Node's instrument() asks the same), got {auth!r}"
        )
    unknown = set(auth) - {"type", "username", "password"}
    if unknown or auth.get("type", "basic") != "basic":
        raise ConfigError(f"auth: only basic auth {{type, username, password}}, got {auth!r}")
    username, password = auth.get("username"), auth.get("password")
    if not isinstance(username, str) or not username:
        raise ConfigError(f"auth.username: expected a non-empty string, got {username!r}")
    if not isinstance(password, str | bytes) or not _BCRYPT_HASH.match(
        password.decode() if isinstance(password, bytes) else password
    ):
        raise ConfigError(
            "auth.password: expected a bcrypt hash ($2b$12$...), not the password itself: "
            "python -c \"import bcrypt; print(bcrypt.hashpw(b'secret', bcrypt.gensalt()))\""
        )
    return username, password.encode() if isinstance(password, str) else password


def instrument(
    io: Server,
    *,
    auth: bool | Mapping[str, Any],
    mode: str = "development",
    namespace_name: str = "/admin",
    server_id: str | None = None,
    readonly: bool = False,
    stats_interval: float = 2.0,
    ui: str | None = None,
    ui_dir: str | Path | None = None,
) -> AdminUI:
    """Let the Socket.IO Admin UI watch (and, unless ``readonly``, act on) ``io``.

    Args:
        io: the server (``app.io`` for an :class:`thinkio.App`).
        auth: ``{"type": "basic", "username": "admin", "password": <bcrypt hash>}``, or
            ``False`` to let anyone in (required, as in Node).
        mode: ``"development"`` reports every socket, room change and event;
            ``"production"`` only ``server_stats`` (cheap: no handler on your events).
        namespace_name: the dashboard's namespace.
        server_id: this server's name on the dashboard (default: the host name).
        readonly: refuse the dashboard's commands (emit, join, leave, disconnect).
        stats_interval: seconds between ``server_stats`` reports (Node: 2).
        ui: also serve the dashboard's files at this URL path (``"/admin"``); see
            :func:`serve_ui`.
        ui_dir: the folder where ``npm install @socket.io/admin-ui`` ran (default: the
            working directory), or the package's ``ui/dist`` itself.

    Raises:
        ConfigError: a wrong option, or ``ui`` asked for and the dashboard not installed.
        MissingExtra: basic auth without the ``bcrypt`` package (``thinkio[admin]``).
    """
    admin = AdminUI(
        io,
        auth=auth,
        mode=mode,
        namespace_name=namespace_name,
        server_id=server_id,
        readonly=readonly,
        stats_interval=stats_interval,
    )
    if ui is not None:
        serve_ui(io, ui, ui_dir)
    return admin


def find_ui(ui_dir: str | Path | None = None) -> Path:
    """The dashboard's ``ui/dist`` folder under ``ui_dir`` (or ``ui_dir`` itself).

    Raises:
        ConfigError: it is not there (the message says how to install it).
    """
    base = Path(ui_dir) if ui_dir is not None else Path.cwd()
    for candidate in (base, base / UI_PACKAGE_DIST):
        if (candidate / "index.html").is_file():
            return candidate.resolve()
    raise ConfigError(
        f"the Admin UI is not installed in {base}: run `npm install @socket.io/admin-ui` "
        "there (its ui/dist folder is the dashboard)"
    )


def serve_ui(io: Server, path: str = "/admin", ui_dir: str | Path | None = None) -> None:
    """Serve the Admin UI's dashboard (``@socket.io/admin-ui``'s ``ui/dist``) at ``path``.

    ``path`` redirects to ``path + "/"``, where the dashboard's ``index.html`` is.

    Raises:
        ConfigError: ``path`` is not absolute, or the dashboard is not installed.
    """
    if not path.startswith("/") or path.rstrip("/") in ("", io.path.rstrip("/")):
        raise ConfigError(f"ui: expected a URL path like '/admin', got {path!r}")
    prefix = path.rstrip("/")
    files = StaticFiles(find_ui(ui_dir))

    async def dashboard(request: HttpRequest, exchange: HttpExchange) -> None:
        if request.method not in ("GET", "HEAD"):
            exchange.respond(405, [(b"allow", b"GET, HEAD")])
            return
        rest = request.path[len(prefix) :]
        if not rest:
            exchange.respond(301, [(b"location", (prefix + "/").encode())])
            return
        found = await files.locate(rest)
        if isinstance(found, Path):
            await serve_file(request, exchange, found)
        else:
            exchange.respond(404, [(b"content-type", b"text/plain; charset=utf-8")], b"Not Found")

    io.mount(prefix, dashboard)
