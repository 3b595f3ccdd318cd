"""A Server on a FakeClock, its clients speaking through in-memory transports: Engine.IO
sessions over polling and WebSocket with no socket and no sleep."""

from __future__ import annotations

import json
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)

from thinkio.server import Server, Socket
from thinkio.testing import FakeClock, MemoryTransport

from ..http.support import parse_responses

PATH = "/socket.io/?EIO=4&transport="


class Harness:
    """A server (ping every 25 s, 20 s to answer, as Node's defaults) on a fake clock; its
    disconnect reasons are recorded in :attr:`reasons`."""

    def __init__(self, **kwargs: Any) -> None:
        self.clock = FakeClock()
        kwargs.setdefault("ping_interval", 25)
        kwargs.setdefault("ping_timeout", 20)
        self.io = Server(clock=self.clock, **kwargs)
        self.reasons: list[str] = []
        self.events: list[tuple[str, tuple[Any, ...]]] = []

        @self.io.on("disconnect")
        def gone(socket: Socket, reason: str) -> None:
            self.reasons.append(reason)

        @self.io.on("event")
        def event(socket: Socket, *args: Any) -> None:
            self.events.append(("event", args))

    def http(self, request: bytes) -> tuple[MemoryTransport, list[tuple[int, Any, bytes]]]:
        """One request on a new connection; the transport and what was answered so far."""
        t = MemoryTransport(self.io.http.protocol())
        t.feed(request)
        return t, parse_responses(t.take())

    def polling_open(self) -> str:
        """A polling session joined to "/"; returns its sid."""
        _, [(status, _, body)] = self.http(get(PATH + "polling"))
        assert status == 200, body
        sid = str(json.loads(body[1:])["sid"])
        _, [(status, _, body)] = self.http(post(f"{PATH}polling&sid={sid}", b"40"))
        assert (status, body) == (200, b"ok")
        _, [(status, _, body)] = self.http(get(f"{PATH}polling&sid={sid}"))
        assert body.startswith(b"40{"), body
        return sid


def get(target: str) -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def post(target: str, body: bytes) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n"
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


class WsClient:
    """A WebSocket client (wsproto) on an in-memory connection to the harness's server.

    Args:
        capacity: how many bytes "the network" holds before the server's writes buffer.
        answer_close: answer the server's close frame with ours (as a real client does).
    """

    def __init__(
        self, h: Harness, capacity: int | None = None, query: str = "", answer_close: bool = True
    ) -> None:
        self.answer_close = answer_close
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.t = MemoryTransport(h.io.http.protocol(), capacity=capacity)
        self.t.feed(self.ws.send(Request(host="test", target=PATH + "websocket" + query)))
        self.close_code: int | None = None
        self.pings = 0
        self._pending: list[str | bytes] = []
        self._part: list[str | bytes] = []
        events = self._events()
        assert isinstance(events[0], AcceptConnection), events
        self._pending = self._collect(events[1:])

    def _events(self) -> list[Any]:
        data = self.t.take()
        if data:
            self.ws.receive_data(data)
        return list(self.ws.events())

    def send(self, text: str) -> None:
        self.t.feed(self.ws.send(TextMessage(text)))

    def read(self) -> list[str | bytes]:
        """The messages the server wrote since the last read (the network drained)."""
        out, self._pending = self._pending, []
        return out + self._collect(self._events())

    def _collect(self, events: list[Any]) -> list[str | bytes]:
        out: list[str | bytes] = []
        for event in events:
            if isinstance(event, TextMessage | BytesMessage):
                self._part.append(event.data)
                if event.message_finished:  # a message read in pieces is one message
                    parts, self._part = self._part, []
                    out.append("".join(parts) if isinstance(parts[0], str) else b"".join(parts))  # type: ignore[arg-type]
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                if self.answer_close:  # as every real client does: the closing handshake
                    self.t.feed(self.ws.send(event.response()))
            elif isinstance(event, Ping):
                self.pings += 1
        return out

    def open(self) -> str:
        """Read the open packet, join "/"; returns the sid."""
        [opening] = self.read()
        assert isinstance(opening, str) and opening.startswith("0{")
        self.send("40")
        [joined] = self.read()
        assert isinstance(joined, str) and joined.startswith("40{")
        return str(json.loads(opening[1:])["sid"])
