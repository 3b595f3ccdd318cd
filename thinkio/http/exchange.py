"""One request and its response: what a handler answers through."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from ..net import StreamProtocol, Transport
from .request import HttpRequest

__all__ = ("ExchangeOwner", "HttpExchange", "TakenOver")


class TakenOver(NamedTuple):
    """A connection handed to another protocol by :meth:`HttpExchange.take_over`."""

    #: The connection's transport (its callbacks now reach the new protocol).
    transport: Transport
    #: Bytes already read past the request: the new protocol's first data.
    leftover: bytes
    #: Call once when the connection ends (it still counts against ``max_connections``).
    release: Callable[[], None]


class ExchangeOwner(Protocol):
    """What an exchange needs from its connection (:class:`.protocol.HttpProtocol`)."""

    def send_response(
        self,
        exchange: HttpExchange,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        close: bool,
        content_length: int | None,
    ) -> None: ...

    def hand_over(self, protocol: StreamProtocol) -> TakenOver: ...

    def detach(self) -> tuple[socket.socket, bytes]: ...

    def park(self) -> None: ...

    def transport_info(self, name: str) -> Any: ...


class HttpExchange:
    r"""The response side of one request.

    A handler answers once: :meth:`respond`, or :meth:`take_over` the connection (a
    WebSocket upgrade). It may answer later: an ``async def`` handler answers when it is done,
    and a long poll :meth:`park`\ s its exchange until there is something to send.
    """

    __slots__ = (
        "_on_abort",
        "_protocol",
        "aborted",
        "done",
        "parked",
        "request",
        "sequence",
        "taken_over",
    )

    def __init__(self, protocol: ExchangeOwner, request: HttpRequest, sequence: int = 1) -> None:
        self._protocol = protocol
        self.request = request
        #: Which request of its connection this is (1 for the first).
        self.sequence = sequence
        #: A response was written.
        self.done = False
        #: The connection was taken over (it speaks another protocol now).
        self.taken_over = False
        #: The connection went away before a response.
        self.aborted = False
        #: Parked: answered later by someone else (see :meth:`park`).
        self.parked = False
        self._on_abort: Callable[[], None] | None = None

    @property
    def client(self) -> tuple[str, int]:
        """The peer's address and port."""
        return self.request.client

    def respond(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes = b"",
        *,
        close: bool = False,
        content_length: int | None = None,
    ) -> None:
        """Write the whole response (a no-op if answered already or the client is gone).

        A response to HEAD carries the headers only, with the length a GET would get.

        Args:
            status: the status code.
            headers: the headers (Content-Length is added).
            body: the body.
            close: close the connection after it.
            content_length: the length to announce instead of ``len(body)`` (a HEAD or 304
                answered without reading the body).
        """
        if self.done or self.taken_over or self.aborted:
            return
        self.done = True
        self._protocol.send_response(self, status, headers, body, close, content_length)

    def take_over(self, protocol: StreamProtocol) -> TakenOver:
        """Hand the connection to another protocol (after writing a 101 through the
        returned transport). Returns the transport, the bytes already read past this
        request (the new protocol's first data), and what to call when the connection ends.

        Raises:
            RuntimeError: the exchange was already answered.
        """
        if self.done or self.taken_over or self.aborted:
            raise RuntimeError("this request was already answered")
        self.taken_over = True
        return self._protocol.hand_over(protocol)

    def detach(self) -> tuple[socket.socket, bytes]:
        """Take the connection away from this server, open, with the bytes already read past
        this request (to hand it to another process). Nothing is answered.

        Raises:
            RuntimeError: the exchange was already answered.
            OSError: the connection is already closed.
        """
        if self.done or self.taken_over or self.aborted:
            raise RuntimeError("this request was already answered")
        self.taken_over = True
        return self._protocol.detach()

    def park(self, on_abort: Callable[[], None]) -> None:
        """Leave the exchange open to be answered later (a long poll): no request timeout
        applies, and ``on_abort()`` is called if the client goes away first."""
        self.parked = True
        self._on_abort = on_abort
        self._protocol.park()

    def abort(self) -> None:
        """The connection went away before a response (called by the HTTP protocol)."""
        if self.done or self.taken_over or self.aborted:
            return
        self.aborted = True
        callback, self._on_abort = self._on_abort, None
        if callback is not None:
            callback()

    def __repr__(self) -> str:
        state = "done" if self.done else "taken over" if self.taken_over else "open"
        return f"<HttpExchange {self.request.method} {self.request.target} {state}>"

    def extra(self, name: str) -> Any:
        """Transport information (``"peername"``, ``"socket"``...)."""
        return self._protocol.transport_info(name)
