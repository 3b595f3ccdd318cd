"""Adapter factories for ``Server(adapter=...)`` and the app's ``adapter`` setting.

They check their arguments at once (a wrong URL fails where it is written) and import the
Redis client only when a factory is made: ``thinkio`` itself does not need the ``redis``
extra.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..errors import ConfigError
from .options import RedisOptions

if TYPE_CHECKING:
    from ..server.adapter import Adapter
    from ..server.namespace import Namespace

__all__ = (
    "DEFAULT_URL",
    "redis_adapter",
    "redis_adapter_from_options",
    "redis_streams_adapter",
    "sharded_redis_adapter",
)

DEFAULT_URL = "redis://127.0.0.1:6379/0"

AdapterFactory = Callable[["Namespace"], "Adapter"]


def _check_timeout(requests_timeout: float) -> None:
    if not requests_timeout > 0:
        raise ConfigError(f"requests_timeout: expected seconds > 0, got {requests_timeout!r}")


def redis_adapter(
    url: str = DEFAULT_URL,
    *,
    key: str = "socket.io",
    requests_timeout: float = 5.0,
    publish_on_specific_response_channel: bool = False,
    **redis: Any,
) -> AdapterFactory:
    """Node's classic Redis adapter (``createAdapter``): a :class:`RedisAdapter` per namespace.

    ``**redis`` are the other fields of :class:`~thinkio.adapters.RedisOptions`
    (``sentinels``, ``service_name``, ``cluster``, ``ssl_context``, ``connect_timeout``,
    ``command_timeout``, ``health_check_interval``).

    Raises:
        ConfigError: a bad URL, option or timeout (checked now, not when the server starts).
    """
    options = RedisOptions(url, **redis)
    _check_timeout(requests_timeout)
    from .redis import RedisAdapter

    def factory(namespace: Namespace) -> Adapter:
        return RedisAdapter(
            namespace,
            options=options,
            key=key,
            requests_timeout=requests_timeout,
            publish_on_specific_response_channel=publish_on_specific_response_channel,
        )

    return factory


def sharded_redis_adapter(
    url: str = DEFAULT_URL,
    *,
    channel_prefix: str = "socket.io",
    subscription_mode: str = "dynamic",
    requests_timeout: float = 5.0,
    **redis: Any,
) -> AdapterFactory:
    """Node's sharded adapter (``createShardedAdapter``) on a Redis Cluster: ``SPUBLISH`` /
    ``SSUBSCRIBE`` (Redis 7). ``url`` names one node of the cluster.

    Raises:
        ConfigError: a bad URL, option, subscription mode or timeout.
    """
    options = RedisOptions(url, cluster=True, **redis)
    _check_timeout(requests_timeout)
    from .sharded import SUBSCRIPTION_MODES, ShardedRedisAdapter

    if subscription_mode not in SUBSCRIPTION_MODES:
        raise ConfigError(
            f"subscription_mode: expected one of {', '.join(SUBSCRIPTION_MODES)}, "
            f"got {subscription_mode!r}"
        )

    def factory(namespace: Namespace) -> Adapter:
        return ShardedRedisAdapter(
            namespace,
            options=options,
            channel_prefix=channel_prefix,
            subscription_mode=subscription_mode,
            requests_timeout=requests_timeout,
        )

    return factory


def redis_streams_adapter(
    url: str = DEFAULT_URL,
    *,
    stream_name: str = "socket.io",
    channel_prefix: str = "socket.io",
    max_len: int = 10_000,
    read_count: int = 100,
    block_time: float = 5.0,
    requests_timeout: float = 5.0,
    session_key_prefix: str = "sio:session:",
    **redis: Any,
) -> AdapterFactory:
    """Node's ``@socket.io/redis-streams-adapter``: broadcasts and room operations through a
    Redis stream, so a server whose link to Redis was down reads what it missed. With
    connection state recovery, the stream is the packet log and dropped sessions are kept
    under ``session_key_prefix`` (docs/connection-state-recovery.md).

    Raises:
        ConfigError: a bad URL, option or bound.
    """
    options = RedisOptions(url, **redis)
    _check_timeout(requests_timeout)
    for name, value in (("max_len", max_len), ("read_count", read_count)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name}: expected a positive count, got {value!r}")
    if not block_time > 0:
        raise ConfigError(f"block_time: expected seconds > 0, got {block_time!r}")
    from .streams import RedisStreamsAdapter, StreamOptions

    stream = StreamOptions(stream_name, max_len, read_count, block_time)

    def factory(namespace: Namespace) -> Adapter:
        return RedisStreamsAdapter(
            namespace,
            options=options,
            stream=stream,
            channel_prefix=channel_prefix,
            requests_timeout=requests_timeout,
            session_key_prefix=session_key_prefix,
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


def redis_adapter_from_options(options: Mapping[str, Any]) -> AdapterFactory:
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
