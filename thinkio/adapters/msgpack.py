"""notepack.io's MessagePack, for the Redis adapters and the worker bus.

The codec itself is :mod:`thinkio._msgpack`, shared with the Socket.IO msgpack parser
(:mod:`thinkio.socketio.msgpack_parser`): Node's redis-adapter and socket.io-msgpack-parser
both write notepack.io's dialect.
"""

from __future__ import annotations

from .._msgpack import DEFAULT_MAX_DEPTH, date_from_ms, packb, unpackb

__all__ = ("DEFAULT_MAX_DEPTH", "date_from_ms", "packb", "unpackb")
