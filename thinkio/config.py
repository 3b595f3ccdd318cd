"""Configuration: the ThinkJS WebSocket guide's keys, typed, frozen and checked at start-up.

Two sources give the same :class:`Config`:

* a project directory, the ThinkJS layout in Python (see :mod:`thinkio.project`):
  ``config/config.py`` holds the application keys as module attributes (``host``, ``port``,
  ``sticky_cluster``, ``middleware``, ``static_dir``) and ``config/adapter.py`` holds
  ``websocket = {"type": "socketio", "common": {...}, "socketio": {...}}`` like
  ``src/config/adapter.js``; ``cors`` (HTTP answers, and a socket.io option) may be written
  in either file, not both;
* a plain dict in code, :func:`thinkio.settings.config_from_dict`, where the Socket.IO keys may also be given
  flat: ``{"messages": {...}, "allow_origin": "...", "port": 8360}``.

Keys are snake_case; the ThinkJS / socket.io camelCase spellings are accepted as aliases
(``allowOrigin``, ``stickyCluster``, ``pingInterval``, ``maxHttpBufferSize``, ``allowEIO3``...).
Times are in **milliseconds**, as in socket.io (``ping_interval = 25000``). A wrong key, type or
value raises :class:`~thinkio.errors.ConfigError` naming where the key was written and what was
expected; an unknown key gets a did-you-mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .engine import SessionCookie
from .engineio.options import TRANSPORTS
from .http import CorsOptions, OriginSpec
from .server import Adapter, Namespace, RecoveryOptions, Socket
from .socketio import RESERVED_EVENTS as PROTOCOL_RESERVED_EVENTS
from .websocket.deflate import DeflateOptions

__all__ = (
    "AdapterConfig",
    "AdapterSpec",
    "Config",
    "HttpRouteConfig",
    "Middleware",
    "NamespaceMessages",
    "PlainConfig",
    "SocketIOConfig",
)

#: A connect middleware: ``fn(socket)``, sync or async; raise ConnectRejected to refuse.
Middleware = Callable[[Socket], Any]

#: Event names a ``messages`` map may not route: those a client cannot send as events
#: (the protocol's), and ``connection``, Node's name for the connect event of a namespace.
RESERVED_EVENTS = PROTOCOL_RESERVED_EVENTS | {"connection"}
#: The fixed connect / disconnect events of ThinkJS's ``messages`` map.
OPEN, CLOSE = "open", "close"


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """An adapter named by a dict, e.g. ``{"type": "redis", "url": "redis://..."}``.

    Attributes:
        type: ``"memory"`` (the default in-process adapter) or ``"redis"``.
        options: every other key of the dict, read-only.
    """

    type: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


#: ``None`` (in memory), an Adapter subclass / factory ``Namespace -> Adapter``, or a dict.
AdapterSpec = AdapterConfig | Callable[[Namespace], Adapter] | None


@dataclass(frozen=True, slots=True)
class NamespaceMessages:
    """The ``messages`` map of one namespace: event name -> action path.

    Attributes:
        namespace: the Socket.IO namespace, ``"/"`` unless the map said otherwise; a compiled
            pattern for dynamic namespaces (every name it finds, :meth:`Server.of`).
        messages: ``(event, "/controller/action")`` pairs, in the order they were written.
    """

    namespace: str | re.Pattern[str]
    messages: tuple[tuple[str, str], ...]
    #: Where the map was written, for error messages.
    where: str = field(default="messages", compare=False)


@dataclass(frozen=True, slots=True)
class HttpRouteConfig:
    """One entry of the ``http`` map: ``"POST /api/notify": "/api/notify"``.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        path: the exact URL path served (``/api/notify``).
        action: the action path, ``"/api/notify"`` (controller ``api``, ``notify_action``).
    """

    method: str
    path: str
    action: str
    #: Where the entry was written, for error messages.
    where: str = field(default="http", compare=False)


@dataclass(frozen=True, slots=True)
class SocketIOConfig:
    """The ``websocket["socketio"]`` section: the Socket.IO server's options."""

    #: Where Engine.IO is served; clients must use the same path.
    path: str = "/socket.io"
    #: Allowed browser origins (see :mod:`thinkio.http.origins`); None: every origin.
    allow_origin: OriginSpec = None
    #: Node's ``cors`` options (see :mod:`thinkio.http.cors`); None: the safe defaults
    #: (every origin, never with credentials). ``cors.origin`` and ``allow_origin``: one.
    cors: CorsOptions | None = None
    #: How broadcasts reach other processes: None is the in-memory adapter.
    adapter: AdapterSpec = None
    #: The event -> action maps, one per namespace.
    messages: tuple[NamespaceMessages, ...] = ()
    #: Milliseconds between server pings (socket.io's pingInterval).
    ping_interval: int = 25_000
    #: Milliseconds to wait for a pong (pingTimeout).
    ping_timeout: int = 20_000
    #: Milliseconds a polling -> WebSocket upgrade may take (upgradeTimeout).
    upgrade_timeout: int = 10_000
    #: Milliseconds a client has to join a namespace after the handshake (connectTimeout).
    connect_timeout: int = 45_000
    #: Largest POST body / WebSocket message, in bytes (maxHttpBufferSize).
    max_http_buffer_size: int = 1_000_000
    #: Enabled transports.
    transports: tuple[str, ...] = TRANSPORTS
    #: Accept socket.io-client 2.x (Engine.IO v3), the client of the ThinkJS guide.
    allow_eio3: bool = False
    #: Connection state recovery (socket.io's connectionStateRecovery); None: off. In the
    #: config files: ``True`` or ``{"max_disconnection_duration": 120_000 (ms),
    #: "skip_middlewares": True}`` (Node's camelCase keys too).
    connection_state_recovery: RecoveryOptions | None = None
    #: Serve the browser client at ``{path}/socket.io.js`` (socket.io's serveClient).
    serve_client: bool = True
    #: Folder whose ``node_modules/socket.io-client`` holds that client (npm installs it);
    #: None: the project directory (or the working directory for an App built in code).
    client_dir: Path | None = None
    #: The Socket.IO parser: "default" or "msgpack" (npm socket.io-msgpack-parser).
    parser: str = "default"
    #: WebSocket permessage-deflate; None: off (Node's default).
    per_message_deflate: DeflateOptions | None = None
    #: Prometheus metrics (``{"path": "/metrics"}``, see :mod:`thinkio.server.metrics`);
    #: None: off.
    metrics: dict[str, Any] | None = None
    #: Node's ``cookie`` option: a cookie with the session id for sticky load balancers
    #: (see :class:`thinkio.engine.SessionCookie`); None: no cookie.
    cookie: SessionCookie | None = None

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`thinkio.server.Server` (times in seconds)."""
        return {
            "path": self.path,
            "allow_origin": self.allow_origin,
            "cors": self.cors,
            "ping_interval": self.ping_interval / 1000,
            "ping_timeout": self.ping_timeout / 1000,
            "upgrade_timeout": self.upgrade_timeout / 1000,
            "connect_timeout": self.connect_timeout / 1000,
            "max_http_buffer_size": self.max_http_buffer_size,
            "transports": self.transports,
            "allow_eio3": self.allow_eio3,
            "connection_state_recovery": self.connection_state_recovery,
            "parser": self.parser,
            "per_message_deflate": self.per_message_deflate,
            "metrics": self.metrics,
            "cookie": self.cookie,
        }


@dataclass(frozen=True, slots=True)
class PlainConfig:
    """The ``ws`` and ``sockjs`` types' own settings (see :mod:`thinkio.plain`).

    Their shared ones are in :class:`SocketIOConfig` (the websocket section): ``path``,
    ``allow_origin``, ``cors``, ``messages``, ``max_http_buffer_size`` (the largest client
    message: larger closes with 1009).
    """

    #: ``"ws"`` (a plain WebSocket, think-websocket-ws) or ``"sockjs"`` (the SockJS protocol).
    type: str = "ws"
    #: The most clients at once (more: 503 before the 101); None: the server's own limit.
    max_connections: int | None = None
    #: Milliseconds between SockJS heartbeat frames (sockjs-node's ``heartbeat_delay``).
    heartbeat_delay: int = 25_000
    #: Milliseconds a SockJS session outlives its last receiving request (``disconnect_delay``).
    disconnect_delay: int = 5_000
    #: Bytes one SockJS streaming response carries before the client opens the next one
    #: (``response_limit``).
    response_limit: int = 128 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    """A whole thinkio application's configuration."""

    #: Interface to listen on (ThinkJS: ``host``); 127.0.0.1 unless said otherwise.
    host: str = "127.0.0.1"
    #: Port to listen on (ThinkJS: ``port``); 0 picks a free one.
    port: int = 8360
    #: Several worker processes with sticky sessions (ThinkJS: ``stickyCluster``).
    sticky_cluster: bool = False
    #: Connect middlewares run for every namespace, in order.
    middleware: tuple[Middleware, ...] = ()
    #: Static files (ThinkJS: ``www/``); None: no static files.
    static_dir: Path | None = None
    #: How ``thinkio run`` logs: ``"text"`` lines or ``"json"`` objects (:mod:`thinkio.logs`);
    #: ``--log-format`` wins over it.
    log_format: str = "text"
    #: The Socket.IO Admin UI (:func:`thinkio.admin.instrument`'s options; ``ui_dir``
    #: defaults to the project directory); None: off.
    admin: dict[str, Any] | None = None
    #: The project directory, when loaded from one.
    root: Path | None = None
    #: HTTP routes next to the sockets: ``"METHOD /path"`` -> an action of an
    #: :class:`~thinkio.dispatch.HttpController` (see docs/asgi.md, "HTTP routes").
    http: tuple[HttpRouteConfig, ...] = ()
    #: The websocket section (the Socket.IO server's options, or the shared ones of ws/sockjs).
    socketio: SocketIOConfig = field(default_factory=SocketIOConfig)
    #: ``websocket["type"]`` ``"ws"`` or ``"sockjs"``: their settings; None: Socket.IO.
    plain: PlainConfig | None = None
