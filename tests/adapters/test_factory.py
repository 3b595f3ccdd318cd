"""Adapter factories: arguments checked up front, the app's option dict understood."""

from __future__ import annotations

from typing import Any

import pytest

from thinkio.adapters import RedisAdapter, redis_adapter, redis_adapter_from_options
from thinkio.errors import ConfigError
from thinkio.server import Server


def built(factory: Any) -> RedisAdapter:
    adapter = Server(adapter=factory).sockets.adapter
    assert isinstance(adapter, RedisAdapter)
    return adapter


def test_the_factory_gives_each_namespace_an_adapter_on_one_link() -> None:
    io = Server(adapter=redis_adapter("redis://127.0.0.1:6390/1", key="k", requests_timeout=2))
    root, chat = io.sockets.adapter, io.of("/chat").adapter
    assert isinstance(root, RedisAdapter) and isinstance(chat, RedisAdapter)
    assert root.link is chat.link
    assert root.link.options.url == "redis://127.0.0.1:6390/1"
    assert root.channels.request == "k-request#/#"
    assert root.requests_timeout == 2
    assert root.uid != chat.uid
    other = built(redis_adapter("redis://127.0.0.1:6390/1", key="k"))
    assert other.link is not root.link  # one subscriber per server


@pytest.mark.parametrize(
    ("options", "url", "timeout"),
    [
        ({"type": "redis", "url": "redis://h:1/2"}, "redis://h:1/2", 5.0),
        ({"host": "h", "port": 7000, "db": 3}, "redis://h:7000/3", 5.0),
        ({"requestsTimeout": 1500}, "redis://127.0.0.1:6379/0", 1.5),
        ({"requests_timeout": 0.5, "key": "app"}, "redis://127.0.0.1:6379/0", 0.5),
    ],
)
def test_options_from_the_app_config(options: dict[str, Any], url: str, timeout: float) -> None:
    adapter = built(redis_adapter_from_options(options))
    assert adapter.link.options.url == url
    assert adapter.requests_timeout == timeout


def test_a_password_in_options_is_quoted_into_the_url() -> None:
    from urllib.parse import unquote, urlsplit

    adapter = built(redis_adapter_from_options({"host": "h", "password": "p@ss:w/rd"}))
    password = urlsplit(adapter.link.options.url).password
    assert password is not None and unquote(password) == "p@ss:w/rd"


@pytest.mark.parametrize(
    "call",
    [
        lambda: redis_adapter("http://h"),
        lambda: redis_adapter(requests_timeout=0),
        lambda: redis_adapter_from_options({"hots": "h"}),
        lambda: redis_adapter_from_options({"url": "redis://h", "host": "h"}),
        lambda: redis_adapter("redis://h:port/0"),
        lambda: redis_adapter("redis://h/x"),
        lambda: redis_adapter(connect_timeout=0),
    ],
    ids=["scheme", "timeout", "unknown key", "url and host", "port", "db", "connect timeout"],
)
def test_bad_settings_fail_at_once(call: Any) -> None:
    with pytest.raises(ConfigError):
        call()
