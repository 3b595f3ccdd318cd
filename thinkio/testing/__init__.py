"""Test kit for thinkio, its applications and its extensions.

* :class:`FakeClock`: a clock tests move by hand, so heartbeats and timeouts are tested
  without sleeping.
* :class:`MemoryTransport`: an in-memory transport to drive a protocol (HTTP, WebSocket,
  Engine.IO) with bytes, back-pressure included, without sockets.
* :func:`check_adapter` (:mod:`.adapter_contract`): the behaviours every adapter must show,
  to run against your own (``docs/adapters/writing-an-adapter.md``).
"""

from .adapter_contract import CHECKS, ServerFactory, check_adapter
from .clock import FakeClock
from .transport import MemoryTransport

__all__ = ("CHECKS", "FakeClock", "MemoryTransport", "ServerFactory", "check_adapter")
