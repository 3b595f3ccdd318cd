"""The Socket.IO server (Node's ``io``): ``Server``, ``Namespace``, ``Socket``, adapters.

It sits on :mod:`thinkio.engine` (Engine.IO sessions), which sits on :mod:`thinkio.http` and
:mod:`thinkio.net`; each layer is a package, and imports only point down.
"""

from ..engine import Handshake
from ..http import CorsOptions, CorsPolicy, OriginPolicy
from ..net import BoundAddress, PortInUse
from .acks import NO_ACK, Ack
from .adapter import Adapter, AdapterHome, BroadcastOptions, InMemoryAdapter
from .broadcast import BroadcastOperator
from .driver import SessionDriver
from .emits import FlaggedEmit, TimedEmit
from .handlers import call_handler, takes_ack
from .namespace import Namespace, ParentNamespace
from .recovery import RecoveryOptions
from .server import Server
from .socket import Socket

__all__ = (
    "NO_ACK",
    "Ack",
    "Adapter",
    "AdapterHome",
    "BoundAddress",
    "BroadcastOperator",
    "BroadcastOptions",
    "CorsOptions",
    "CorsPolicy",
    "FlaggedEmit",
    "Handshake",
    "InMemoryAdapter",
    "Namespace",
    "OriginPolicy",
    "ParentNamespace",
    "PortInUse",
    "RecoveryOptions",
    "Server",
    "SessionDriver",
    "Socket",
    "TimedEmit",
    "call_handler",
    "takes_ack",
)
