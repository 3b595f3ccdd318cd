"""The scenarios' clients: a blocking Socket.IO client over WebSocket, and bystanders.

Built on the conformance suite's client (``protocol/_client.py``: ``wsproto`` on a plain
socket, every frame queued, every wait bounded), so the soak suite drives servers from
outside with the same code as ``protocol/`` and never imports thinkio. Blocking sockets in a
few threads are enough here: a scenario needs tens of clients, not thousands, and each
thread's waits are bounded.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from protocol._client import (
    Closed,
    Frame,
    NoReply,
    UpgradeRefused,
    WebSocket,
    connect_reply_sid,
    open_websocket,
    parse_open,
)

__all__ = ("Bystander", "ClientFailed", "SioClient")

_ACK = re.compile(r"43(\d+)(.*)", re.DOTALL)


class ClientFailed(AssertionError):
    """A client could not do what it was asked (connect, get its ack) in time."""


class SioClient:
    """One Socket.IO client on ``/`` over a WebSocket-only Engine.IO session.

    Pings are answered whenever the client reads. Events that arrive while it waits for an
    ack are kept in :attr:`events` (text packets as received; binary frames counted).

    Raises:
        ClientFailed: the server refused, closed or stayed silent during the connect.
    """

    def __init__(self, url: str, *, path: str = "/socket.io/", timeout: float = 5.0) -> None:
        self.timeout = timeout
        try:
            self.ws = open_websocket(url, f"{path}?EIO=4&transport=websocket", timeout=timeout)
        except (NoReply, UpgradeRefused, OSError) as exc:
            raise ClientFailed(f"connect: {exc}") from exc
        try:
            self.handshake = parse_open(self.ws.recv(timeout))
        except AssertionError as exc:
            self.ws.close()
            raise ClientFailed(f"connect: {exc}") from exc
        #: The Engine.IO session id (a cluster worker's index is its prefix: ``"1.abc"``).
        self.eio_sid: str = self.handshake["sid"]
        self.events: deque[str] = deque(maxlen=100_000)
        self.binary_frames = 0
        self._next_id = 0
        try:
            self.ws.send("40")
            self.sid = connect_reply_sid(self.recv(), "40")
        except (AssertionError, OSError) as exc:
            self.ws.close()
            raise ClientFailed(f"connect: {exc}") from exc

    @property
    def socket(self) -> WebSocket:
        """The underlying WebSocket."""
        return self.ws

    def recv(self, timeout: float | None = None) -> Frame:
        """The next frame that is not a ping (pings are answered)."""
        return self.ws.recv_skipping_pings(self.timeout if timeout is None else timeout)

    def emit(self, event: str, *args: Any) -> None:
        """Send an event without an ack."""
        self.ws.send("42" + json.dumps([event, *args], separators=(",", ":")))

    def call(self, event: str, *args: Any, timeout: float | None = None) -> list[Any]:
        """Send an event with an ack id and return the ack's arguments.

        Raises:
            ClientFailed: no ack in time, or the connection closed.
        """
        ack_id = self._next_id
        self._next_id += 1
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            self.ws.send(f"42{ack_id}" + json.dumps([event, *args], separators=(",", ":")))
            while True:
                frame = self.recv(max(deadline - time.monotonic(), 0.001))
                if isinstance(frame, bytes):
                    self.binary_frames += 1
                    continue
                match = _ACK.fullmatch(frame)
                if match and int(match.group(1)) == ack_id:
                    value = json.loads(match.group(2))
                    assert isinstance(value, list)
                    return value
                self.events.append(frame)
        except (NoReply, Closed, AssertionError, OSError, ValueError) as exc:
            raise ClientFailed(f"{event} ack {ack_id}: {exc}") from exc

    def drain(self, timeout: float) -> None:
        """Read (and keep) whatever arrives for ``timeout`` seconds; answer pings."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = self.recv(left)
            except NoReply:
                return
            if isinstance(frame, bytes):
                self.binary_frames += 1
            else:
                self.events.append(frame)

    def close(self) -> None:
        """Close the WebSocket politely (if still open)."""
        self.ws.close()


@dataclass
class BystanderFigures:
    """What a bystander saw."""

    round_trips: int = 0
    failures: int = 0
    reasons: list[str] = field(default_factory=list)
    max_latency: float = 0.0


class Bystander(threading.Thread):
    """A well-behaved client doing ``echo`` ack round trips until stopped.

    A failed round trip (no ack within ``timeout``, the connection closed) counts as one
    failure; the bystander then connects again and carries on, so one incident is not
    counted once per remaining second.
    """

    def __init__(
        self,
        url: str,
        *,
        client: SioClient | None = None,
        event: str = "echo",
        interval: float = 0.02,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.event = event
        self.interval = interval
        self.timeout = timeout
        self.figures = BystanderFigures()
        #: The session in use (``client`` to start with one that is already connected).
        self.client = client
        self._halt = threading.Event()
        self._ready = threading.Event()

    def start_and_wait(self, timeout: float = 10.0) -> None:
        """Start the thread and wait for its first round trip.

        Raises:
            ClientFailed: it did not get one in time.
        """
        self.start()
        if not self._ready.wait(timeout) or self.figures.round_trips == 0:
            raise ClientFailed(f"bystander could not start: {self.figures.reasons}")

    def _fail(self, reason: str) -> None:
        self.figures.failures += 1
        if len(self.figures.reasons) < 5:
            self.figures.reasons.append(reason)
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(self) -> None:
        count = 0
        while not self._halt.is_set():
            try:
                if self.client is None:
                    self.client = SioClient(self.url, timeout=self.timeout)
                started = time.monotonic()
                answer = self.client.call(self.event, count, timeout=self.timeout)
                latency = time.monotonic() - started
                if answer != [count]:
                    self._fail(f"ack {count} answered {answer!r}")
                    continue
                self.figures.round_trips += 1
                self.figures.max_latency = max(self.figures.max_latency, latency)
                self._ready.set()
            except ClientFailed as exc:
                self._fail(str(exc))
                self._halt.wait(0.2)  # the server may be restarting
            count += 1
            self._halt.wait(self.interval)
        self._ready.set()

    def stop(self) -> BystanderFigures:
        """Stop, close and return the figures."""
        self._halt.set()
        self.join(timeout=self.timeout + 5)
        if self.client is not None:
            self.client.close()
        return self.figures
