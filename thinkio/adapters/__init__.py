"""Cluster adapters: how broadcasts and socket operations reach other servers.

:func:`redis_adapter` connects thinkio servers (and Node.js socket.io servers using
``@socket.io/redis-adapter``) through one Redis; see ``docs/adapters/redis.md``.
"""

from .errors import AdapterError, ClusterTimeout, RedisReplyError, RedisUnavailable
from .factory import redis_adapter, redis_adapter_from_options
from .link import LinkOptions
from .redis import RedisAdapter
from .remote import RemoteSocket

__all__ = (
    "AdapterError",
    "ClusterTimeout",
    "LinkOptions",
    "RedisAdapter",
    "RedisReplyError",
    "RedisUnavailable",
    "RemoteSocket",
    "redis_adapter",
    "redis_adapter_from_options",
)
