"""A Socket.IO client over HTTP long-polling for the load generator (raw keep-alive HTTP/1.1).

Each client holds two keep-alive connections, as a browser does: one for the pending GET that
carries the server's packets, one for the POSTs that carry the client's. Requests are written
as pre-built bytes on an asyncio Protocol and responses are parsed by httptools (llhttp, in
C): an HTTP client library would add a request object, a task and a pool per request, which
is what this generator must not cost. Packets in a body are split on the record separator
``\\x1e`` (Engine.IO v4 payloads).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable

import httptools

from .wsclient import ConnectFailed

__all__ = ("PollingClient",)

_SEP = b"\x1e"
ResponseHandler = Callable[[int, bytes], None]


class _Http(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests one at a time, each with a callback."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.waiting: deque[ResponseHandler] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        waiting, self.waiting = self.waiting, deque()
        for handler in waiting:
            handler(0, b"")  # status 0: the connection went away

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        self.body.clear()
        if self.waiting:
            self.waiting.popleft()(self.parser.get_status_code(), body)

    def request(self, raw: bytes, handler: ResponseHandler) -> None:
        if self.transport is None or self.transport.is_closing():
            handler(0, b"")
            return
        self.waiting.append(handler)
        self.transport.write(raw)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class PollingClient:
    """One client on the main namespace over polling; the same surface as a WebSocket one.

    ``send(packet)`` POSTs an Engine.IO message packet (``42...``); events and acks that
    arrive go to ``on_packet(client, packet)``. POSTs queued while one is in flight leave
    together in the next one, joined by the separator.
    """

    def __init__(self, host: str, port: int, index: int) -> None:
        loop = asyncio.get_running_loop()
        self.host, self.port, self.index = host, port, index
        self.on_packet: Callable[[PollingClient, bytes], None] = _ignore
        self.ready: asyncio.Future[None] = loop.create_future()
        self.unexpected = 0
        self.errors = 0
        self._get: _Http | None = None
        self._post: _Http | None = None
        self._path = b""
        self._sent = 0
        self._queue: list[bytes] = []
        self._posting = False
        self._closing = False

    def _request(self, method: bytes, body: bytes = b"") -> bytes:
        # Every request carries a fresh cache buster, as socket.io-client's and python-engineio's
        # do (``t=``): no server sees the same request head twice.
        self._sent += 1
        path = self._path + b"&t=%x" % self._sent
        head = method + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % self.port
        if method == b"POST":
            head += b"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n" % len(body)
        return head + b"\r\n" + body

    async def open(self, timeout: float) -> None:
        """Handshake, Socket.IO CONNECT, and the first pending GET; or :class:`ConnectFailed`."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, self._get = await loop.create_connection(_Http, self.host, self.port)
                _, self._post = await loop.create_connection(_Http, self.host, self.port)
                self._path = b"/socket.io/?EIO=4&transport=polling"
                opened: asyncio.Future[tuple[int, bytes]] = loop.create_future()
                self._get.request(self._request(b"GET"), lambda s, b: opened.set_result((s, b)))
                status, body = await opened
                if status != 200 or not body.startswith(b"0"):
                    raise ConnectFailed(f"handshake: HTTP {status} {body[:200]!r}")
                sid = json.loads(body.split(_SEP)[0][1:])["sid"]
                self._path += b"&sid=" + sid.encode()
                self.send(b"40")
                self._poll()
                await self.ready
        except (OSError, TimeoutError, ValueError, KeyError) as exc:
            self.close()
            raise ConnectFailed(f"{type(exc).__name__}: {exc}") from None

    def send(self, packet: bytes) -> None:
        self._queue.append(packet)
        if not self._posting:
            self._flush()

    def _flush(self) -> None:
        assert self._post is not None
        body = _SEP.join(self._queue)
        self._queue.clear()
        self._posting = True
        self._post.request(self._request(b"POST", body), self._posted)

    def _posted(self, status: int, body: bytes) -> None:
        self._posting = False
        if status != 200:
            self.errors += 1
            self._fail(f"POST: HTTP {status} {body[:200]!r}")
            return
        if self._queue:
            self._flush()

    def _poll(self) -> None:
        if not self._closing and self._get is not None:
            self._get.request(self._request(b"GET"), self._polled)

    def _polled(self, status: int, body: bytes) -> None:
        if status != 200:
            if not self._closing:
                self.errors += 1
                self._fail(f"GET: HTTP {status} {body[:200]!r}")
            return
        for packet in body.split(_SEP):
            self._dispatch(packet)
        self._poll()

    def _dispatch(self, data: bytes) -> None:
        head = data[:2]
        if head in (b"42", b"43"):
            self.on_packet(self, data)
        elif data == b"2":
            self.send(b"3")
        elif head == b"40":
            if not self.ready.done():
                self.ready.set_result(None)
        elif head == b"44":
            self._fail(f"CONNECT_ERROR {data[2:200]!r}")
        elif data != b"6":  # 6 is a noop (sent to end a GET during an upgrade)
            self.unexpected += 1

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectFailed(why))

    def close(self) -> None:
        self._closing = True
        for conn in (self._get, self._post):
            if conn is not None:
                conn.close()


def _ignore(client: PollingClient, packet: bytes) -> None:
    client.unexpected += 1
