"""An ASGI ``http`` scope served by a thinkio HTTP handler (:data:`thinkio.http.HttpHandler`).

The handler answers through an :class:`~thinkio.http.HttpExchange` as it does on thinkio's
own server: at once, later (an ``async def`` handler), or after a park (an Engine.IO long
poll, answered when the session flushes to it). :class:`AsgiResponder` is that exchange's
owner: it keeps the answer, and :func:`serve_http` sends it with the ASGI ``send()`` once it
is there, or gives up when ``receive()`` reports ``http.disconnect`` first (the exchange is
aborted, as a closed connection aborts it on thinkio's server).
"""

from __future__ import annotations

import logging
import socket
from typing import Any, NamedTuple

import anyio

from ..http import HttpExchange, HttpHandler, HttpRequest, TakenOver
from ..net import StreamProtocol
from .types import Receive, Scope, Send

__all__ = ("AsgiResponder", "read_body", "send_response", "serve_http")

log = logging.getLogger("thinkio.asgi")

_TEXT = (b"content-type", b"text/plain; charset=utf-8")


class Response(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    content_length: int | None


class AsgiResponder:
    """The :class:`~thinkio.http.ExchangeOwner` of a request that came through ASGI."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        #: The answer, once the handler gave it.
        self.response: Response | None = None
        #: Set when there is an answer (or the client went away).
        self.ready = anyio.Event()

    def send_response(
        self,
        exchange: HttpExchange,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        close: bool,
        content_length: int | None,
    ) -> None:
        # ``close``: the ASGI server owns the connection and decides.
        self.response = Response(status, headers, body, content_length)
        self.ready.set()

    def hand_over(self, protocol: StreamProtocol) -> TakenOver:
        raise RuntimeError("an ASGI request's connection cannot be taken over")

    def detach(self) -> tuple[socket.socket, bytes]:
        raise RuntimeError("an ASGI request's connection cannot be detached")

    def park(self) -> None:
        pass  # serve_http waits for the answer anyway

    def transport_info(self, name: str) -> Any:
        if name == "peername":
            return self._scope.get("client")
        if name == "sockname":
            return self._scope.get("server")
        return None


async def send_response(send: Send, response: Response, *, head: bool = False) -> None:
    """Send a whole response (a HEAD's carries the headers only, with a GET's length)."""
    status, headers, body, length = response
    if status not in (204, 304):
        size = len(body) if length is None else length
        headers = [*headers, (b"content-length", str(size).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    no_body = head or status in (204, 304)
    await send({"type": "http.response.body", "body": b"" if no_body else body})


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None if the client went away (or sent more than ``limit``:
    :class:`BodyTooLarge`)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyTooLarge(Exception):
    """The request body is larger than its route accepts."""


async def serve_http(
    handler: HttpHandler,
    request: HttpRequest,
    max_body: int,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Read the body, run ``handler`` on the request, and send its answer (see the module
    docstring). Bad input gets its status: 413 for a body over ``max_body``, 500 when the
    handler fails (logged)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        await send_response(send, Response(413, [_TEXT], b"Payload Too Large", None))
        return
    try:
        body = await read_body(receive, max_body)
    except BodyTooLarge:
        await send_response(send, Response(413, [_TEXT], b"Payload Too Large", None))
        return
    if body is None:
        return
    request.body = body
    responder = AsgiResponder(scope)
    exchange = HttpExchange(responder, request)
    failed = False
    try:
        result = handler(request, exchange)
        if result is not None:
            await result
    except Exception:
        log.exception("handler failed on %s %s", request.method, request.path)
        failed = True
    if failed or not (exchange.done or exchange.parked):
        if not failed:
            log.error("handler for %s %s returned without answering", request.method, request.path)
        exchange.respond(500, [_TEXT], b"Internal Server Error")
    if not responder.ready.is_set():
        # Parked (a long poll): wait for the answer, or for the client to go away.
        async with anyio.create_task_group() as tg:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                exchange.abort()
                responder.ready.set()

            tg.start_soon(watch_disconnect)
            await responder.ready.wait()
            tg.cancel_scope.cancel()
    if responder.response is not None:
        await send_response(send, responder.response, head=request.method == "HEAD")
