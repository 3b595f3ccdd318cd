"""Sticky multi-process serving on one machine (``sticky_cluster``, ``thinkio run --workers N``).

Design
------

**Supervisor** (:mod:`.supervisor`). One process binds the port and starts N worker
processes (``python -m thinkio.cluster.worker``), each running the user's app factory, and
keeps one UNIX socket pair to each (:mod:`.channel`: length-prefixed frames, a JSON header
and raw binary blobs, never pickle, with a socket descriptor passed along when needed). It
accepts every TCP connection, reads its first request head (bounded in size and time), picks
a worker and passes it the descriptor plus the bytes already read (anyio
``UNIXSocketStream.send_fds``); the worker serves HTTP on it with those bytes fed first.

**Sticky per session, not per IP** (:mod:`.routing`). Worker *i* makes every Engine.IO sid
start with ``"i."`` (``EngineServer.sid_prefix``), so the sid itself names its owner. A
request with a ``sid`` goes to that worker; one without (a handshake) goes round robin.
Behind a reverse proxy every client has the proxy's IP, which is why hashing the IP
(ThinkJS's ``stickyCluster``) cannot spread load there, and a proxy's pooled connection
carries many clients' requests, which no per-connection rule can route right.

**Keep-alive reuse** (:mod:`.worker`). A connection may carry requests of other sessions
later on. The worker looks at every later request: one naming another worker's session is
handed back to the supervisor (the head rebuilt, the bytes h11 had buffered after it, and
the descriptor), which routes it like a new connection. Nothing is lost: the worker's stream
(:mod:`.stream`) reads the socket only when asked, so the unread rest stays in the kernel.
The first request of a handed connection is always served where it was sent, so a
connection cannot bounce.

**Worker bus** (:mod:`.bus`). Each namespace gets a :class:`~.bus.BusAdapter`, a
:class:`~thinkio.adapters.ClusterAdapter` like the Redis ones: broadcasts (with acks too),
``sockets_join`` / ``sockets_leave``, ``disconnect_sockets``, ``fetch_sockets``, server-side
events (with acks too) and ``server_count`` reach every worker, relayed by the supervisor;
binary arguments travel as raw bytes. ``opts.local`` stays home. With connection state
recovery, a client that comes back to another worker is handed its session by the worker
that kept it (:mod:`thinkio.adapters.cluster`).

**Life cycle**. :func:`serve` blocks until SIGINT/SIGTERM, then stops accepting, tells the
workers to shut down (their sessions end without a close packet, so clients reconnect),
waits ``shutdown_timeout`` and kills the rest. A worker that dies is restarted (logged); its
sessions are gone and their clients reconnect. See ``docs/cluster.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..runner import run_until_signalled
from ..server import BoundAddress
from .appref import AppSpec
from .bus import BusAdapter
from .supervisor import Cluster, WorkerFailed

__all__ = ("BusAdapter", "Cluster", "WorkerFailed", "serve")

log = logging.getLogger("thinkio.cluster")


def serve(
    app: AppSpec,
    host: str = "127.0.0.1",
    port: int = 8360,
    *,
    workers: int | None = None,
    backend: str = "asyncio",
    on_ready: Callable[[BoundAddress], None] | None = None,
    **options: Any,
) -> None:
    """Serve ``app`` with a supervisor and ``workers`` processes until SIGINT or SIGTERM.

    A first signal shuts down gracefully (bounded by ``shutdown_timeout``); a second one
    kills the workers at once.

    Args:
        app: an import string ``"package.module:build_server"`` (or a module-level factory)
            giving a :class:`thinkio.server.Server`.
        host: the address to listen on.
        port: the port.
        workers: how many worker processes (default: one per CPU).
        backend: ``"asyncio"``, ``"uvloop"`` or ``"trio"``, for the supervisor and the
            workers (:mod:`thinkio.loops`).
        on_ready: called with the bound address once every worker serves.
        **options: more :class:`Cluster` options (``shutdown_timeout``, ...).

    Raises:
        ConfigError: an option is invalid.
        PortInUse: the port is taken.
        WorkerFailed: a worker could not start.
    """
    cluster = Cluster(app, host=host, port=port, workers=workers, backend=backend, **options)
    run_until_signalled(cluster.run, cluster.shutdown, loop=backend, on_ready=on_ready)
