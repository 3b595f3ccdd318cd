"""The thinkio app the interop matrix runs real clients against.

    python -m tests.interop.server_app --port 0 --backend asyncio|trio [--no-eio3]

Prints ``listening on HOST:PORT`` once it accepts connections, and shuts down gracefully
(close packets go out, so clients reconnect by themselves) on SIGTERM.

Socket.IO at ``/socket.io/`` (``allow_eio3=True`` unless ``--no-eio3``, which keeps the
low-level API's default, so socket.io 2.x clients are refused):

``/`` (every handler acks with its return value when the client asked for one)
    ``echo *args``         emits ``echo-back *args``
    ``ack-echo *args``     acks ``*args``
    ``binary-echo *args``  emits ``binary-back *args`` and acks ``*args``
    ``ask-client q``       asks the client ``question q`` (server-to-client ack) and acks
                           what the client answered
    ``ask-client-binary``  the same with ``question-binary``; the client answers with bytes
    ``join room``          joins ``room``, acks the socket's rooms
    ``room-say room *a``   ``socket.to(room).emit("room-msg", room, *a)`` (sender excluded)
    ``room-say-all r *a``  ``io.to(room).emit("room-msg", r, *a)`` (sender included)
    ``whoami``             acks ``{id, namespace, auth, protocol, transport}``
``/custom``
    ``echo *args`` emits ``echo-back <namespace> *args``; ``whoami`` as above
``/private``
    a connect middleware refuses everyone whose auth ``token`` is not ``letmein``

Other paths:

``/interop/page.html``, ``/interop/features.js``
    the Chromium test page and the feature checks it shares with the Node clients
``/interop/socket.io.js``, ``/interop/socket.io-v2.js``
    the official browser bundles of socket.io-client 4.x and 2.x (``dist/socket.io.js`` of
    ``socket.io-client`` and ``socket.io-client-v2`` in ``tests/interop/node/node_modules``)
``/interop/stats``
    JSON: open Engine.IO sessions (count and sids), open WebSockets, sockets per namespace
``/interop/seen?run=ID``
    JSON: how requests carrying ``run=ID`` in their query reached Engine.IO (``polling``,
    ``polling-b64`` for v3's ``b64=1``, ``websocket``), so a test can check which transports a
    client really used
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio

from thinkio.errors import ConnectRejected
from thinkio.http import HttpExchange, HttpRequest, Router
from thinkio.server import Server, Socket

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node" / "node_modules"
STATIC: dict[str, tuple[Path, bytes]] = {
    "/interop/page.html": (HERE / "page.html", b"text/html; charset=utf-8"),
    "/interop/features.js": (HERE / "features.js", b"application/javascript; charset=utf-8"),
    "/interop/socket.io.js": (
        NODE_MODULES / "socket.io-client" / "dist" / "socket.io.js",
        b"application/javascript; charset=utf-8",
    ),
    "/interop/socket.io-v2.js": (
        NODE_MODULES / "socket.io-client-v2" / "dist" / "socket.io.js",
        b"application/javascript; charset=utf-8",
    ),
}
#: How many ``run`` ids /interop/seen remembers (oldest forgotten first).
MAX_RUNS = 2000


class TransportLog:
    """Which transports the requests of each tagged run arrived on (bounded)."""

    def __init__(self) -> None:
        self.runs: OrderedDict[str, set[str]] = OrderedDict()

    def record(self, request: HttpRequest) -> None:
        run = request.query.get("run")
        if run is None:
            return
        seen = self.runs.setdefault(run, set())
        self.runs.move_to_end(run)
        transport = request.query.get("transport", "?")
        if request.query.get("b64") in ("1", "true"):
            transport += "-b64"  # a v3 client asking for base64 binary in polling payloads
        seen.add(transport)
        while len(self.runs) > MAX_RUNS:
            self.runs.popitem(last=False)


def build(*, eio3: bool, ping_interval: float, ping_timeout: float, upgrade_timeout: float):
    """The server, with every handler of the module docstring."""
    options: dict[str, Any] = {
        "ping_interval": ping_interval,
        "ping_timeout": ping_timeout,
        "upgrade_timeout": upgrade_timeout,
    }
    if eio3:
        options["allow_eio3"] = True
    io = Server(**options)

    def whoami(socket: Socket) -> dict[str, Any]:
        return {
            "id": socket.id,
            "namespace": socket.namespace.name,
            "auth": socket.auth,
            "protocol": socket.protocol,
            "transport": socket.transport,
        }

    @io.on("echo")
    async def echo(socket: Socket, *args: Any) -> None:
        await socket.emit("echo-back", *args)

    @io.on("ack-echo")
    def ack_echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @io.on("binary-echo")
    async def binary_echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        await socket.emit("binary-back", *args)
        return args

    @io.on("ask-client")
    async def ask_client(socket: Socket, question: Any) -> tuple[Any, ...]:
        return tuple(await socket.call("question", question, timeout=5))

    @io.on("ask-client-binary")
    async def ask_client_binary(socket: Socket, question: Any) -> tuple[Any, ...]:
        return tuple(await socket.call("question-binary", question, timeout=5))

    @io.on("join")
    def join(socket: Socket, room: str) -> list[str]:
        socket.join(room)
        return sorted(socket.rooms)

    @io.on("room-say")
    async def room_say(socket: Socket, room: str, *args: Any) -> str:
        await socket.to(room).emit("room-msg", room, *args)
        return "sent"

    @io.on("room-say-all")
    async def room_say_all(socket: Socket, room: str, *args: Any) -> str:
        await io.to(room).emit("room-msg", room, *args)
        return "sent"

    io.on("whoami", whoami)

    custom = io.of("/custom")

    @custom.on("echo")
    async def custom_echo(socket: Socket, *args: Any) -> None:
        await socket.emit("echo-back", socket.namespace.name, *args)

    custom.on("whoami", whoami)

    private = io.of("/private")

    @private.use
    def only_with_token(socket: Socket) -> None:
        if socket.auth.get("token") != "letmein":
            raise ConnectRejected("not allowed", {"hint": "token"})

    private.on("whoami", whoami)
    return io


def install_routes(io: Server, transports: TransportLog) -> None:
    """Put the test pages and the transport log in front of the Engine.IO mount.

    The server's own router serves only ``/socket.io``; a fresh router with a recording
    wrapper around the same handler replaces it, so every Engine.IO request is seen.
    """
    engine_handle = io.engine.handle

    def socket_io(request: HttpRequest, exchange: HttpExchange) -> object:
        transports.record(request)
        return engine_handle(request, exchange)

    def pages(request: HttpRequest, conn: HttpExchange) -> None:
        if request.path == "/interop/stats":
            stats = {
                "sessions": len(io.engine.sockets),
                "sids": sorted(io.engine.sockets),
                "websockets": io.engine.open_websockets,
                "namespaces": {name: len(ns.sockets) for name, ns in io.namespaces.items()},
            }
            _json(conn, stats)
            return
        if request.path == "/interop/seen":
            seen = transports.runs.get(request.query.get("run", ""), set())
            _json(conn, sorted(seen))
            return
        entry = STATIC.get(request.path)
        if entry is None or not entry[0].is_file():
            conn.respond(404, [(b"content-type", b"text/plain")], b"Not Found")
            return
        body = entry[0].read_bytes()
        conn.respond(200, [(b"content-type", entry[1]), (b"cache-control", b"no-store")], body)

    router = Router()
    router.mount(io.path, socket_io, max_body=io.limits.max_payload_bytes)
    router.mount("/interop", pages)
    io.router = router


def _json(conn: HttpExchange, value: object) -> None:
    body = json.dumps(value).encode()
    conn.respond(200, [(b"content-type", b"application/json")], body)


async def main(args: argparse.Namespace) -> None:
    io = build(
        eio3=args.eio3,
        ping_interval=args.ping_interval,
        ping_timeout=args.ping_timeout,
        upgrade_timeout=args.upgrade_timeout,
    )
    install_routes(io, TransportLog())
    async with anyio.create_task_group() as tg:

        async def stop_on_sigterm() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                async for _ in signals:
                    await io.shutdown(timeout=2)
                    return

        tg.start_soon(stop_on_sigterm)
        bound = await tg.start(io.serve, args.host, args.port)
        print(f"listening on {bound.host}:{bound.port}", flush=True)
        # serve() returns after shutdown(); then nothing else is left to wait for.
        # (The signal task ends by itself once it has shut the server down.)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.interop.server_app", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    parser.add_argument("--no-eio3", dest="eio3", action="store_false")
    parser.add_argument("--ping-interval", type=float, default=5.0)
    parser.add_argument("--ping-timeout", type=float, default=5.0)
    parser.add_argument("--upgrade-timeout", type=float, default=5.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main, args, backend=args.backend)


if __name__ == "__main__":
    cli()
