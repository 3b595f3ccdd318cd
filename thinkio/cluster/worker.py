"""A cluster worker process: builds the app and serves the connections handed to it.

Started by the supervisor as
``python -m thinkio.cluster.worker --app REF --index I --workers N --fd FD --backend NAME``,
with ``FD`` its end of the channel (:mod:`.channel`). The worker:

1. builds the server from the app reference (:mod:`.appref`), makes its session ids start
   with ``"I."`` (:func:`.routing.sid_prefix`) and puts a :class:`.bus.BusAdapter` on every
   namespace (unless the app chose a cluster adapter of its own, such as Redis);
2. says ``ready``, then serves each connection that arrives over the channel with the
   server's HTTP protocol (the bytes the supervisor already read are parsed first);
3. on a *later* request of a keep-alive connection, if the request names a session of
   another worker (by its sid, or by its SockJS session path: :func:`.routing.session_owner`),
   or opens a new session (so that the supervisor balances it), hands the
   connection back to the supervisor: the request head rebuilt, the bytes h11 has buffered
   behind it, and the descriptor. The first request of a handed connection is always
   served here (the supervisor already chose this worker for it), so a connection can never
   bounce between workers;
4. on ``stop`` (or when the supervisor goes away), shuts the server down: clients get close
   packets, then the process exits.

SIGINT is ignored: a Ctrl-C in a terminal reaches the whole process group, and the
supervisor decides how the workers stop.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from ..errors import ConfigError
from ..http import HttpExchange, HttpHandler, HttpRequest, Router
from ..logs import LOG_FORMATS, configure_logging
from ..loops import LOOPS, run
from ..net import serve_socket
from ..runner import return_large_blocks
from ..server import InMemoryAdapter, Server
from .appref import load_app
from .bus import BusAdapter, WorkerBus
from .channel import Channel, ChannelError, Frame
from .routing import owner_of, rebuild_head, session_owner, sid_prefix, sockjs_session

__all__ = ("StickyRouter", "install_bus", "main", "run_worker")

log = logging.getLogger("thinkio.cluster")


def install_bus(server: Server, bus: WorkerBus) -> bool:
    """Give every namespace of ``server`` (present and future) a bus adapter.

    An app that chose an adapter of its own (other than the in-memory one) keeps it: a
    Redis adapter already reaches every process.

    Returns:
        Whether the bus was installed.
    """
    factory = server.adapter_factory
    if factory is not None and factory is not InMemoryAdapter:
        log.info("the app brings its own adapter; broadcasts go through it, not the worker bus")
        return False

    def make(ns: Any) -> BusAdapter:
        return BusAdapter(ns, bus)

    server.adapter_factory = make
    for ns in server.namespaces.values():
        ns.adapter = make(ns)
    return True


class StickyRouter(Router):
    """The server's router, plus the keep-alive check of this module's docstring (step 3).

    Args:
        inner: the server's router.
        engine_path: the Engine.IO mount path.
        index: this worker's index.
        workers: how many workers the cluster has.
        channel: the channel to the supervisor, to hand connections back on.
        sockjs_path: the app's SockJS prefix: a later request of a session another worker
            owns (:func:`.routing.session_owner`) is handed back too. None: no SockJS.
    """

    def __init__(
        self,
        inner: Router,
        engine_path: str,
        index: int,
        workers: int,
        channel: Channel,
        sockjs_path: str | None = None,
    ) -> None:
        super().__init__(inner.fallback)
        self.inner = inner
        self.engine_path = engine_path.rstrip("/")
        self.index = index
        self.workers = workers
        self.channel = channel
        self.sockjs_path = sockjs_path

    def mount(self, path: str, handler: HttpHandler, *, max_body: int | None = None) -> None:
        self.inner.mount(path, handler, max_body=max_body)

    def resolve(self, path: str) -> tuple[HttpHandler, int | None]:
        handler, max_body = self.inner.resolve(path)
        if self.workers < 2:
            return handler, max_body
        sockjs = self.sockjs_path
        if sockjs is not None and (path == sockjs or path.startswith(sockjs + "/")):
            return self._sockjs(path, handler), max_body  # (served instead of Engine.IO)
        engine = path == self.engine_path or path.startswith(self.engine_path + "/")
        if not engine:
            return handler, max_body

        def sticky(request: HttpRequest, exchange: HttpExchange) -> Any:
            if exchange.sequence > 1 and self._elsewhere(request):
                return self._hand_back(request, exchange)
            return handler(request, exchange)

        return sticky, max_body

    def _sockjs(self, path: str, handler: HttpHandler) -> HttpHandler:
        """A later request of a SockJS session another worker owns goes back to the
        supervisor (the first request of a connection is served where it was sent)."""
        assert self.sockjs_path is not None
        session = sockjs_session(path, self.sockjs_path)
        if session is None or session_owner(session, self.workers) == self.index:
            return handler

        def sticky(request: HttpRequest, exchange: HttpExchange) -> Any:
            if exchange.sequence > 1:
                return self._hand_back(request, exchange)
            return handler(request, exchange)

        return sticky

    def _elsewhere(self, request: HttpRequest) -> bool:
        """Whether the supervisor should route this request (not the first of its connection).

        A request for another worker's session must go there. A handshake goes back too, so
        that the supervisor balances it: behind a proxy's pool of keep-alive connections,
        every new session would otherwise stay on the worker that got the connection first.
        """
        sid = request.query.get("sid")
        if not sid:
            return True
        owner = owner_of(sid, self.workers)
        return owner is not None and owner != self.index

    async def _hand_back(self, request: HttpRequest, exchange: HttpExchange) -> None:
        # The body was read already (and de-chunked): announce it by its length.
        headers = [
            (name, value)
            for name, value in request.raw_headers
            if name not in (b"content-length", b"transfer-encoding")
        ]
        if request.body:
            headers.append((b"content-length", str(len(request.body)).encode()))
        head = rebuild_head(request.method, request.target, request.http_version, headers)
        try:
            sock, rest = exchange.detach()
        except OSError:
            return  # the client went away meanwhile
        try:
            await self.channel.send(
                {"t": "conn", "addr": list(request.client)},
                [head + request.body + rest],
                fd=sock.fileno(),
            )
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, ChannelError) as exc:
            log.warning("could not hand a connection back to the supervisor: %s", exc)
        finally:
            sock.close()


def serve_connection(message: Frame, server: Server) -> None:
    """Serve HTTP on a connection the supervisor handed over."""
    assert message.fd is not None
    sock = socket.socket(fileno=message.fd)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    prefix = message.blobs[0] if message.blobs else b""
    serve_socket(sock, server.http.protocol(prefix), spawn=server.tasks.spawn)


async def run_worker(
    reference: str, args: Sequence[str], index: int, workers: int, fd: int
) -> None:
    """Build the app and serve until told to stop (or the supervisor goes away).

    Raises:
        ConfigError: the app cannot be built.
    """
    channel = await Channel.from_socket(fd)
    app = await load_app(reference, args)
    server = app.server
    server.engine.sid_prefix = sid_prefix(index)
    if server.metrics is not None:  # each worker serves its own, told apart by a label
        server.metrics.add_labels({"worker": str(index)})
    bus = WorkerBus(channel, server, index=index)
    install_bus(server, bus)
    server.router = StickyRouter(
        server.router, server.path, index, workers, channel, app.sockjs_path
    )
    stopping = False
    async with anyio.create_task_group() as tg:

        async def stop(timeout: float) -> None:
            try:
                await app.shutdown(timeout)
            finally:
                tg.cancel_scope.cancel()

        await tg.start(server.run)
        # Logged before saying so: this line comes before the supervisor's "listening on".
        log.info("worker %d serving (pid %d)", index, os.getpid())
        ready: dict[str, Any] = {"t": "ready", "pid": os.getpid()}
        if app.sockjs_path is not None:
            ready["sockjs"] = app.sockjs_path
        await channel.send(ready)
        while True:
            try:
                message = await channel.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ChannelError) as exc:
                if not stopping:
                    log.warning("worker %d: the supervisor went away (%r); stopping", index, exc)
                    stopping = True
                    tg.start_soon(stop, 1.0)
                break
            if message.type == "conn" and message.fd is not None:
                serve_connection(message, server)
            elif message.type == "stop":
                if not stopping:
                    stopping = True
                    timeout = message.header.get("timeout", 5.0)
                    tg.start_soon(stop, float(timeout) if isinstance(timeout, int | float) else 5.0)
            else:
                if message.fd is not None:  # a descriptor nobody asked for
                    os.close(message.fd)
                bus.handle(message)
    await channel.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """The worker's command line (see the module docstring). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m thinkio.cluster.worker")
    parser.add_argument("--app", required=True, help="import string of the app")
    parser.add_argument("--app-arg", action="append", default=[], help="a factory argument")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--fd", type=int, required=True, help="the channel's descriptor")
    parser.add_argument("--backend", default="asyncio", choices=LOOPS)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-format", default="text", choices=LOG_FORMATS)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(
        args.log_level,
        args.log_format,
        prefix=f"worker {args.index} [%(process)d] ",
        static={"worker": args.index},
    )
    return_large_blocks()  # a worker's process is thinkio's, as `thinkio run`'s is
    try:
        run(
            run_worker,
            args.app,
            args.app_arg,
            args.index,
            args.workers,
            args.fd,
            loop=args.backend,
        )
    except ConfigError as exc:
        log.error("worker %d cannot start: %s", args.index, exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
