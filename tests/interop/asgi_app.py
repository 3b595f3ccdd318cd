"""The interop app (``server_app.py``'s handlers and pages) as an ASGI application, for the
ASGI rows of the matrix: ``uvicorn tests.interop.asgi_app:app``, ``hypercorn -k trio
tests.interop.asgi_app:app``.

The pages and the polling requests go through the same router as on thinkio's own server (so
``/interop/seen`` records them there); the WebSocket scopes are recorded here, on their way
to :class:`thinkio.asgi.ASGIApp`.
"""

from __future__ import annotations

from thinkio.asgi import ASGIApp
from thinkio.asgi.request import relative_path, request_from_scope
from thinkio.asgi.types import Receive, Scope, Send

from .server_app import TransportLog, build, install_routes

io = build(eio3=True, ping_interval=5.0, ping_timeout=5.0, upgrade_timeout=5.0)
transports = TransportLog()
install_routes(io, transports)
sio = ASGIApp(io)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket" and relative_path(scope).startswith(io.path):
        transports.record(request_from_scope(scope, websocket=True))
    await sio(scope, receive, send)
