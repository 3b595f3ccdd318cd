"""The ASGI applications the ASGI tests serve with uvicorn and hypercorn (real subprocesses).

``tests.asgi.apps:wrapped``
    thinkio's :class:`ASGIApp` wrapping a Starlette app: Socket.IO at ``/socket.io``, and
    Starlette's routes for every other path: ``POST /notify`` emits ``notice`` with its JSON
    body to every socket, ``GET /hello`` answers ``hello``.
``tests.asgi.apps:mounted``
    a Starlette app with the thinkio app mounted at ``/ws`` (Socket.IO at
    ``/ws/socket.io``) and its lifespan given to Starlette; ``POST /notify`` as above; and
    a second thinkio app mounted at ``/cold`` whose lifespan nobody runs.

Handshakes with ``?deny=1`` are refused by ``allow_request``.
On ``/``: ``echo *args`` emits ``echo-back *args``; ``ack *args`` acks ``*args``;
``big`` acks the length of its argument.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

from thinkio.asgi import ASGIApp
from thinkio.http import HttpRequest
from thinkio.server import Server, Socket


async def allow_request(request: HttpRequest) -> bool | str:
    """Refuse handshakes asking ``?deny=1`` (every other one goes through this async hook
    too, so the tests cover its path under ASGI)."""
    return "denied by allow_request" if request.query.get("deny") == "1" else True


def build_server() -> Server:
    io = Server(ping_interval=5, ping_timeout=5, upgrade_timeout=5, allow_request=allow_request)

    @io.on("echo")
    async def echo(socket: Socket, *args: Any) -> None:
        await socket.emit("echo-back", *args)

    @io.on("ack")
    def ack(socket: Socket, *args: Any) -> tuple[Any, ...]:
        return args

    @io.on("big")
    def big(socket: Socket, data: Any) -> int:
        return len(data)

    return io


def starlette_routes(io: Server) -> list[Any]:
    async def notify(request: Request) -> JSONResponse:
        body = await request.json()
        await io.emit("notice", body)
        return JSONResponse({"sent": len(io.sockets.sockets)})

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return [Route("/notify", notify, methods=["POST"]), Route("/hello", hello)]


_io = build_server()
wrapped = ASGIApp(_io, other_asgi_app=Starlette(routes=starlette_routes(_io)))

_io_mounted = build_server()
_sio = ASGIApp(_io_mounted)
#: Mounted without its lifespan given to Starlette: never started (answers 503).
_cold = ASGIApp(build_server())
mounted = Starlette(
    routes=[*starlette_routes(_io_mounted), Mount("/ws", app=_sio), Mount("/cold", app=_cold)],
    lifespan=_sio.lifespan,
)
