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
binary arguments travel as raw bytes. ``opts.local`` stays home.

**Life cycle**. :func:`serve` blocks until SIGINT/SIGTERM, then stops accepting, tells the
workers to shut down (their clients get close packets), waits ``shutdown_timeout`` and kills
the rest. A worker that dies is restarted (logged); its sessions are gone and their clients
reconnect. See ``docs/cluster.md``.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskStatus

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
        backend: ``"asyncio"`` or ``"trio"``, for the supervisor and the workers.
        on_ready: called with the bound address once every worker serves.
        **options: more :class:`Cluster` options (``shutdown_timeout``, ...).

    Raises:
        ConfigError: an option is invalid.
        PortInUse: the port is taken.
        WorkerFailed: a worker could not start.
    """
    cluster = Cluster(app, host=host, port=port, workers=workers, backend=backend, **options)
    anyio.run(_serve_until_signalled, cluster, on_ready, backend=backend)


class _Ready(TaskStatus[BoundAddress]):
    """Hands the bound address to a callback when the cluster reports it started."""

    def __init__(self, callback: Callable[[BoundAddress], None] | None) -> None:
        self._callback = callback

    def started(self, value: BoundAddress | None = None) -> None:
        if self._callback is not None and value is not None:
            self._callback(value)


async def _serve_until_signalled(
    cluster: Cluster, on_ready: Callable[[BoundAddress], None] | None = None
) -> None:
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                received = 0
                async for signum in signals:
                    received += 1
                    if received == 1:
                        log.info("%s: shutting down", signal.Signals(signum).name)
                        tg.start_soon(cluster.shutdown)
                    else:
                        log.warning("%s again: killing the workers", signal.Signals(signum).name)
                        tg.cancel_scope.cancel()

        tg.start_soon(watch_signals)
        try:
            await cluster.run(task_status=_Ready(on_ready))
        except Exception as exc:  # re-raised below, unwrapped from the task group
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
