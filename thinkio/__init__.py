"""thinkio: a Socket.IO server framework on h11, wsproto and anyio, with ThinkJS-style controllers."""

from .errors import (
    ConfigError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    RequestRejected,
    ThinkioError,
)
from .limits import DEFAULT_LIMITS, Limits

__version__ = "0.1.0"

__all__ = (
    "DEFAULT_LIMITS",
    "ConfigError",
    "Limits",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestRejected",
    "ThinkioError",
    "__version__",
)
