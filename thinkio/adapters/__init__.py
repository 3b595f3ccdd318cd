"""Cluster adapters: how broadcasts and socket operations reach other servers.

One model for all of them (:mod:`.cluster`, :mod:`.messages`): a :class:`ClusterAdapter`
sends typed messages through a transport and applies what other servers send. Transports:
Redis pub/sub compatible with Node's ``@socket.io/redis-adapter`` (:func:`redis_adapter`,
and :func:`sharded_redis_adapter` on a Redis Cluster), Redis Streams compatible with
``@socket.io/redis-streams-adapter`` (:func:`redis_streams_adapter`), and the worker bus of
``thinkio.cluster``. See ``docs/adapters/``.

The Redis adapters need the ``redis`` extra (coredis); their classes are imported on first
use, so ``import thinkio.adapters`` works without it.
"""

from typing import Any

from .cluster import ClusterAdapter
from .errors import AdapterError, ClusterTimeout, RedisUnavailable
from .factory import (
    redis_adapter,
    redis_adapter_from_options,
    redis_streams_adapter,
    sharded_redis_adapter,
)
from .options import RedisOptions
from .remote import RemoteSocket

__all__ = (
    "AdapterError",
    "ClusterAdapter",
    "ClusterTimeout",
    "RedisAdapter",
    "RedisOptions",
    "RedisStreamsAdapter",
    "RedisUnavailable",
    "RemoteSocket",
    "ShardedRedisAdapter",
    "redis_adapter",
    "redis_adapter_from_options",
    "redis_streams_adapter",
    "sharded_redis_adapter",
)

_LAZY = {
    "RedisAdapter": ".redis",
    "ShardedRedisAdapter": ".sharded",
    "RedisStreamsAdapter": ".streams",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thinkio.adapters' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)
