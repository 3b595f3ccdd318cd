"""Reading and checking configuration values into a :class:`thinkio.config.Config`.

:func:`config_from_dict` builds one from a dict (code); :func:`config_from_sources` from a
project's ``config/config.py`` and ``config/adapter.py``.

Every check takes ``where`` (how the error message names the key: ``"config/adapter.py:
websocket.socketio.allowOrigin"``) and the value, and returns the typed value or raises
:class:`~thinkio.errors.ConfigError` saying what was expected.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .config import (
    RESERVED_EVENTS,
    AdapterConfig,
    Config,
    HttpRouteConfig,
    Middleware,
    NamespaceMessages,
    PlainConfig,
    SocketIOConfig,
)
from .engine import SessionCookie
from .engineio.options import TRANSPORTS
from .errors import ConfigError
from .http import CorsOptions, CorsPolicy, OriginPolicy, OriginSpec
from .logs import LOG_FORMATS
from .server import Adapter, Namespace, RecoveryOptions
from .server.metrics import metrics_options
from .socketio.parsers import PARSERS
from .websocket.deflate import DeflateOptions, deflate_options

#: Below this many milliseconds a timing value is almost surely seconds written by mistake.
_MIN_MS = 100
_ADAPTER_TYPES = ("memory", "redis")
_ROUTE_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

__all__ = (
    "APP_KEYS",
    "EITHER_FILE_KEYS",
    "SOCKETIO_KEYS",
    "WEBSOCKET_TYPES",
    "canonical",
    "check_keys",
    "config_from_dict",
    "config_from_sources",
    "normalize_route",
    "parse",
)

# -- key names ---------------------------------------------------------------------------------

APP_KEYS = (
    "host", "port", "sticky_cluster", "middleware", "static_dir", "http", "log_format", "admin",
)  # fmt: skip
SOCKETIO_KEYS = (
    "path", "allow_origin", "adapter", "messages", "handle", "ping_interval", "ping_timeout",
    "upgrade_timeout", "connect_timeout", "max_http_buffer_size", "transports", "allow_eio3",
    "serve_client", "client_dir", "cors", "parser", "per_message_deflate", "metrics",
    "connection_state_recovery",
    "cookie",
)  # fmt: skip
#: The keys of the plain types (thinkio.plain): ``ws`` and ``sockjs``.
WS_KEYS = (
    "path", "allow_origin", "cors", "messages", "handle", "max_http_buffer_size",
    "max_connections",
)  # fmt: skip
SOCKJS_KEYS = (*WS_KEYS, "heartbeat_delay", "disconnect_delay", "response_limit")
#: Keys only the plain types have.
PLAIN_ONLY_KEYS = ("max_connections", "heartbeat_delay", "disconnect_delay", "response_limit")
#: ``websocket["type"]`` -> the keys of its section.
WEBSOCKET_TYPES = {"socketio": SOCKETIO_KEYS, "ws": WS_KEYS, "sockjs": SOCKJS_KEYS}
#: Each type's default ``path`` (think-websocket-ws's README uses ``/ws``).
_DEFAULT_PATHS = {"socketio": "/socket.io", "ws": "/ws", "sockjs": "/sockjs"}
#: Socket.IO keys a project may also write in config/config.py: ``cors`` shapes the HTTP
#: answers (an application setting) and is a socket.io option (next to ``allowOrigin``).
EITHER_FILE_KEYS = ("cors",)
#: Spellings that the snake -> camel rule does not produce.
_EXTRA_ALIASES = {
    "allowEIO3": "allow_eio3",
    "maxPayload": "max_http_buffer_size",  # ws's name for it
    "prefix": "path",  # sockjs-node's name for it
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_ALIASES = {_camel(k): k for k in (*APP_KEYS, *SOCKETIO_KEYS, *PLAIN_ONLY_KEYS) if _camel(k) != k}
_ALIASES.update(_EXTRA_ALIASES)


def canonical(key: str) -> str:
    """The snake_case name of a key (``allowOrigin`` -> ``allow_origin``)."""
    return _ALIASES.get(key, key)


def check_keys(
    data: Mapping[str, Any], known: tuple[str, ...], where: str
) -> dict[str, tuple[str, Any]]:
    """canonical name -> (spelling used, value); unknown or doubled keys raise ConfigError."""
    out: dict[str, tuple[str, Any]] = {}
    spelled: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where}: keys must be strings, got {key!r}")
        name = canonical(key)
        if name not in known:
            spellings = [*known, *(a for a, k in _ALIASES.items() if k in known)]
            close = difflib.get_close_matches(key, spellings, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        if name in spelled:
            raise ConfigError(f"{where}: {spelled[name]!r} and {key!r} are the same key; keep one")
        spelled[name] = key
        out[name] = (key, value)
    return out


def _expected(where: str, what: str, value: Any) -> ConfigError:
    return ConfigError(f"{where}: expected {what}, got {value!r}")


# -- parsing -----------------------------------------------------------------------------------


def parse(
    app: Mapping[str, Any],
    adapter: Mapping[str, Any],
    *,
    root: Path | None,
    app_source: str,
    ws_source: str,
) -> Config:
    if not isinstance(app, Mapping):
        raise _expected(app_source, "a dict of settings", app)
    checked = check_keys(
        app, (*APP_KEYS, *SOCKETIO_KEYS, *PLAIN_ONLY_KEYS, "websocket"), app_source
    )
    flat = {name: value for name, (_, value) in checked.items()}
    section: dict[str, tuple[str, Any]] = {}  # canonical key -> (where, value)
    for key in (*SOCKETIO_KEYS, *PLAIN_ONLY_KEYS):
        if key in flat:
            section[key] = (f"{app_source}: {checked[key][0]}", flat.pop(key))
    websocket = flat.pop("websocket", adapter.get("websocket"))
    kind = "socketio"
    if websocket is not None:
        where = ws_source if "websocket" in adapter else app_source
        kind, located_keys = _websocket_section(websocket, where)
        for key, located in located_keys.items():
            if key in section:
                raise ConfigError(f"{located[0]}: {key!r} is also given at {section[key][0]}")
            section[key] = located
    for key, (located_at, _) in section.items():
        if key not in WEBSOCKET_TYPES[kind]:
            raise ConfigError(
                f"{located_at}: {key!r} is not a setting of websocket type {kind!r} "
                f"(its keys: {', '.join(WEBSOCKET_TYPES[kind])})"
            )
    base = root or Path.cwd()
    return Config(
        host=_host(f"{app_source}: host", flat.get("host", "127.0.0.1")),
        port=_port(f"{app_source}: port", flat.get("port", 8360)),
        sticky_cluster=_bool(f"{app_source}: sticky_cluster", flat.get("sticky_cluster", False)),
        middleware=_middleware(f"{app_source}: middleware", flat.get("middleware", ())),
        static_dir=_dir(f"{app_source}: static_dir", flat.get("static_dir"), base),
        log_format=_log_format(f"{app_source}: log_format", flat.get("log_format", "text")),
        admin=_admin(f"{app_source}: admin", flat.get("admin"), base),
        root=root,
        http=_http_routes(f"{app_source}: http", flat.get("http", {})),
        socketio=_socketio(section, base, kind),
        plain=None if kind == "socketio" else _plain(section, kind),
    )


def _websocket_section(ws: Any, where: str) -> tuple[str, dict[str, tuple[str, Any]]]:
    """The guide's ``{"type": "socketio", "common": {...}, "socketio": {...}}``: the type,
    and its section merged over ``common`` (the sections of the other types are not used,
    as in think-adapter)."""
    if not isinstance(ws, Mapping):
        raise _expected(f"{where}: websocket", 'a dict like {"type": "socketio", ...}', ws)
    types = ", ".join(map(repr, WEBSOCKET_TYPES))
    kind = ws.get("type", "socketio")
    if kind not in WEBSOCKET_TYPES:
        raise ConfigError(
            f"{where}: websocket.type: {kind!r} is not supported; thinkio implements {types}"
        )
    for key, value in ws.items():
        if key in ("type", "common", *WEBSOCKET_TYPES):
            continue
        if isinstance(value, Mapping):
            raise ConfigError(
                f"{where}: websocket.{key}: a {key!r} websocket type is not supported; "
                f"thinkio implements {types}"
            )
        known = ", ".join(("type", "common", *WEBSOCKET_TYPES))
        raise ConfigError(f"{where}: websocket: unknown key {key!r}; known: {known}")
    out: dict[str, tuple[str, Any]] = {}
    for part in ("common", kind):  # as think-adapter: the type's own keys win over common
        sub = ws.get(part, {})
        if not isinstance(sub, Mapping):
            raise _expected(f"{where}: websocket.{part}", "a dict", sub)
        checked = check_keys(sub, WEBSOCKET_TYPES[kind], f"{where}: websocket.{part}")
        for name, (key, value) in checked.items():
            out[name] = (f"{where}: websocket.{part}.{key}", value)
    return kind, out


def _plain(section: dict[str, tuple[str, Any]], kind: str) -> PlainConfig:
    """The ``ws`` / ``sockjs`` settings of a section (its keys were checked for the type)."""

    def get(key: str, default: Any) -> tuple[str, Any]:
        return section.get(key, (key, default))

    defaults = PlainConfig()
    where, most = get("max_connections", None)
    return PlainConfig(
        type=kind,
        max_connections=None if most is None else _positive_count(where, most),
        heartbeat_delay=_ms(*get("heartbeat_delay", defaults.heartbeat_delay)),
        disconnect_delay=_ms(*get("disconnect_delay", defaults.disconnect_delay)),
        response_limit=_positive(*get("response_limit", defaults.response_limit)),
    )


def _positive_count(where: str, value: Any) -> int:
    if not _int(value) or value < 1:
        raise _expected(where, "a positive number (or None)", value)
    return int(value)


def _socketio(section: dict[str, tuple[str, Any]], base: Path, kind: str) -> SocketIOConfig:
    def get(key: str, default: Any) -> tuple[str, Any]:
        return section.get(key, (key, default))

    defaults = SocketIOConfig()
    where, handle = get("handle", None)
    if handle not in (None, kind):
        raise _expected(where, f"None or {kind!r} (kept for parity with ThinkJS)", handle)
    messages = _messages(*get("messages", ()))
    if kind != "socketio":
        for ns in messages:
            if ns.namespace != "/":
                raise ConfigError(
                    f"{ns.where}.namespace: the {kind!r} type has no namespaces (only '/'); "
                    "several maps need type 'socketio'"
                )
    allow_origin = _origin(*get("allow_origin", None))
    cors = _cors(get("cors", None), get("allow_origin", None))
    return SocketIOConfig(
        path=_path(*get("path", _DEFAULT_PATHS[kind])),
        allow_origin=allow_origin,
        cors=cors,
        adapter=_adapter(*get("adapter", None)),
        messages=messages,
        ping_interval=_ms(*get("ping_interval", defaults.ping_interval)),
        ping_timeout=_ms(*get("ping_timeout", defaults.ping_timeout)),
        upgrade_timeout=_ms(*get("upgrade_timeout", defaults.upgrade_timeout)),
        connect_timeout=_ms(*get("connect_timeout", defaults.connect_timeout)),
        max_http_buffer_size=_positive(*get("max_http_buffer_size", 1_000_000)),
        transports=_transports(*get("transports", defaults.transports)),
        allow_eio3=_bool(*get("allow_eio3", False)),
        connection_state_recovery=_recovery(*get("connection_state_recovery", None)),
        serve_client=_bool(*get("serve_client", True)),
        client_dir=_dir(*get("client_dir", None), base),
        parser=_parser(*get("parser", defaults.parser)),
        per_message_deflate=_deflate(*get("per_message_deflate", False)),
        metrics=_metrics(*get("metrics", None)),
        cookie=_cookie(*get("cookie", None)),
    )


# -- value checks (each takes where, value; returns the typed value) -----------------------------


def _parser(where: str, value: Any) -> str:
    if not isinstance(value, str) or value not in PARSERS:
        raise _expected(where, " or ".join(map(repr, PARSERS)), value)
    return str(value)


def _deflate(where: str, value: Any) -> DeflateOptions | None:
    try:
        return deflate_options(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


#: The keys of the ``admin`` setting: :func:`thinkio.admin.instrument`'s options.
ADMIN_KEYS = (
    "auth", "mode", "namespace_name", "server_id", "readonly", "stats_interval", "ui", "ui_dir",
)  # fmt: skip


def _admin(where: str, value: Any, base: Path) -> dict[str, Any] | None:
    """The Admin UI's options (checked in full by ``instrument`` when the app is built)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _expected(where, "a dict of thinkio.admin.instrument options, or None", value)
    checked = {name: v for name, (_, v) in check_keys(value, ADMIN_KEYS, where).items()}
    if "auth" not in checked:
        raise ConfigError(
            f"{where}: 'auth' is required: {{'type': 'basic', 'username': ..., 'password': "
            "<bcrypt hash>}, or False to let anyone in"
        )
    ui_dir = checked.get("ui_dir")
    checked["ui_dir"] = _dir(f"{where}.ui_dir", ui_dir, base) if ui_dir is not None else base
    return checked


