"""The I/O layer: the only code that touches sockets, h11, wsproto, clocks and tasks.

Written once against anyio, so it runs on asyncio and trio alike.
"""

from .adapter import Adapter, BroadcastOptions, InMemoryAdapter
from .cors import CorsOptions, CorsPolicy
from .engine import EngineApp, EngineServer, EngineSocket, Handshake
from .http import HttpConnection, HttpRequest, Router
from .namespace import BroadcastOperator, Namespace
from .origins import OriginPolicy
from .serve import BoundAddress, PortInUse, serve_tcp
from .sio import Server
from .socket import Ack, Socket
from .timers import TimerService

__all__ = (
    "Ack",
    "Adapter",
    "BoundAddress",
    "BroadcastOperator",
    "BroadcastOptions",
    "CorsOptions",
    "CorsPolicy",
    "EngineApp",
    "EngineServer",
    "EngineSocket",
    "Handshake",
    "HttpConnection",
    "HttpRequest",
    "InMemoryAdapter",
    "Namespace",
    "OriginPolicy",
    "PortInUse",
    "Router",
    "Server",
    "Socket",
    "TimerService",
    "serve_tcp",
)
