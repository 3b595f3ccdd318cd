"""The WebSocket message layer, sans-IO (wsproto, plus a fast path for the common frame)."""

from .closing import ClosingHandshake
from .connection import WebSocketClosed, WebSocketConnection
from .frames import close_frame, data_frame, unmask
from .handshake import accept_token

__all__ = (
    "ClosingHandshake",
    "WebSocketClosed",
    "WebSocketConnection",
    "accept_token",
    "close_frame",
    "data_frame",
    "unmask",
)