def _log_format(where: str, value: Any) -> str:
    if value not in LOG_FORMATS:
        raise _expected(where, " or ".join(repr(f) for f in LOG_FORMATS), value)
    return str(value)


def _metrics(where: str, value: Any) -> dict[str, Any] | None:
    try:
        return metrics_options(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _expected(where, "True or False", value)
    return value


def _cookie(where: str, value: Any) -> SessionCookie | None:
    try:
        return SessionCookie.from_option(value)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _host(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _expected(where, "a host name or IP address like '127.0.0.1'", value)
    return value


def _port(where: str, value: Any) -> int:
    if not _int(value) or not 0 <= value <= 65535:
        raise _expected(where, "a port number from 0 to 65535", value)
    return int(value)


def _positive(where: str, value: Any) -> int:
    if not _int(value) or value < 1:
        raise _expected(where, "a positive number of bytes", value)
    return int(value)


def _ms(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _expected(where, "a positive number of milliseconds", value)
    if value < _MIN_MS:
        raise ConfigError(
            f"{where}: {value!r} ms is too short; times are in milliseconds, as in socket.io "
            f"(25000 is 25 seconds), at least {_MIN_MS}"
        )
    return int(value)


_RECOVERY_KEYS = {
    "max_disconnection_duration": "max_disconnection_duration",
    "maxDisconnectionDuration": "max_disconnection_duration",
    "skip_middlewares": "skip_middlewares",
    "skipMiddlewares": "skip_middlewares",
}


def _recovery(where: str, value: Any) -> RecoveryOptions | None:
    """``True``, ``False``/None, or ``{max_disconnection_duration (ms), skip_middlewares}``."""
    if value is None or value is False:
        return None
    if value is True:
        return RecoveryOptions()
    if isinstance(value, RecoveryOptions):
        return value
    if not isinstance(value, Mapping):
        raise _expected(
            where, 'True or {"max_disconnection_duration": 120000, "skip_middlewares": True}', value
        )
    duration, skip = 120_000, True
    for key, item in value.items():
        name = _RECOVERY_KEYS.get(key)
        if name is None:
            raise ConfigError(
                f"{where}: unknown key {key!r}; known: max_disconnection_duration (ms), "
                "skip_middlewares"
            )
        if name == "max_disconnection_duration":
            duration = _ms(f"{where}.{key}", item)
        else:
            skip = _bool(f"{where}.{key}", item)
    return RecoveryOptions(duration / 1000, skip)


def _path(where: str, value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.startswith("/")
        or value.rstrip("/") == ""
        or any(c in value for c in "?#% \t")
    ):
        raise _expected(
            where, "a URL path like '/socket.io' (not '/': static files live there)", value
        )
    return value.rstrip("/")


def _transports(where: str, value: Any) -> tuple[str, ...]:
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not value
        or len(set(value)) != len(value)
        or any(t not in TRANSPORTS for t in value)
    ):
        raise _expected(where, "a list of 'polling' and/or 'websocket'", value)
    return tuple(value)


def _origin(where: str, value: Any) -> OriginSpec:
    OriginPolicy(value, name=where)  # every entry is checked; the error names it
    return tuple(value) if isinstance(value, list | set | frozenset) else value


def _cors(located: tuple[str, Any], allow_origin: tuple[str, Any]) -> CorsOptions | None:
    """Node's cors options; with ``allow_origin`` they must make one safe policy."""
    where, value = located
    if value is None:
        return None
    if isinstance(value, CorsOptions):
        options = value
    else:
        options = CorsOptions.from_mapping(value, where=where)
    origin_where, origin = allow_origin
    if options.origin is not None and origin is not None:
        raise ConfigError(
            f"{where}.origin: the origins are also given at {origin_where} (allow_origin and "
            "cors.origin are one setting); keep one"
        )
    try:
        CorsPolicy(options, allow_origin=origin)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}".replace(f"{where}: cors.", f"{where}.")) from None
    return options


def _adapter(where: str, value: Any) -> AdapterConfig | Callable[[Namespace], Adapter] | None:
    if value is None:
        return None
    if isinstance(value, type):
        if not issubclass(value, Adapter):
            raise _expected(where, "a thinkio.server.Adapter subclass", value)
        return value
    if isinstance(value, Mapping):
        kind = value.get("type")
        if kind not in _ADAPTER_TYPES:
            raise _expected(f"{where}.type", f"one of {', '.join(map(repr, _ADAPTER_TYPES))}", kind)
        options = {k: v for k, v in value.items() if k != "type"}
        for key in ("url", "key"):
            if key in options and not isinstance(options[key], str):
                raise _expected(f"{where}.{key}", "a string", options[key])
        return AdapterConfig(type=str(kind), options=MappingProxyType(options))
    if callable(value):
        return value  # type: ignore[no-any-return]
    raise _expected(where, 'None, an Adapter subclass or factory, or {"type": "redis", ...}', value)


def _middleware(where: str, value: Any) -> tuple[Middleware, ...]:
    if not isinstance(value, list | tuple) or not all(callable(m) for m in value):
        raise _expected(where, "a list of functions fn(socket)", value)
    return tuple(value)


def _dir(where: str, value: Any, base: Path) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value):
        raise _expected(where, "a directory path", value)
    return (base / value).resolve()


