"""Configuration: every key of the guide, its aliases, and every validation error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from thinkio import App, ConfigError
from thinkio.config import AdapterConfig, NamespaceMessages
from thinkio.engine import SessionCookie
from thinkio.server import Adapter, CorsOptions, InMemoryAdapter, Namespace, RecoveryOptions
from thinkio.settings import config_from_dict
from thinkio.websocket.deflate import DeflateOptions

GUIDE_ADAPTER = {
    "websocket": {
        "type": "socketio",
        "common": {},
        "socketio": {
            "handle": "socketio",
            "allowOrigin": "127.0.0.1:8360",
            "path": "/socket.io",
            "adapter": None,
            "messages": [{"open": "/websocket/open", "addUser": "/websocket/addUser"}],
        },
    }
}


def test_defaults() -> None:
    config = config_from_dict({})
    assert (config.host, config.port, config.sticky_cluster) == ("127.0.0.1", 8360, False)
    sio = config.socketio
    assert sio.path == "/socket.io"
    assert sio.allow_origin is None
    assert sio.adapter is None
    assert sio.messages == ()
    assert (sio.ping_interval, sio.ping_timeout) == (25_000, 20_000)
    assert sio.transports == ("polling", "websocket")
    assert sio.allow_eio3 is False
    assert sio.serve_client is True


def test_the_guides_adapter_config_in_python() -> None:
    config = config_from_dict(GUIDE_ADAPTER)
    sio = config.socketio
    assert sio.allow_origin == "127.0.0.1:8360"
    assert sio.messages == (
        NamespaceMessages("/", (("open", "/websocket/open"), ("addUser", "/websocket/addUser"))),
    )


def test_common_is_merged_under_the_type_section() -> None:
    config = config_from_dict(
        {
            "websocket": {
                "common": {"path": "/common", "pingInterval": 1000},
                "socketio": {"path": "/own"},
            }
        }
    )
    assert config.socketio.path == "/own"
    assert config.socketio.ping_interval == 1000


def test_flat_keys_and_camel_case_aliases() -> None:
    config = config_from_dict(
        {
            "stickyCluster": False,
            "allowOrigin": ["https://a.example", "*:8360"],
            "pingInterval": 300,
            "pingTimeout": 200.0,
            "upgradeTimeout": 1000,
            "connectTimeout": 1000,
            "maxHttpBufferSize": 1000,
            "transports": ["websocket"],
            "allowEIO3": True,
            "serveClient": False,
            "cookie": {"name": "lb", "httpOnly": False},
            "messages": {"open": "websocket/open"},
        }
    )
    sio = config.socketio
    assert sio.cookie == SessionCookie(name="lb", http_only=False)
    assert sio.allow_origin == ("https://a.example", "*:8360")
    assert sio.allow_eio3 is True
    assert sio.serve_client is False
    assert sio.messages[0].messages == (("open", "/websocket/open"),)
    assert config.socketio.server_options() == {
        "path": "/socket.io",
        "allow_origin": ("https://a.example", "*:8360"),
        "cors": None,
        "ping_interval": 0.3,
        "ping_timeout": 0.2,
        "upgrade_timeout": 1.0,
        "connect_timeout": 1.0,
        "max_http_buffer_size": 1000,
        "transports": ("websocket",),
        "allow_eio3": True,
        "connection_state_recovery": None,
        "parser": "default",
        "per_message_deflate": None,
        "metrics": None,
        "cookie": SessionCookie(name="lb", http_only=False),
    }
    assert sio.cookie == SessionCookie(name="lb", http_only=False)
    assert config_from_dict({"allowEio3": True}).socketio.allow_eio3 is True


def test_connection_state_recovery_in_milliseconds_as_socket_io_writes_it() -> None:
    assert config_from_dict({}).socketio.connection_state_recovery is None
    assert config_from_dict(
        {"connection_state_recovery": True}
    ).socketio.connection_state_recovery == RecoveryOptions(120.0, True)
    node = {
        "connectionStateRecovery": {"maxDisconnectionDuration": 30_000, "skipMiddlewares": False}
    }
    assert config_from_dict(node).socketio.connection_state_recovery == RecoveryOptions(30.0, False)
    app = App(connection_state_recovery={"max_disconnection_duration": 5000})
    assert app.io.connection_state_recovery == RecoveryOptions(5.0, True)
    assert app.io.sockets.adapter.recovery is not None


def test_adapter_forms() -> None:
    class Mine(InMemoryAdapter):
        pass

    def factory(ns: Namespace) -> Adapter:
        return Mine(ns)

    assert config_from_dict({"adapter": Mine}).socketio.adapter is Mine
    assert config_from_dict({"adapter": factory}).socketio.adapter is factory
    redis = config_from_dict(
        {"adapter": {"type": "redis", "url": "redis://127.0.0.1:6379", "key": "socket.io"}}
    ).socketio.adapter
    assert redis == AdapterConfig("redis", {"url": "redis://127.0.0.1:6379", "key": "socket.io"})
    assert isinstance(redis, AdapterConfig)
    with pytest.raises(TypeError):
        redis.options["url"] = "changed"  # type: ignore[index]


def test_relative_directories_resolve_against_the_root(tmp_path: Path) -> None:
    config = config_from_dict({"static_dir": "www", "client_dir": "."}, root=tmp_path)
    assert config.static_dir == tmp_path.resolve() / "www"
    assert config.socketio.client_dir == tmp_path.resolve()


def test_the_config_is_frozen() -> None:
    config = config_from_dict({})
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]


BAD: list[tuple[dict[str, Any], str]] = [
    # unknown keys, with did-you-mean
    ({"alow_origin": "*"}, "config: unknown key 'alow_origin'; did you mean 'allow_origin'?"),
    ({"allowOrign": "*"}, "unknown key 'allowOrign'; did you mean 'allowOrigin'?"),
    ({"stickycluster": True}, "did you mean 'sticky_cluster'?"),
    ({"zzz": 1}, "config: unknown key 'zzz'; known keys: host, port"),
    (
        {"allow_origin": "*", "allowOrigin": "*"},
        "'allow_origin' and 'allowOrigin' are the same key",
    ),
    # types and ranges
    ({"host": ""}, "config: host: expected a host name or IP address"),
    ({"port": "8360"}, "config: port: expected a port number from 0 to 65535, got '8360'"),
    ({"port": 70000}, "port: expected a port number from 0 to 65535, got 70000"),
    ({"port": True}, "port: expected a port number"),
    ({"sticky_cluster": "yes"}, "config: sticky_cluster: expected True or False, got 'yes'"),
    ({"middleware": "check"}, "config: middleware: expected a list of functions fn(socket)"),
    ({"middleware": [1]}, "middleware: expected a list of functions"),
    ({"static_dir": 3}, "config: static_dir: expected a directory path, got 3"),
    ({"path": "socket.io"}, "config: path: expected a URL path like '/socket.io'"),
    ({"path": "/"}, "path: expected a URL path like '/socket.io' (not '/'"),
    ({"path": "/a?b"}, "path: expected a URL path"),
    ({"allow_origin": 42}, "config: allow_origin: expected an origin string, a regex, a list"),
    ({"allow_origin": ["http://"]}, "config: allow_origin: 'http://' never matches a browser's"),
    ({"allow_origin": [""]}, "config: allow_origin: an empty string is not an origin"),
    ({"allowOrigin": ["a.example", "localhost:abc"]}, "allowOrigin: 'localhost:abc' never matches"),
    ({"allowOrigin": "https://*.example.com"}, "allowOrigin: 'https://*.example.com' never"),
    # cors (Node's options)
    ({"cors": "*"}, "config: cors: expected a dict of cors options, got '*'"),
    ({"cors": {"orign": "*"}}, "config: cors: unknown key 'orign'; known keys: origin,"),
    ({"cors": {"maxAge": 1, "max_age": 2}}, "config: cors: 'max_age' is given twice"),
    ({"cors": {"credentials": "yes"}}, "config: cors.credentials: expected True or False"),
    ({"cors": {"maxAge": -1}}, "config: cors.max_age: expected a number of seconds"),
    ({"cors": {"methods": ["GET", "PO ST"]}}, "config: cors.methods: 'PO ST' is not a method"),
    ({"cors": {"allowedHeaders": [3]}}, "config: cors.allowed_headers: 3 is not a method or"),
    ({"cors": {"origin": "https://a.example/"}}, "config: cors.origin: 'https://a.example/' never"),
    ({"cors": {"credentials": True}}, "config: cors.credentials: True needs the allowed origins"),
    (
        {"cors": {"origin": True, "credentials": True}},
        "config: cors.credentials: True needs the allowed origins",
    ),
    (
        {"allow_origin": "*:*", "cors": {"credentials": True}},
        "config: cors.credentials: True needs the allowed origins",
    ),
    (
        {"allow_origin": "https://a.example", "cors": {"origin": "https://b.example"}},
        "config: cors.origin: the origins are also given at config: allow_origin",
    ),
    ({"adapter": 3}, "config: adapter: expected None, an Adapter subclass or factory"),
    ({"adapter": dict}, "config: adapter: expected a thinkio.server.Adapter subclass"),
    ({"adapter": {"type": "mongo"}}, "config: adapter.type: expected one of 'memory', 'redis'"),
    ({"adapter": {"type": "redis", "url": 6379}}, "config: adapter.url: expected a string"),
    ({"ping_interval": 0}, "config: ping_interval: expected a positive number of milliseconds"),
    ({"pingTimeout": "20s"}, "config: pingTimeout: expected a positive number of milliseconds"),
    ({"ping_interval": 25}, "ping_interval: 25 ms is too short; times are in milliseconds"),
    ({"connect_timeout": True}, "connect_timeout: expected a positive number of milliseconds"),
    ({"maxHttpBufferSize": 0}, "config: maxHttpBufferSize: expected a positive number of bytes"),
    ({"transports": "websocket"}, "config: transports: expected a list of 'polling' and/or"),
    ({"transports": []}, "transports: expected a list"),
    ({"transports": ["websocket", "websocket"]}, "transports: expected a list"),
    ({"transports": ["webtransport"]}, "transports: expected a list"),
    ({"allow_eio3": 1}, "config: allow_eio3: expected True or False, got 1"),
    (
        {"connection_state_recovery": {"max_disconnection_duration": 60}},
        "connection_state_recovery.max_disconnection_duration: 60 ms is too short",
    ),
    (
        {"connectionStateRecovery": {"maxDisconnection": 1000}},
        "config: connectionStateRecovery: unknown key 'maxDisconnection'",
    ),
    ({"connection_state_recovery": "yes"}, "connection_state_recovery: expected True or {"),
    ({"serve_client": None}, "config: serve_client: expected True or False"),
    ({"client_dir": ""}, "config: client_dir: expected a directory path"),
    ({"handle": "ws"}, "config: handle: expected None or 'socketio'"),
    # messages
    (
        {"messages": "/websocket/open"},
        "config: messages: expected a dict of event -> '/controller/action', or a list",
    ),
    (
        {"messages": {"open": "/websocket"}},
        "config: messages.open: '/websocket' is not an action path like '/websocket/addUser'",
    ),
    (
        {"messages": {"open": "/web-socket/open"}},
        "messages.open: '/web-socket/open' is not an action path",
    ),
    (
        {"messages": {"open": 3}},
        "config: messages.open: expected an action path like '/websocket/addUser', got 3",
    ),
    (
        {"messages": {"connect": "/a/b"}},
        "messages.connect: 'connect' is reserved by Socket.IO; the connect / disconnect events are 'open' / 'close' (use 'open')",
    ),
    (
        {"messages": {"disconnect": "/a/b"}},
        "'disconnect' is reserved by Socket.IO; the connect / disconnect events are 'open' / 'close' (use 'close')",
    ),
    ({"messages": {"connection": "/a/b"}}, "'connection' is reserved"),
    ({"messages": {"": "/a/b"}}, "config: messages: expected event names as non-empty strings"),
    (
        {"messages": [{"open": "/a/b"}, {"open": "/a/b"}]},
        "config: messages[1]: namespace '/' is mapped twice",
    ),
    (
        {"messages": [{"namespace": "chat", "x": "/a/b"}]},
        "config: messages[0].namespace: expected a namespace name like '/' or '/chat'",
    ),
    ({"messages": ["/a/b"]}, "config: messages[0]: expected a dict of event"),
    # the guide's structure
    ({"websocket": []}, 'config: websocket: expected a dict like {"type": "socketio"'),
    (
        {"websocket": {"type": "uws"}},
        "config: websocket.type: 'uws' is not supported; thinkio implements 'socketio', 'ws', "
        "'sockjs'",
    ),
    (
        {"websocket": {"faye": {}}},
        "config: websocket.faye: a 'faye' websocket type is not supported",
    ),
    (
        {"websocket": {"typo": 1}},
        "config: websocket: unknown key 'typo'; known: type, common, socketio, ws, sockjs",
    ),
    # the plain types (ws, sockjs) take their own keys
    (
        {"websocket": {"type": "ws", "ws": {"pingInterval": 1000}}},
        "config: websocket.ws: unknown key 'pingInterval'",
    ),
    (
        {"ping_interval": 1000, "websocket": {"type": "ws"}},
        "config: ping_interval: 'ping_interval' is not a setting of websocket type 'ws'",
    ),
    (
        {"heartbeat_delay": 1000},
        "config: heartbeat_delay: 'heartbeat_delay' is not a setting of websocket type 'socketio'",
    ),
    (
        {"websocket": {"type": "ws", "ws": {"messages": [{"namespace": "/chat", "x": "/a/b"}]}}},
        "config: websocket.ws.messages[0].namespace: the 'ws' type has no namespaces",
    ),
    (
        {"websocket": {"type": "sockjs", "sockjs": {"heartbeat_delay": 25}}},
        "config: websocket.sockjs.heartbeat_delay: 25 ms is too short",
    ),
    (
        {"websocket": {"type": "ws", "ws": {"handle": "socketio"}}},
        "config: websocket.ws.handle: expected None or 'ws'",
    ),
    (
        {"websocket": {"type": "ws", "ws": {"max_connections": 0}}},
        "config: websocket.ws.max_connections: expected a positive number",
    ),
    (
        {"websocket": {"socketio": {"pathh": "/x"}}},
        "config: websocket.socketio: unknown key 'pathh'; did you mean 'path'?",
    ),
    ({"websocket": {"socketio": []}}, "config: websocket.socketio: expected a dict"),
    (
        {"websocket": {"socketio": {"allowOrigin": 1}}},
        "config: websocket.socketio.allowOrigin: expected an origin string",
    ),
    (
        {"websocket": {"common": {"messages": {"open": "/x"}}}},
        "config: websocket.common.messages.open: '/x' is not an action path",
    ),
    (
        {"path": "/a", "websocket": {"socketio": {"path": "/b"}}},
        "config: websocket.socketio.path: 'path' is also given at config: path",
    ),
]


@pytest.mark.parametrize(("data", "expected"), BAD, ids=[str(d)[:60] for d, _ in BAD])
def test_every_validation_error_names_the_key(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    assert expected in str(info.value)


def test_app_merges_a_dict_with_keywords_and_refuses_doubles() -> None:
    app = App({"path": "/io"}, allow_origin="*")
    assert app.config.socketio.path == "/io"
    assert app.io.path == "/io"
    with pytest.raises(ConfigError, match="'path' is given both in the dict and as a keyword"):
        App({"path": "/a"}, path="/b")
    with pytest.raises(ConfigError, match="give a Config or settings, not both"):
        App(config_from_dict({}), path="/b")
    with pytest.raises(ConfigError, match="unknown key 'messges'; did you mean 'messages'"):
        App(messges={})


def test_cors_options_with_node_spellings_in_either_place() -> None:
    node_style = {"origin": ["https://a.example"], "credentials": True, "methods": "GET,POST",
                  "allowedHeaders": ["content-type"], "exposedHeaders": "x-a", "maxAge": 600}  # fmt: skip
    expected = CorsOptions(
        origin=("https://a.example",),
        credentials=True,
        methods=("GET", "POST"),
        allowed_headers=("content-type",),
        exposed_headers=("x-a",),
        max_age=600,
    )
    assert config_from_dict({"cors": node_style}).socketio.cors == expected
    nested = config_from_dict({"websocket": {"socketio": {"cors": node_style}}})
    assert nested.socketio.cors == expected
    assert config_from_dict({}).socketio.cors is None


def test_app_takes_cors_as_a_keyword_and_the_server_answers_with_it() -> None:
    app = App(cors={"credentials": True}, allow_origin="https://a.example")
    policy = app.io.engine.cors
    assert policy.allows("https://a.example") and not policy.allows("https://b.example")
    assert ("access-control-allow-credentials", "true") in [
        (k.decode(), v.decode()) for k, v in policy.headers("https://a.example")
    ]
    assert App().io.engine.cors.headers("https://b.example") == [
        (b"access-control-allow-origin", b"*")
    ]


def test_app_hands_the_engine_options_to_the_server_in_seconds() -> None:
    app = App(ping_interval=300, ping_timeout=200, allow_eio3=True, max_http_buffer_size=1000)
    options = app.io.engine_options
    assert (options.ping_interval, options.ping_timeout) == (0.3, 0.2)
    assert options.allow_eio3 is True
    assert app.io.limits.max_payload_bytes == 1000


def test_the_adapter_setting_reaches_the_namespaces() -> None:
    class Mine(InMemoryAdapter):
        pass

    app = App(adapter=Mine)
    assert isinstance(app.io.of("/").adapter, Mine)


def test_adapter_dicts_name_the_memory_and_redis_adapters() -> None:
    assert App(adapter={"type": "memory"}).io.adapter_factory is None
    # Built at start-up (options checked); it connects only when the server runs.
    assert App(adapter={"type": "redis", "url": "redis://127.0.0.1:6379"}).io.adapter_factory
    with pytest.raises(ConfigError, match="url"):
        App(adapter={"type": "redis", "url": "http://127.0.0.1:6379"})


def test_a_missing_static_dir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"static_dir: .*nowhere is not a directory"):
        App(static_dir=str(tmp_path / "nowhere"))


def test_parser_key() -> None:
    sio = config_from_dict({"websocket": {"socketio": {"parser": "msgpack"}}}).socketio
    assert sio.parser == "msgpack"
    assert sio.server_options()["parser"] == "msgpack"
    assert App(parser="msgpack").io.parser.name == "msgpack"
    with pytest.raises(ConfigError, match="parser: expected 'default' or 'msgpack', got 'bson'"):
        config_from_dict({"parser": "bson"})


def test_per_message_deflate_key() -> None:
    sio = config_from_dict({"perMessageDeflate": {"threshold": 0}}).socketio
    assert sio.per_message_deflate == DeflateOptions(threshold=0)
    assert config_from_dict({"per_message_deflate": True}).socketio.per_message_deflate == (
        DeflateOptions()
    )
    assert App(per_message_deflate=True).io.engine.deflate == DeflateOptions()
    with pytest.raises(ConfigError, match=r"per_message_deflate: per_message_deflate\.threshold"):
        config_from_dict({"per_message_deflate": {"threshold": "big"}})
