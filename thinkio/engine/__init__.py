"""The Engine.IO server's I/O: sessions over long-polling and WebSocket (PROTOCOL.md 1).

The protocol itself is :mod:`thinkio.engineio`'s (sans-IO); this package moves its bytes:
:class:`EngineServer` answers the Engine.IO mount's requests, :class:`EngineSocket` binds a
session to its transport and timer, :class:`EngineWebSocket` carries a session (or probes
for an upgrade) over a WebSocket.
"""

from .cookie import SessionCookie
from .handshake import Handshake
from .server import AllowRequest, EngineServer, WebSocketOpener
from .socket import (
    EngineApp,
    EngineHost,
    EngineSocket,
    SessionHandler,
    SessionTransport,
    WebSocketTransport,
)
from .websocket import EngineWebSocket, packet_frame

__all__ = (
    "AllowRequest",
    "EngineApp",
    "EngineHost",
    "EngineServer",
    "EngineSocket",
    "EngineWebSocket",
    "Handshake",
    "SessionCookie",
    "SessionHandler",
    "SessionTransport",
    "WebSocketOpener",
    "WebSocketTransport",
    "packet_frame",
)
