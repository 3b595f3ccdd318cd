"""Sockets, the event loop and time: the only code of thinkio that touches them.

* :mod:`.transport`: the :class:`Transport` / :class:`StreamProtocol` pair every protocol
  runs on (asyncio's interface: callbacks in, ``write`` out).
* :mod:`.backend`: which implementation serves a connection — the event loop's own
  transports on asyncio/uvloop (:mod:`._asyncio`); on trio one epoll and one task for every
  connection (:mod:`._epoll`, Linux), or one anyio task per connection (:mod:`._sockets`,
  elsewhere).
* :mod:`.listen`: listening sockets and the accept loop (connection limit, EMFILE backoff).
* :mod:`.timers`: a clock and one timer heap for every deadline of a server.
* :mod:`.tasks`: the task group that runs what callbacks hand off, and knows when it is idle.
"""

from .backend import detach, on_asyncio, serve_socket
from .listen import BoundAddress, PortInUse, listen, serve_listener
from .tasks import TaskSpawner
from .timers import SYSTEM_CLOCK, Clock, DeadlineQueue, Timer, TimerService
from .transport import StreamProtocol, Transport

__all__ = (
    "SYSTEM_CLOCK",
    "BoundAddress",
    "Clock",
    "DeadlineQueue",
    "PortInUse",
    "StreamProtocol",
    "TaskSpawner",
    "Timer",
    "TimerService",
    "Transport",
    "detach",
    "listen",
    "on_asyncio",
    "serve_listener",
    "serve_socket",
)
