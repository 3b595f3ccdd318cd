"""Connect/disconnect churn: does a server give back what a session took?

Threads open sessions and end them, over and over, in three ways taken in turn: a
WebSocket that joins ``/``, does one ack round trip and closes politely; a WebSocket that
joins ``/`` and drops the TCP connection; a polling session that joins ``/`` and sends the
Engine.IO close packet. The server's RSS is read once it is warm (after the first
``warm`` cycles, which fill its allocator's pools and caches), after the last cycle (once
its open descriptors are back to where they were), and at its peak (``VmHWM``).

Goal: RSS after within 10% of warm (issue 9: 20k cycles took it from 36 to 68 MB).
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import httpx

from protocol._client import Polling, decode_payload

from .clients import ClientFailed, SioClient
from .processes import ServerProcess, start_thinkio_app, wait_until
from .profiles import Profile
from .report import Result, mib

__all__ = ("run",)

THREADS = 4


def _websocket(url: str, polite: bool) -> None:
    client = SioClient(url)
    if polite:
        client.call("echo", 1)
        client.close()
    else:
        client.socket.abort()


def _polling(http: httpx.Client) -> None:
    session = Polling(http, "/socket.io/")
    session.handshake()
    session.post_ok(["40"])
    packets = decode_payload(session.get(timeout=5).text)
    if not packets or not str(packets[0]).startswith("40"):
        raise ClientFailed(f"polling connect answered {packets!r}")
    session.post_ok(["1"])


class _Churner:
    def __init__(self, server: ServerProcess, cycles: int) -> None:
        self.url = server.url
        self.cycles = cycles
        self.counter = itertools.count()
        self.done = 0
        self.failures = 0
        self.reasons: list[str] = []
        self.lock = threading.Lock()

    def work(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as http:
            while (n := next(self.counter)) < self.cycles:
                try:
                    kind = n % 3
                    if kind == 2:
                        _polling(http)
                    else:
                        _websocket(self.url, polite=kind == 0)
                except Exception as exc:  # any failure of a cycle is counted, with why
                    with self.lock:
                        self.failures += 1
                        if len(self.reasons) < 3:
                            self.reasons.append(str(exc)[:200])
                with self.lock:
                    self.done += 1

    def run(self, deadline: float) -> None:
        threads = [threading.Thread(target=self.work, daemon=True) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(deadline - time.monotonic(), 0.1))
        if any(t.is_alive() for t in threads):
            self.counter = itertools.count(self.cycles)  # stop the others: time is up
            for t in threads:
                t.join(10)


def _settle(server: ServerProcess, fds: int, seconds: float) -> None:
    """Wait until the server holds no more descriptors than ``fds`` (sessions closed)."""
    wait_until(lambda: server.fds() <= fds, seconds)
    time.sleep(0.5)  # freed memory goes back a moment after the last close


def run(backend: str, profile: Profile, logs: Path) -> Result:
    """The churn scenario on one backend."""
    result = Result("churn", backend, goal="RSS after within 10% of warm, 0 tracebacks")
    server = start_thinkio_app(f"churn-{backend}", logs, backend=backend)
    try:
        baseline_fds = server.fds()
        warm = _Churner(server, profile.churn_warm)
        warm.run(time.monotonic() + profile.churn_seconds)
        _settle(server, baseline_fds, 10)
        rss_warm = server.rss()
        churn = _Churner(server, profile.churn_cycles)
        started = time.monotonic()
        churn.run(started + profile.churn_seconds)
        elapsed = time.monotonic() - started
        _settle(server, baseline_fds, 10)
        rss_after, peak = server.rss(), server.peak_rss()
        tracebacks = server.tracebacks()
        growth = rss_after / rss_warm - 1
        result.figures = {
            "cycles": churn.done,
            "per s": f"{churn.done / elapsed:.0f}",
            "failed cycles": warm.failures + churn.failures,
            "RSS warm": mib(rss_warm),
            "after": mib(rss_after),
            "peak": mib(peak),
            "growth": f"{growth:+.1%}",
            "fds held": server.fds() - baseline_fds,
            "tracebacks": tracebacks,
        }
        result.passed = growth <= 0.10 and tracebacks == 0 and churn.done >= profile.churn_cycles
        if churn.done < profile.churn_cycles:
            result.notes.append(f"only {churn.done} of {profile.churn_cycles} cycles in time")
        result.notes += warm.reasons + churn.reasons
        if tracebacks:
            result.notes.append(server.first_traceback())
    finally:
        server.stop()
    return result