def _messages(where: str, value: Any) -> tuple[NamespaceMessages, ...]:
    if isinstance(value, Mapping):
        return (_namespace_messages(where, value),)
    if isinstance(value, list | tuple):
        out: dict[str | re.Pattern[str], NamespaceMessages] = {}
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise _expected(f"{where}[{i}]", "a dict of event -> '/controller/action'", item)
            ns = _namespace_messages(f"{where}[{i}]", item)
            if ns.namespace in out:
                raise ConfigError(f"{where}[{i}]: namespace {ns.namespace!r} is mapped twice")
            out[ns.namespace] = ns
        return tuple(out.values())
    raise _expected(where, "a dict of event -> '/controller/action', or a list of them", value)


def _namespace_messages(where: str, data: Mapping[Any, Any]) -> NamespaceMessages:
    namespace = data.get("namespace", "/")
    if isinstance(namespace, re.Pattern):
        pass  # dynamic namespaces: every name the pattern finds (Server.of)
    elif not isinstance(namespace, str) or not namespace.startswith("/"):
        raise _expected(
            f"{where}.namespace",
            "a namespace name like '/' or '/chat', or a compiled pattern (re.compile)",
            namespace,
        )
    pairs: list[tuple[str, str]] = []
    for event, route in data.items():
        if event == "namespace":
            continue
        if not isinstance(event, str) or not event:
            raise _expected(f"{where}", "event names as non-empty strings", event)
        if event in RESERVED_EVENTS:
            hint = "'open'" if event.startswith("connect") else "'close'"
            raise ConfigError(
                f"{where}.{event}: {event!r} is reserved by Socket.IO; "
                f"the connect / disconnect events are 'open' / 'close' (use {hint})"
            )
        pairs.append((event, normalize_route(route, f"{where}.{event}")))
    return NamespaceMessages(namespace=namespace, messages=tuple(pairs), where=where)


