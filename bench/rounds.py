"""The load generator's per-packet work: round trips, broadcast counting, room joins.

Everything here runs in the clients' packet callbacks (no task per message, no await on the
hot path): a reply is compared with the bytes expected, timed, and the next request is
written from the same callback. A client is anything with ``index``, ``send(bytes)`` and a
settable ``on_packet(client, packet)`` (:class:`~bench.wsclient.SioConnection`,
:class:`~bench.pollclient.PollingClient`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Any

from .wire import ack_id_of

__all__ = ("Joins", "RoundTrips", "Ticks", "percentile")

_perf = time.perf_counter
#: How long a phase waits for the replies still in flight once its time is up.
GRACE_S = 10.0


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence (not empty)."""
    rank = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


class RoundTrips:
    """Each client sends its request, waits for the reply, records the time, sends again.

    ``requests[i]`` is what client ``i`` sends (a pre-built frame, or a polling packet);
    ``expected[i]`` the exact reply it must get. A wrong reply counts as an error and stops
    that client (kept in ``bad``, the first one).
    """

    def __init__(self, clients: Sequence[Any], requests: list[bytes], expected: list[bytes]):
        n = len(clients)
        self.clients = clients
        self.requests = requests
        self.expected = expected
        self.sent_at = [0.0] * n
        self.left = [0] * n
        self.latencies: list[float] = []
        self.bad: bytes | None = None
        self.errors = 0
        self.running = 0
        self.record = False
        self.stop_at = 0.0
        self.done: asyncio.Future[float] | None = None
        for client in clients:
            client.on_packet = self.on_reply

    def on_reply(self, client: Any, packet: bytes) -> None:
        now = _perf()
        i = client.index
        if self.left[i] <= 0:
            return  # a straggler after this client finished
        if packet != self.expected[i]:
            self.errors += 1
            if self.bad is None:
                self.bad = packet[:200]
            self._finish(i, now)
            return
        if self.record:
            self.latencies.append(now - self.sent_at[i])
        left = self.left[i] - 1
        if left > 0 and now < self.stop_at:
            self.left[i] = left
            self.sent_at[i] = now
            client.send(self.requests[i])
        else:
            self._finish(i, now)

    def _finish(self, i: int, now: float) -> None:
        self.left[i] = 0
        self.running -= 1
        if self.running == 0 and self.done is not None and not self.done.done():
            self.done.set_result(now)

    async def run(self, rounds: int, seconds: float, *, record: bool) -> float:
        """``rounds`` round trips per client, stopping new ones after ``seconds``; wall time
        from the first request to the last reply. Clients whose reply is still missing
        ``GRACE_S`` after that count as errors."""
        if rounds <= 0 or not self.clients:
            return 0.0
        self.done = asyncio.get_running_loop().create_future()
        self.record = record
        self.running = len(self.clients)
        self.left = [rounds] * len(self.clients)
        start = _perf()
        self.stop_at = start + seconds
        for i, client in enumerate(self.clients):
            self.sent_at[i] = _perf()
            client.send(self.requests[i])
        try:
            async with asyncio.timeout(seconds + GRACE_S):
                end = await self.done
        except TimeoutError:
            end = _perf()
            self.errors += self.running
            self.left = [0] * len(self.clients)
            self.running = 0
        return end - start


class Ticks:
    """Counts ``42["tick",...]`` per client; done when every target client has ``target``."""

    PREFIX = b'42["tick",'

    def __init__(self, clients: Sequence[Any], targets: Sequence[int]) -> None:
        self.targets = targets
        self.counts = [0] * len(clients)
        self.target = 0
        self.remaining = 0
        self.first = 0.0
        self.last = 0.0
        self.done: asyncio.Future[None] | None = None
        for client in clients:
            client.on_packet = self.on_packet

    @property
    def expected(self) -> int:
        return self.target * len(self.targets)

    def on_packet(self, client: Any, packet: bytes) -> None:
        if not packet.startswith(self.PREFIX):
            client.unexpected += 1
            return
        i = client.index
        c = self.counts[i] + 1
        self.counts[i] = c
        if not self.first:
            self.first = _perf()
        if c == self.target:
            self.remaining -= 1
            if self.remaining == 0 and self.done is not None:
                self.last = _perf()
                self.done.set_result(None)

    def delivered(self) -> int:
        return sum(min(self.counts[i], self.target) for i in self.targets)

    async def run(self, trigger: Any, request: bytes, target: int, seconds: float) -> bool:
        """Send ``request`` from ``trigger``; True once every target got ``target`` ticks
        (False if ``seconds`` ran out first)."""
        self.counts = [0] * len(self.counts)
        self.target = target
        self.remaining = len(self.targets)
        self.first = self.last = 0.0
        self.done = asyncio.get_running_loop().create_future()
        trigger.send(request)
        try:
            async with asyncio.timeout(seconds):
                await self.done
        except TimeoutError:
            return False
        return True


class Joins:
    """Every client sends its ``join`` (with ack id 1) and waits for the ack."""

    def __init__(self, clients: Sequence[Any]) -> None:
        self.clients = clients
        self.missing = len(clients)
        self.done: asyncio.Future[None] | None = None
        for client in clients:
            client.on_packet = self.on_packet

    def on_packet(self, client: Any, packet: bytes) -> None:
        if ack_id_of(packet) != 1:
            client.unexpected += 1
            return
        self.missing -= 1
        if self.missing == 0 and self.done is not None:
            self.done.set_result(None)

    async def run(self, frames: list[bytes], seconds: float) -> bool:
        self.done = asyncio.get_running_loop().create_future()
        for client, frame in zip(self.clients, frames, strict=True):
            client.send(frame)
        try:
            async with asyncio.timeout(seconds):
                await self.done
        except TimeoutError:
            return False
        return True
