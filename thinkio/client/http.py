"""A keep-alive HTTP/1.1 client connection on h11 over an anyio TCP stream.

Just what Engine.IO polling needs (PROTOCOL.md 1.4): one request at a time on one
connection, whole bodies in and out, the connection kept for the next request when both
sides allow it and reopened when not. The Engine.IO client holds two of these, one for the
long-poll GET and one for POSTs, so a pending GET never delays a POST.

A reused connection may have been closed by the server while idle (Node closes idle
keep-alive connections after 5 s). If such a connection ends before any byte of the
response arrived, the request is sent once more on a fresh connection.
"""

from __future__ import annotations

import contextlib
import ssl
from dataclasses import dataclass

import anyio
import h11
from anyio.abc import ByteStream

__all__ = ("HttpClientConnection", "HttpResponse", "RequestFailed")

_READ_SIZE = 65536
_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream)


class RequestFailed(Exception):
    """The request could not be completed: the connection failed or the response was bad."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete response."""

    status: int
    #: Header names lower-cased.
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


async def open_stream(host: str, port: int, tls: ssl.SSLContext | None) -> ByteStream:
    """Open a TCP (or TLS) stream.

    Raises:
        OSError: the connection could not be made.
    """
    if tls is None:
        return await anyio.connect_tcp(host, port)
    return await anyio.connect_tcp(host, port, ssl_context=tls, tls_standard_compatible=False)


class HttpClientConnection:
    """One HTTP/1.1 connection to ``host:port``, reopened as needed.

    Args:
        host: the server's host name or address.
        port: the server's port.
        tls: an SSL context for ``https``, or None.
        host_header: the ``Host`` header value.
        max_body: the largest response body accepted, in bytes.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        host_header: str,
        max_body: int,
    ) -> None:
        self._host, self._port, self._tls = host, port, tls
        self._host_header = host_header.encode("idna" if not host_header.isascii() else "ascii")
        self._max_body = max_body
        self._stream: ByteStream | None = None
        self._h11: h11.Connection | None = None

    async def request(
        self,
        method: str,
        target: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> HttpResponse:
        """Send one request and read the whole response.

        Raises:
            OSError: the connection could not be opened.
            RequestFailed: the connection broke, or the response was malformed or too large.
        """
        reused = self._stream is not None
        try:
            return await self._request_once(method, target, headers or [], body)
        except _Stale:
            if not reused:
                raise RequestFailed("the server closed the connection") from None
        await self.aclose()
        try:
            return await self._request_once(method, target, headers or [], body)
        except _Stale:
            raise RequestFailed("the server closed the connection") from None

    async def _connect(self) -> tuple[ByteStream, h11.Connection]:
        if self._stream is None or self._h11 is None:
            self._stream = await open_stream(self._host, self._port, self._tls)
            self._h11 = h11.Connection(h11.CLIENT)
        return self._stream, self._h11

    async def _request_once(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpResponse:
        stream, conn = await self._connect()
        hdrs = [(b"host", self._host_header)]
        hdrs += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        if method != "GET" or body:
            hdrs.append((b"content-length", str(len(body)).encode()))
        try:
            data = conn.send(h11.Request(method=method, target=target, headers=hdrs)) or b""
            if body:
                data += conn.send(h11.Data(data=body)) or b""
            data += conn.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            await self.aclose()
            raise RequestFailed(f"cannot send {method} {target}: {exc}") from None
        try:
            await stream.send(data)
            return await self._read_response(stream, conn)
        except _STREAM_ERRORS as exc:
            await self.aclose()
            raise _Stale from exc
        except BaseException:
            # Cancelled mid-request, or a bad response: the connection state is unknown.
            await self.aclose()
            raise

    async def _read_response(self, stream: ByteStream, conn: h11.Connection) -> HttpResponse:
        response: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        got_bytes = False
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise RequestFailed(f"malformed response: {exc}") from None
            if event is h11.NEED_DATA:
                try:
                    data = await stream.receive(_READ_SIZE)
                except _STREAM_ERRORS:
                    data = b""
                if not data and not got_bytes:
                    raise _Stale
                got_bytes = True
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size > self._max_body:
                    raise RequestFailed(f"response body larger than {self._max_body} bytes")
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise RequestFailed("the connection closed mid-response")
            # InformationalResponse (1xx) is skipped.
        assert response is not None
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
        else:
            await self.aclose()
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers]
        return HttpResponse(response.status_code, headers, b"".join(chunks))

    async def aclose(self) -> None:
        """Close the connection (the next request opens a new one)."""
        stream, self._stream, self._h11 = self._stream, None, None
        if stream is not None:
            with anyio.CancelScope(shield=True), contextlib.suppress(*_STREAM_ERRORS, OSError):
                await stream.aclose()


class _Stale(Exception):
    """The connection ended before any byte of the response arrived."""