#: Methods an ``http`` route may answer.
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _http_routes(where: str, value: Any) -> tuple[HttpRouteConfig, ...]:
    """The ``http`` map: ``{"POST /api/notify": "/api/notify", ...}``."""
    if not isinstance(value, Mapping):
        raise _expected(where, 'a dict like {"POST /api/notify": "/api/notify"}', value)
    routes: list[HttpRouteConfig] = []
    seen: set[tuple[str, str]] = set()
    for key, action in value.items():
        here = f"{where}[{key!r}]"
        method, _, path = str(key).strip().partition(" ")
        path = path.strip()
        if method.upper() not in HTTP_METHODS or not path.startswith("/") or " " in path:
            raise ConfigError(
                f"{here}: expected 'METHOD /path' (METHOD one of {', '.join(HTTP_METHODS)}), "
                f"like 'POST /api/notify'"
            )
        method = method.upper()
        path = path.rstrip("/") or "/"
        if (method, path) in seen:
            raise ConfigError(f"{here}: {method} {path} is routed twice")
        seen.add((method, path))
        routes.append(HttpRouteConfig(method, path, normalize_route(action, here), here))
    return tuple(routes)


def normalize_route(route: Any, where: str) -> str:
    """``"websocket/addUser"`` -> ``"/websocket/addUser"``, checking its form.

    Raises:
        ConfigError: not ``/controller/action`` (controller may have several segments).
    """
    if not isinstance(route, str):
        raise _expected(where, "an action path like '/websocket/addUser'", route)
    parts = route.strip("/").split("/")
    if len(parts) < 2 or not all(_ROUTE_SEGMENT.match(p) for p in parts):
        raise ConfigError(
            f"{where}: {route!r} is not an action path like '/websocket/addUser' "
            "(/controller/action, each part a Python-style name)"
        )
    return "/" + "/".join(parts)


