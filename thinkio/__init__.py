"""thinkio: a Socket.IO server framework on h11, wsproto and anyio, with ThinkJS-style controllers."""

from .client import Client
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
from .server import BoundAddress, Namespace, PortInUse, Server, Socket

__version__ = "0.1.0"

__all__ = (
    "DEFAULT_LIMITS",
    "AckTimeout",
    "BoundAddress",
    "Client",
    "ConfigError",
    "ConnectRefused",
    "ConnectRejected",
    "ConnectionFailed",
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
