"""The Socket.IO client on anyio: :class:`Client` (asyncio and trio).

The I/O counterpart of :mod:`thinkio.server`, built on the same sans-IO core
(:mod:`thinkio.engineio.client`, :mod:`thinkio.socketio.client`): HTTP/1.1 long-polling on
h11, WebSocket on wsproto, and the polling to WebSocket upgrade. Works with any Socket.IO v4
server (Engine.IO 4, Socket.IO protocol 5), thinkio's or Node's.
"""

from .acks import AckReply
from .client import Client

__all__ = ("AckReply", "Client")