def config_from_dict(
    data: Mapping[str, Any], *, root: Path | None = None, source: str = "config"
) -> Config:
    """Build a config from a dict (every key of :class:`Config` and :class:`SocketIOConfig`).

    The Socket.IO keys may be flat (``{"messages": ...}``) or in the guide's structure
    (``{"websocket": {"type": "socketio", "socketio": {...}}}``), not both for one key.

    Args:
        data: the keys.
        root: the directory relative paths are resolved against (default: working dir).
        source: how error messages name where ``data`` came from.

    Raises:
        ConfigError: a key is unknown or its value has the wrong type or range.
    """
    return parse(data, {}, root=root, app_source=source, ws_source=source)


def config_from_sources(
    app: Mapping[str, Any], adapter: Mapping[str, Any], *, root: Path
) -> Config:
    """Build a config from a project's ``config/config.py`` and ``config/adapter.py``.

    Args:
        app: the public attributes of ``config/config.py``.
        adapter: the public attributes of ``config/adapter.py``.
        root: the project directory.

    Raises:
        ConfigError: a key is unknown, misplaced, or has the wrong type or range.
    """
    for key in app:
        name = canonical(key)
        misplaced = name in SOCKETIO_KEYS or name in PLAIN_ONLY_KEYS
        if (misplaced and name not in EITHER_FILE_KEYS) or key == "websocket":
            raise ConfigError(
                f"config/config.py: {key!r} belongs in config/adapter.py, in "
                f'websocket["socketio"] (as in ThinkJS\'s src/config/adapter.js)'
            )
    check_keys(adapter, ("websocket",), "config/adapter.py")
    return parse(
        app, adapter, root=root, app_source="config/config.py", ws_source="config/adapter.py"
    )
