"""Hand-driven Engine.IO clients for the bad-client checks: they send exactly what a test says.

``Polling`` speaks long-polling with httpx (v4 ``\\x1e`` payloads, or v3 length-prefixed ones);
``RawWebSocket`` does the WebSocket handshake and framing with wsproto over a plain socket, so
a test can also drop the TCP connection without a close frame (``vanish``).
"""

from __future__ import annotations

import json
import re
import socket
import struct
import time
from collections import deque
from typing import Any

import httpx
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

TIMEOUT = 5.0


def encode_v3(packets: list[str]) -> str:
    """A v3 text payload: ``<length>:<packet>`` each, length in UTF-16 code units."""
    return "".join(f"{len(p.encode('utf-16-le')) // 2}:{p}" for p in packets)


def decode_v3(text: str) -> list[str]:
    """Split a v3 text payload (the test servers only send ASCII-range packets here)."""
    packets = []
    while text:
        length, _, rest = text.partition(":")
        n = int(length)
        packets.append(rest[:n])
        text = rest[n:]
    return packets


class Polling:
    """One long-polling Engine.IO session, driven by hand."""

    def __init__(self, base: str, eio: int = 4) -> None:
        self.eio = eio
        self.http = httpx.Client(timeout=TIMEOUT)
        self.endpoint = f"{base}/socket.io/?EIO={eio}&transport=polling"
        reply = self.http.get(self.endpoint)
        reply.raise_for_status()
        packets = self.decode(reply.text)
        assert packets[0].startswith("0"), packets
        self.handshake: dict[str, Any] = json.loads(packets[0][1:])
        self.sid: str = self.handshake["sid"]
        #: Packets that arrived with the handshake (v3: the implicit ``40``).
        self.pending = packets[1:]

    @property
    def url(self) -> str:
        return f"{self.endpoint}&sid={self.sid}"

    def decode(self, text: str) -> list[str]:
        return decode_v3(text) if self.eio == 3 else text.split("\x1e")

    def encode(self, packets: list[str]) -> str:
        return encode_v3(packets) if self.eio == 3 else "\x1e".join(packets)

    def post(self, *packets: str, raw: str | None = None) -> httpx.Response:
        return self.http.post(
            self.url, content=raw if raw is not None else self.encode(list(packets))
        )

    def get(self) -> httpx.Response:
        return self.http.get(self.url)

    def receive(self) -> list[str]:
        """The packets of one GET (asserting it succeeded)."""
        reply = self.get()
        assert reply.status_code == 200, (reply.status_code, reply.text)
        return self.decode(reply.text)

    def wait_for(self, wanted: str, timeout: float = TIMEOUT, *, prefix: bool = False) -> list[str]:
        """GET until a packet equal to ``wanted`` (or starting with it) arrives, answering v4
        pings on the way; returns every packet seen."""
        seen = list(self.pending)
        self.pending = []
        deadline = time.monotonic() + timeout

        def found() -> bool:
            return any(p.startswith(wanted) if prefix else p == wanted for p in seen)

        while not found():
            assert time.monotonic() < deadline, f"no {wanted!r} within {timeout} s: {seen}"
            packets = self.receive()
            seen += packets
            if self.eio == 4 and "2" in packets:
                self.post("3")
        return seen

    def close(self) -> None:
        self.http.close()


class RawWebSocket:
    """A WebSocket client over a plain socket (wsproto framing)."""

    def __init__(self, host: str, port: int, target: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events: deque[Event] = deque()
        self.closed = False
        self.sock.sendall(self.ws.send(Request(host=f"{host}:{port}", target=target)))
        #: The refusal, if the server answered the handshake with an HTTP error.
        self.rejected: tuple[int, bytes] | None = None
        event = self._next(TIMEOUT)
        if isinstance(event, RejectConnection):
            body = b""
            more = event.has_body
            while more:
                data = self._next(TIMEOUT)
                if not isinstance(data, RejectData):
                    break
                body += data.data
                more = not data.body_finished
            self.rejected = (event.status_code, body)
        elif not isinstance(event, AcceptConnection):
            raise AssertionError(f"WebSocket handshake: got {event!r}")

    @classmethod
    def to(cls, base: str, query: str) -> RawWebSocket:
        match = re.match(r"http://([\d.]+):(\d+)", base)
        assert match, base
        return cls(match.group(1), int(match.group(2)), f"/socket.io/?{query}")

    def _next(self, timeout: float) -> Event | None:
        deadline = time.monotonic() + timeout
        while not self.events:
            if self.closed:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise
            except OSError:
                data = b""
            self.ws.receive_data(data or None)
            if not data:
                self.closed = True
            self.events.extend(self.ws.events())
        return self.events.popleft()

    def receive(self, timeout: float = TIMEOUT) -> str | bytes | None:
        """The next message; None once the server closed the connection."""
        while True:
            event = self._next(timeout)
            if event is None:
                return None
            if isinstance(event, TextMessage | BytesMessage):
                return event.data
            if isinstance(event, CloseConnection):
                self.closed = True
                return None

    def wait_closed(self, timeout: float = TIMEOUT) -> list[str | bytes]:
        """Read until the server closes; what arrived meanwhile. Raises TimeoutError."""
        got = []
        while (message := self.receive(timeout)) is not None:
            got.append(message)
        return got

    def send(self, data: str | bytes) -> None:
        message = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.ws.send(message))

    def vanish(self) -> None:
        """Disappear: reset the TCP connection, no close frame, no FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        self.closed = True

    def close(self) -> None:
        if not self.closed:
            self.vanish()
