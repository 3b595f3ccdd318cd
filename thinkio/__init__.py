"""thinkio: a Socket.IO server framework on h11, wsproto and anyio, with ThinkJS-style controllers."""

from importlib.machinery import EXTENSION_SUFFIXES as _EXTENSION_SUFFIXES

from .app import App
from .client import Client
from .config import Config
from .dispatch import Context, Controller
from .engineio import session as _engineio_session
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

#: Whether this install is the compiled build (the protocol modules compiled with mypyc:
#: ``THINKIO_MYPYC=1`` at build time, see ``setup.py``) rather than pure Python.
COMPILED: bool = str(_engineio_session.__file__).endswith(tuple(_EXTENSION_SUFFIXES))

__all__ = (
    "COMPILED",
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
