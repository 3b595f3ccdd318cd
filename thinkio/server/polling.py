"""Long-polling requests of an Engine.IO session: GET (receive) and POST (send).

The rules (one pending GET, one POST in flight, what a GET carries) are the session's; this
module reads and writes HTTP for them (PROTOCOL.md 1.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from ..errors import RemoteProtocolError, RequestRejected
from .http import BodyTooLarge, HttpConnection, HttpRequest

if TYPE_CHECKING:
    from .engine import EngineServer, EngineSocket

__all__ = ("serve_get", "serve_post")

_NO_STORE = (b"cache-control", b"no-store")
_OK_HEADERS = [(b"content-type", b"text/html"), _NO_STORE]


async def serve_get(
    server: EngineServer, conn: HttpConnection, esock: EngineSocket, cors: list[tuple[bytes, bytes]]
) -> None:
    session = esock.session
    try:
        session.begin_get(anyio.current_time())
    except RequestRejected as exc:
        await conn.respond(
            exc.http_status, [(b"content-type", b"application/json"), *cors], exc.json_body()
        )
        return
    except RemoteProtocolError as exc:
        server.pump(esock)
        body = RequestRejected(3, detail=str(exc)).json_body()
        await conn.respond(exc.http_status, [(b"content-type", b"application/json"), *cors], body)
        return
    server.pump(esock)
    result = None
    async with anyio.create_task_group() as tg:

        async def watch_disconnect() -> None:
            await conn.wait_closed()
            tg.cancel_scope.cancel()

        tg.start_soon(watch_disconnect)
        while True:
            changed = esock.changed()
            result = session.take_poll_response(anyio.current_time())
            if result is not None:
                break
            await changed.wait()
        tg.cancel_scope.cancel()
    if result is None:
        session.abort_get(anyio.current_time())
        server.pump(esock)
        return
    body, content_type = result
    server.pump(esock)
    await conn.respond(200, [(b"content-type", content_type.encode()), _NO_STORE, *cors], body)


async def serve_post(
    server: EngineServer,
    request: HttpRequest,
    conn: HttpConnection,
    esock: EngineSocket,
    cors: list[tuple[bytes, bytes]],
) -> None:
    session = esock.session
    json_headers = [(b"content-type", b"application/json"), *cors]
    try:
        session.begin_post(anyio.current_time())
    except RequestRejected as exc:
        await conn.respond(exc.http_status, json_headers, exc.json_body())
        return
    except RemoteProtocolError as exc:
        server.pump(esock)
        await conn.respond(exc.http_status, json_headers, RequestRejected(3).json_body())
        return
    limit = server.options.limits.max_payload_bytes
    try:
        declared = int(request.headers.get("content-length", "0"))
    except ValueError:
        declared = 0
    try:
        if declared > limit:
            raise BodyTooLarge
        body = await conn.read_body(limit)
    except BodyTooLarge:
        session.end_post(None, anyio.current_time())
        server.pump(esock)
        await conn.respond(
            413,
            json_headers,
            b'{"code":3,"message":"Payload too large"}',
            close=True,
        )
        raise
    binary = request.headers.get("content-type", "").startswith("application/octet-stream")
    try:
        session.end_post(body, anyio.current_time(), binary=binary)
    except RemoteProtocolError as exc:
        server.pump(esock)
        await conn.respond(
            exc.http_status, json_headers, RequestRejected(3, detail=str(exc)).json_body()
        )
        return
    server.pump(esock)
    await conn.respond(200, [*_OK_HEADERS, *cors], b"ok")
