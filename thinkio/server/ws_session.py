"""An Engine.IO session on a WebSocket: a new WebSocket-only session, or the probe of a
polling session's upgrade and then its transport (PROTOCOL.md 1.6).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio

from ..engineio import ExistingSession, NewSession
from ..errors import RemoteProtocolError
from .http import HttpConnection, HttpRequest
from .websocket import HandshakeFailed, WebSocket, accept_websocket
from .wsframe import packet_frame

if TYPE_CHECKING:
    from .engine import EngineServer, EngineSocket

__all__ = ("serve_websocket",)

log = logging.getLogger("thinkio.engineio")

#: Seconds a closing WebSocket may take to flush what was queued before it is cut.
_FLUSH_TIMEOUT = 5.0


async def serve_websocket(
    server: EngineServer,
    request: HttpRequest,
    conn: HttpConnection,
    route: NewSession | ExistingSession,
    esock: EngineSocket | None,
) -> None:
    try:
        ws = await accept_websocket(
            request, conn, max_message=server.options.limits.max_payload_bytes
        )
    except HandshakeFailed as exc:
        await conn.respond(
            400, [(b"content-type", b"text/html")], f"Bad request: {exc}".encode(), close=True
        )
        return
    if isinstance(route, NewSession):
        await _run(server, server._open(route, request), ws)
        return
    assert esock is not None
    session = esock.session
    try:
        session.begin_upgrade(anyio.current_time())
    except RemoteProtocolError as exc:
        log.info("refusing a second WebSocket for session %s: %s", esock.sid, exc)
        await ws.close(1008, "session cannot upgrade")
        return
    server.pump(esock)
    if await _probe(server, esock, ws):
        await _run(server, esock, ws)
    else:
        await ws.close(1000)


async def _probe(server: EngineServer, esock: EngineSocket, ws: WebSocket) -> bool:
    """Run the upgrade probe; True if the WebSocket is now the session's transport."""
    session = esock.session
    deadline = anyio.current_time() + server.options.upgrade_timeout
    while session.upgrading:
        with anyio.move_on_after(max(deadline - anyio.current_time(), 0)):
            message = await ws.receive()
            if message is None:
                session.probe_closed(anyio.current_time())
                server.pump(esock)
                return False
            # Handle every frame of this read before yielding, as Node does: a client
            # that sends "2probe" and "5" back to back must not see a request of its
            # own, sent right after them, served in between.
            replies = []
            while message is not None:
                replies += session.receive_probe(message, anyio.current_time())
                message = ws.receive_nowait() if session.upgrading else None
            server.pump(esock)
            await ws.send_frames([packet_frame(p, esock.protocol) for p in replies])
            continue
        session.handle_timeout(anyio.current_time())
        server.pump(esock)
    return session.transport == "websocket" and not session.closed


async def _run(server: EngineServer, esock: EngineSocket, ws: WebSocket) -> None:
    server.open_websockets += 1
    try:
        await _loop(server, esock, ws)
    finally:
        server.open_websockets -= 1


async def _loop(server: EngineServer, esock: EngineSocket, ws: WebSocket) -> None:
    session = esock.session
    protocol = esock.protocol

    async def writer() -> None:
        while True:
            changed = esock.changed()
            packets = session.take_ws_packets()
            if packets:
                await ws.send_frames([packet_frame(p, protocol) for p in packets])
            elif session.closed or ws.closed:
                await ws.close(1000)
                return
            else:
                await changed.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        while True:
            message = await ws.receive()
            if message is None:
                if not session.closed:
                    session.transport_closed(anyio.current_time())
                    server.pump(esock)
                break
            # Every frame already read is handled before the next yield (see _probe).
            while message is not None and not session.closed:
                try:
                    session.receive_ws(message, anyio.current_time())
                except RemoteProtocolError as exc:
                    log.info("session %s: %s", esock.sid, exc)
                message = ws.receive_nowait()
            server.pump(esock)
            if session.closed:
                break
        # The session is over: the writer flushes what is left, then closes the socket.
        # A peer that stops reading must not hold this task forever.
        tg.cancel_scope.deadline = anyio.current_time() + _FLUSH_TIMEOUT
    await ws.close(1000)
