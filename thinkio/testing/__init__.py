"""Test kit: a clock tests move by hand, and an in-memory transport to drive protocols.

For testing code built on thinkio (and thinkio itself) without sleeping and, where the test
is not about sockets, without sockets.
"""

from .clock import FakeClock
from .transport import MemoryTransport

__all__ = ("FakeClock", "MemoryTransport")
