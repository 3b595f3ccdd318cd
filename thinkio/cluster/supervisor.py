"""The supervisor: the listening socket, the worker processes, sticky routing, the bus relay.

One task accepts connections. For each, a task reads the first request head (bounded in size
and time, :func:`.routing.peek_head`), picks the worker (the owner named by the ``sid``, or
round robin for a handshake) and passes it the socket and the bytes read (:mod:`.channel`).
The supervisor then closes its copy: it never reads a connection past its first head and never
writes to one (except a 503 when no worker is serving).

One task per worker starts its process, reads its channel (connections handed back, bus
publications and requests to relay, answers to forward) and, when the process dies, logs it
and starts a new one (with a growing delay if it keeps dying at once). Its sessions are gone;
their clients reconnect and get a new session on a live worker.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import Process, TaskStatus

from .._backoff import Backoff
from ..errors import ConfigError, ThinkioError
from ..limits import DEFAULT_LIMITS, Limits
from ..logs import LOG_FORMATS
from ..loops import LOOPS
from ..net import BoundAddress, PortInUse
from .appref import AppSpec, app_reference
from .channel import Channel, ChannelError
from .relay import Relay
from .routing import UNAVAILABLE, ConnectionRouter

__all__ = ("Cluster", "WorkerFailed")

log = logging.getLogger("thinkio.cluster")

#: A worker that lived this long before dying is restarted at once; sooner, with a delay.
_STABLE_SECONDS = 5.0
#: The delay after each quick death in a row: 0.1 s, doubling up to 5 s.
_RESTART_BACKOFF = Backoff(0.1, 5.0)


class WorkerFailed(ThinkioError):
    """A worker process could not start (its own log says why)."""


@dataclass(slots=True)
class _Worker:
    index: int
    process: Process | None = None
    channel: Channel | None = None
    pid: int | None = None
    ready: bool = False
    ever_ready: bool = False
    gone: anyio.Event = field(default_factory=anyio.Event)


class Cluster:
    """A supervisor and its workers, on one port.

    Args:
        app: the app every worker runs, as an import string (``"pkg.module:build_server"``)
            or a module-level factory (see :mod:`.appref`).
        app_args: string arguments for the factory (a project directory, say).
        host: the address to listen on.
        port: the port (0: any free port; :meth:`run` reports the real one).
        workers: how many worker processes (default: one per CPU).
        backend: the event loop of the supervisor and the workers, ``"asyncio"``,
            ``"uvloop"`` or ``"trio"`` (:mod:`thinkio.loops`).
        shutdown_timeout: seconds the workers get to close their sessions on shutdown
            before they are killed.
        startup_timeout: seconds a worker may take to build the app and become ready.
        head_timeout: seconds a new connection may take to send its first request head.
        limits: the HTTP head size bound is taken from here.
        log_level: the workers' log level (default: the supervisor's).
        log_format: the workers' log format, ``"text"`` or ``"json"`` (:mod:`thinkio.logs`).

    Raises:
        ConfigError: an argument is out of range, or ``app`` cannot be named for a worker.
    """

    def __init__(
        self,
        app: AppSpec,
        *,
        app_args: Sequence[str] = (),
        host: str = "127.0.0.1",
        port: int = 8360,
        workers: int | None = None,
        backend: str = "asyncio",
        shutdown_timeout: float = 10.0,
        startup_timeout: float = 30.0,
        head_timeout: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
        log_level: int | str | None = None,
        log_format: str = "text",
    ) -> None:
        self.reference = app_reference(app)
        if isinstance(app_args, str) or not all(isinstance(a, str) for a in app_args):
            raise ConfigError(f"app_args: expected a list of strings, got {app_args!r}")
        self.app_args = tuple(app_args)
        count = workers if workers is not None else (os.cpu_count() or 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1024:
            raise ConfigError(f"workers: expected a count from 1 to 1024, got {workers!r}")
        if backend not in LOOPS:
            raise ConfigError(f"backend: expected one of {', '.join(LOOPS)}, got {backend!r}")
        for name, value in (
            ("shutdown_timeout", shutdown_timeout),
            ("startup_timeout", startup_timeout),
            ("head_timeout", head_timeout),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name}: expected a positive number of seconds, got {value!r}")
        self.host, self.port, self.backend = host, port, backend
        self.shutdown_timeout = float(shutdown_timeout)
        self.startup_timeout = float(startup_timeout)
        self.head_timeout = float(head_timeout)
        self.limits = limits
        level = log_level if log_level is not None else logging.getLogger().getEffectiveLevel()
        self.log_level = logging.getLevelName(level) if isinstance(level, int) else level
        if log_format not in LOG_FORMATS:
            raise ConfigError(f"log_format: expected one of {LOG_FORMATS}, got {log_format!r}")
        self.log_format = log_format
        self.workers = [_Worker(i) for i in range(count)]
        #: Workers started again after they died.
        self.restarts = 0
        self.address: BoundAddress | None = None
        self._stopping = False
        self._failure: str | None = None
        self._stop = anyio.Event()
        self._stopped = anyio.Event()
        self._router = ConnectionRouter(self.workers, self.head_timeout, limits.max_header_bytes)
        self._relay = Relay(self._send_to, lambda: [w.index for w in self.workers if w.ready])

    # -- public --------------------------------------------------------------------------------

    def worker_pids(self) -> list[int | None]:
        """The process id of each worker that is serving (None where one is starting)."""
        return [w.pid if w.ready else None for w in self.workers]

    async def run(
        self, *, task_status: TaskStatus[BoundAddress] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the workers, then route connections until :meth:`shutdown`.

        Reports the bound address once every worker is ready (``await tg.start(c.run)``).
        A cluster runs once.

        Raises:
            PortInUse: the port is taken.
            WorkerFailed: a worker exited, or did not become ready, during start-up.
        """
        try:
            lsock, self.address = await self._listen()
        except BaseException:
            self._stopped.set()
            raise
        try:
            async with anyio.create_task_group() as tg:
                for worker in self.workers:
                    tg.start_soon(self._supervise, worker)
                with anyio.move_on_after(self.startup_timeout + 1):
                    while not all(w.ready for w in self.workers) and not self._stop.is_set():
                        await anyio.sleep(0.02)
                if self._stop.is_set():
                    pass  # shut down during start-up, or a worker failed (self._failure)
                elif all(w.ready for w in self.workers):
                    async with anyio.create_task_group() as accepting:
                        accepting.start_soon(self._router.accept_loop, lsock, accepting)
                        log.info(
                            "listening on %s (%d workers)", self.address.url, len(self.workers)
                        )
                        task_status.started(self.address)
                        await self._stop.wait()
                        accepting.cancel_scope.cancel()
                else:
                    self._failure = "the workers did not all become ready in time"
                lsock.close()
                await self._stop_workers()
                tg.cancel_scope.cancel()
        finally:
            lsock.close()
            with anyio.CancelScope(shield=True):
                await self._kill_all()
            self._stopped.set()
        if self._failure is not None:
            raise WorkerFailed(self._failure)

    async def shutdown(self) -> None:
        """Stop accepting, let the workers close their sessions, and wait until all is done.

        Workers that take longer than ``shutdown_timeout`` are killed.
        """
        self._stop.set()
        await self._stopped.wait()

    # -- start-up and shutdown -----------------------------------------------------------------

    async def _listen(self) -> tuple[socket.socket, BoundAddress]:
        infos = await anyio.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, _, _, _, sockaddr = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(sockaddr)
            sock.listen(1024)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"{self.host}:{self.port} is already in use; pick another port"
                ) from None
            raise
        name = sock.getsockname()
        return sock, BoundAddress(host=str(name[0]), port=int(name[1]))

    async def _stop_workers(self) -> None:
        self._stopping = True
        drain = self.shutdown_timeout * 0.8
        for worker in self.workers:
            await self._send(worker, {"t": "stop", "timeout": drain})
        with anyio.move_on_after(self.shutdown_timeout):
            for worker in self.workers:
                await worker.gone.wait()
        for worker in self.workers:
            proc = worker.process
            if proc is not None and proc.returncode is None:
                log.warning("worker %d did not stop in time; killing it", worker.index)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()

    async def _kill_all(self) -> None:
        self._stopping = True
        for worker in self.workers:
            proc = worker.process
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        with anyio.move_on_after(5):
            for worker in self.workers:
                if worker.process is not None:
                    await worker.process.wait()

    # -- one worker's life ---------------------------------------------------------------------

    async def _supervise(self, worker: _Worker) -> None:
        quick_deaths = 0
        while not self._stopping:
            worker.gone = anyio.Event()
            started = anyio.current_time()
            try:
                code = await self._run_worker(worker)
            except Exception:
                log.exception("worker %d could not be run", worker.index)
                code = None
            finally:
                worker.gone.set()
            if self._stopping:
                return
            if not worker.ever_ready:
                self._failure = f"worker {worker.index} exited with code {code} before it was ready"
                log.error("%s; see its log above", self._failure)
                self._stop.set()
                return
            lived = anyio.current_time() - started
            quick_deaths = 0 if lived > _STABLE_SECONDS else quick_deaths + 1
            delay = _RESTART_BACKOFF.duration(quick_deaths) if quick_deaths else 0.0
            self.restarts += 1
            log.warning(
                "worker %d (pid %s) exited with code %s; its sessions are gone; restarting it%s",
                worker.index,
                worker.pid,
                code,
                f" in {delay:.1f} s" if delay else "",
            )
            await anyio.sleep(delay)

    def _command(self, worker: _Worker, fd: int) -> list[str]:
        return [
            sys.executable, "-m", "thinkio.cluster.worker",
            "--app", self.reference,
            "--index", str(worker.index),
            "--workers", str(len(self.workers)),
            "--fd", str(fd),
            "--backend", self.backend,
            "--log-level", str(self.log_level),
            "--log-format", self.log_format,
            *(f"--app-arg={arg}" for arg in self.app_args),
        ]  # fmt: skip

    async def _run_worker(self, worker: _Worker) -> int | None:
        """Run one process of this worker until it exits; returns its exit code."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            proc = await anyio.open_process(
                self._command(worker, child.fileno()),
                stdin=subprocess.DEVNULL,
                stdout=None,
                stderr=None,
                pass_fds=(child.fileno(),),
                start_new_session=True,
                env=env,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        worker.process, worker.pid, worker.ready = proc, proc.pid, False
        channel = await Channel.from_socket(parent)
        worker.channel = channel
        try:
            async with anyio.create_task_group() as tg:

                async def watchdog() -> None:
                    await anyio.sleep(self.startup_timeout)
                    if not worker.ready:
                        log.error("worker %d not ready after %s s; killing it",
                                  worker.index, self.startup_timeout)  # fmt: skip
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()

                tg.start_soon(watchdog)
                await self._read_worker(worker, channel, proc)
                tg.cancel_scope.cancel()
        finally:
            worker.ready, worker.channel = False, None
            with anyio.CancelScope(shield=True):
                await channel.aclose()
                # The channel ends when the worker exits; give it a moment to finish doing so.
                with anyio.move_on_after(2):
                    await proc.wait()
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    await proc.wait()
        return proc.returncode

    async def _read_worker(self, worker: _Worker, channel: Channel, proc: Process) -> None:
        while True:
            try:
                message = await channel.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
            except ChannelError as exc:
                log.error("worker %d sent a bad frame (%s); killing it", worker.index, exc)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                return
            kind = message.type
            if message.fd is not None and kind != "conn":  # a descriptor nobody asked for
                os.close(message.fd)
            if kind == "ready":
                sockjs = message.header.get("sockjs")
                if isinstance(sockjs, str):  # every worker runs the same app
                    self._router.sockjs_path = sockjs
                worker.ready = worker.ever_ready = True
                if self._stopping:  # started while the cluster began to stop
                    await self._send(worker, {"t": "stop", "timeout": self.shutdown_timeout * 0.8})
            elif kind == "conn":
                if message.fd is not None:
                    try:
                        data = message.blobs[0] if message.blobs else b""
                        addr = message.header.get("addr")
                        if not await self._router.dispatch(message.fd, data, addr):
                            with contextlib.suppress(OSError):
                                os.write(message.fd, UNAVAILABLE)
                    finally:
                        os.close(message.fd)
            elif not await self._relay.route(worker.index, message):
                log.warning("worker %d sent an unknown message %r", worker.index, kind)

    async def _send(
        self, worker: _Worker, header: dict[str, Any], blobs: list[bytes] | None = None
    ) -> None:
        channel = worker.channel
        if channel is not None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await channel.send(header, blobs or [])

    async def _send_to(self, index: int, header: dict[str, Any], blobs: list[bytes]) -> None:
        await self._send(self.workers[index], header, blobs)
