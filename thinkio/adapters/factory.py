"""Adapter factories for ``Server(adapter=...)`` and the app's ``adapter`` setting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import ConfigError
from .link import LinkOptions
from .redis import DEFAULT_URL, RedisAdapter
from .resp import RedisAddress

if TYPE_CHECKING:
    from ..server.namespace import Namespace

__all__ = ("redis_adapter", "redis_adapter_from_options")


def redis_adapter(
    url: str = DEFAULT_URL,
    *,
    key: str = "socket.io",
    requests_timeout: float = 5.0,
    publish_on_specific_response_channel: bool = False,
    link_options: LinkOptions | None = None,
) -> Callable[[Namespace], RedisAdapter]:
    """An adapter factory for ``Server(adapter=...)``: a :class:`RedisAdapter` per namespace.

    Raises:
        ConfigError: a bad URL or timeout (checked now, not when the server starts).
    """
    RedisAddress.from_url(url)
    if not requests_timeout > 0:
        raise ConfigError(f"requests_timeout: expected seconds > 0, got {requests_timeout!r}")

    def factory(namespace: Namespace) -> RedisAdapter:
        return RedisAdapter(
            namespace,
            url=url,
            key=key,
            requests_timeout=requests_timeout,
            publish_on_specific_response_channel=publish_on_specific_response_channel,
            link_options=link_options,
        )

    return factory


_OPTION_NAMES = {
    "url": "url",
    "key": "key",
    "requests_timeout": "requests_timeout",
    "requestsTimeout": "requests_timeout",
    "publish_on_specific_response_channel": "publish_on_specific_response_channel",
    "publishOnSpecificResponseChannel": "publish_on_specific_response_channel",
}


def redis_adapter_from_options(options: Mapping[str, Any]) -> Callable[[Namespace], RedisAdapter]:
    """:func:`redis_adapter` from a configuration dict (the app's ``{"type": "redis", ...}``).

    Keys: ``url``, or ``host`` / ``port`` / ``db`` / ``password`` as ThinkJS's
    ``socket.io-redis`` options had them; ``key``; ``requests_timeout`` in seconds, or
    ``requestsTimeout`` in milliseconds as in Node; ``publish_on_specific_response_channel``
    (or its camelCase spelling).

    Raises:
        ConfigError: an unknown key, or a value :func:`redis_adapter` refuses.
    """
    kwargs: dict[str, Any] = {}
    parts: dict[str, Any] = {}
    for name, value in options.items():
        if name in ("host", "port", "db", "password"):
            parts[name] = value
        elif name in _OPTION_NAMES:
            kwargs[_OPTION_NAMES[name]] = value
        elif name != "type":
            raise ConfigError(f"adapter.{name}: unknown Redis adapter option")
    if "requestsTimeout" in options:
        kwargs["requests_timeout"] = float(options["requestsTimeout"]) / 1000
    if parts:
        if "url" in kwargs:
            raise ConfigError("adapter: give either url or host/port/db/password, not both")
        auth = f":{quote(str(parts['password']), safe='')}@" if parts.get("password") else ""
        host, port = parts.get("host", "127.0.0.1"), parts.get("port", 6379)
        kwargs["url"] = f"redis://{auth}{host}:{port}/{parts.get('db', 0)}"
    return redis_adapter(**kwargs)
