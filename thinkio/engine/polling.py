"""Long-polling requests of an Engine.IO session: GET (receive) and POST (send).

The rules (one pending GET, one POST in flight, what a GET carries) are the session's; this
module answers HTTP for them (PROTOCOL.md 1.4). Both run in the HTTP read callback: a GET is
answered at once when packets are queued, or parked until the session flushes to it.
"""

from __future__ import annotations

from ..errors import RemoteProtocolError, RequestRejected
from ..http import HttpExchange, HttpRequest
from .socket import EngineSocket

__all__ = ("serve_get", "serve_post")

_JSON = (b"content-type", b"application/json")
_OK = [(b"content-type", b"text/html"), (b"cache-control", b"no-store")]


def serve_get(
    esock: EngineSocket, exchange: HttpExchange, cors: list[tuple[bytes, bytes]], now: float
) -> None:
    """Answer a GET now if the session has packets, else park it until it has."""
    session = esock.session
    try:
        session.begin_get(now)
    except RequestRejected as exc:
        esock.pump()  # what the request's arrival caused (a timeout that closed it) goes on
        exchange.respond(exc.http_status, [_JSON, *cors], exc.json_body())
        return
    except RemoteProtocolError as exc:
        # An overlapping GET: the session is closed, and the pending GET gets its close packet.
        esock.pump()
        body = RequestRejected(3, detail=str(exc)).json_body()
        exchange.respond(exc.http_status, [_JSON, *cors], body)
        return
    esock.park_get(exchange, cors)
    if session.unsettled or session.poll_ready:
        # What the GET's arrival caused (a ping due, the session timed out...) reaches the
        # app, and the flush this asks for (at the end of the batch) answers the GET. Else
        # it waits: the usual GET, parked until the session has packets for it.
        esock.pump()


def serve_post(
    esock: EngineSocket,
    request: HttpRequest,
    exchange: HttpExchange,
    cors: list[tuple[bytes, bytes]],
    now: float,
) -> None:
    """Feed a POST's payload to the session and answer ``ok``."""
    session = esock.session
    try:
        session.begin_post(now)
    except RequestRejected as exc:
        esock.pump()  # as in serve_get
        exchange.respond(exc.http_status, [_JSON, *cors], exc.json_body())
        return
    except RemoteProtocolError as exc:
        esock.pump()
        exchange.respond(exc.http_status, [_JSON, *cors], RequestRejected(3).json_body())
        return
    binary = request.headers.get("content-type", "").startswith("application/octet-stream")
    error = esock.receive_post(request.body, binary=binary)
    if error is not None:
        body = RequestRejected(3, detail=str(error)).json_body()
        exchange.respond(error.http_status, [_JSON, *cors], body)
        return
    exchange.respond(200, [*_OK, *cors], b"ok")
