"""The WebSocket message layer, sans-IO (wsproto, plus a fast path for the common frame)."""

from .connection import WebSocketClosed, WebSocketConnection
from .frames import close_frame, data_frame, unmask
from .handshake import accept_token

__all__ = (
    "WebSocketClosed",
    "WebSocketConnection",
    "accept_token",
    "close_frame",
    "data_frame",
    "unmask",
)
