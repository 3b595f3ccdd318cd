"""The WebSocket message layer, sans-IO (wsproto, plus a fast path for the common frame)."""

from .connection import WebSocketClosed, WebSocketConnection
from .frames import close_frame, data_frame, unmask

__all__ = ("WebSocketClosed", "WebSocketConnection", "close_frame", "data_frame", "unmask")
