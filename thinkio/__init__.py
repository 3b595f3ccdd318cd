"""thinkio: a Socket.IO server framework on h11, wsproto and anyio, with ThinkJS-style controllers."""

from .app import App
from .client import Client
from .config import Config
from .dispatch import Context, Controller
from .errors import (
    AckTimeout,
    ConfigError,
    ConnectionFailed,
    ConnectRefused,
    ConnectRejected,
    Disconnected,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    RequestRejected,
    ThinkioError,
)
from .limits import DEFAULT_LIMITS, Limits
from .server import NO_ACK, Ack, BoundAddress, Namespace, PortInUse, Server, Socket

__version__ = "0.1.0"

__all__ = (
    "DEFAULT_LIMITS",
    "NO_ACK",
    "Ack",
    "AckTimeout",
    "App",
    "BoundAddress",
    "Client",
    "Config",
    "ConfigError",
    "ConnectRefused",
    "ConnectRejected",
    "ConnectionFailed",
    "Context",
    "Controller",
    "Disconnected",
    "Limits",
    "LocalProtocolError",
    "Namespace",
    "PortInUse",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestRejected",
    "Server",
    "Socket",
    "ThinkioError",
    "__version__",
)
