"""Connections that hold a slot without finishing a request, and a server out of descriptors.

**slowloris**: half the connections send nothing at all, the other half send a request
line and then one byte of a header every second, for ``slowloris_seconds``. Meanwhile, and
afterwards, a new client must be served (connect, join ``/``, one ack round trip). Figures:
how many of the slow connections the server still held at the end, the slowest new client
during the attack. Goal: the server alive and serving new clients during and after the
attack; when the attack outlasts Node's ``headersTimeout`` (60 s, the full profile), also
at most 1% of the slow connections still held (the server bounds how long a request head
may take).

**fd exhaustion**: the server runs with a low ``ulimit -n`` (``resource.setrlimit`` in its
process) and more connections than that arrive and stay. Goal: the server stays alive
through it (the connections it cannot take are refused or wait in the backlog, they do
not crash it) and serves a new client once they are gone.
"""

from __future__ import annotations

import contextlib
import resource
import select
import socket
import time
from pathlib import Path

from .clients import ClientFailed, SioClient
from .processes import ServerProcess, start_thinkio_app, wait_until
from .profiles import Profile
from .report import Result

__all__ = ("run_fd_exhaustion", "run_slowloris")

#: Node's http.Server headersTimeout: the longest a request head may take to arrive.
NODE_HEADERS_TIMEOUT = 60.0
REQUEST_LINE = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def _raise_own_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed), hard))


def _serves(url: str, timeout: float = 5.0) -> float | None:
    """Seconds a new client took to connect and get an ack, or None if it could not."""
    started = time.monotonic()
    try:
        client = SioClient(url, timeout=timeout)
    except ClientFailed:
        return None
    try:
        if client.call("echo", "new", timeout=timeout) != ["new"]:
            return None
        return time.monotonic() - started
    except ClientFailed:
        return None
    finally:
        client.close()


def _connect(server: ServerProcess, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        try:
            s = socket.create_connection((server.host, server.port), timeout=5)
        except OSError:
            break
        s.setblocking(False)
        sockets.append(s)
    return sockets


def _closed_by_server(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` the server ended (EOF, an error, or an answer it then closed)."""
    poller = select.poll()  # not select(): descriptors past 1024 are the point here
    by_fd = {s.fileno(): s for s in sockets}
    for fd in by_fd:
        poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    closed = 0
    for fd, _ in poller.poll(0):
        try:
            data = by_fd[fd].recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data or data.startswith(b"HTTP/"):
            closed += 1
    return closed


def _figure(latency: float | None) -> str:
    return "refused" if latency is None else f"{latency:.2f} s"


def run_slowloris(backend: str, profile: Profile, logs: Path) -> Result:
    """The slowloris scenario on one backend."""
    bounded = profile.slowloris_seconds > NODE_HEADERS_TIMEOUT + 5
    goal = "alive, new clients served during and after"
    if bounded:
        goal += f", <= 1% still held after {profile.slowloris_seconds:.0f} s"
    result = Result("slowloris", backend, goal=goal)
    count = profile.slowloris_connections
    _raise_own_fd_limit(count + 200)
    server = start_thinkio_app(
        f"slowloris-{backend}", logs, backend=backend, nofile=count * 2 + 200
    )
    silent: list[socket.socket] = []
    drip: list[socket.socket] = []
    try:
        silent = _connect(server, count // 2)
        drip = _connect(server, count - count // 2)
        for s in drip:
            with contextlib.suppress(OSError):
                s.send(REQUEST_LINE)
        worst: float | None = 0.0
        started = time.monotonic()
        byte = 0
        while time.monotonic() - started < profile.slowloris_seconds:
            header = b"X-Slow: " + b"a" * 10_000
            for s in drip:
                with contextlib.suppress(OSError):
                    s.send(header[byte % len(header) : byte % len(header) + 1])
            byte += 1
            latency = _serves(server.url)
            worst = None if latency is None or worst is None else max(worst, latency)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started) % 1.0))
        held_silent = len(silent) - _closed_by_server(silent)
        held_drip = len(drip) - _closed_by_server(drip)
        alive_during = server.alive()
        for s in silent + drip:
            s.close()
        after = _serves(server.url) if server.alive() else None
        held = held_silent + held_drip
        result.figures = {
            "silent": len(silent),
            "drip-feeding": len(drip),
            "held after": f"{profile.slowloris_seconds:.0f} s: {held_silent} + {held_drip}",
            "slowest new client during": _figure(worst),
            "new client after": _figure(after),
            "alive": alive_during and server.alive(),
            "tracebacks": server.tracebacks(),
        }
        result.passed = (
            server.alive() and worst is not None and after is not None
            and (not bounded or held <= count // 100)
        )  # fmt: skip
        if len(silent) + len(drip) < count:
            result.notes.append(f"only {len(silent) + len(drip)} of {count} connections opened")
    finally:
        for s in silent + drip:
            s.close()
        server.stop()
    return result


def run_fd_exhaustion(backend: str, profile: Profile, logs: Path) -> Result:
    """The fd-exhaustion scenario on one backend."""
    result = Result(
        "fd-exhaustion", backend,
        goal=f"alive under ulimit -n {profile.fd_limit} with {profile.fd_attackers} connections "
             "held, serves a new client after",
    )  # fmt: skip
    _raise_own_fd_limit(profile.fd_attackers + 200)
    server = start_thinkio_app(f"fd-{backend}", logs, backend=backend, nofile=profile.fd_limit)
    attackers: list[socket.socket] = []
    try:
        baseline = server.fds()
        attackers = _connect(server, profile.fd_attackers)
        # The server takes what it can; let it try to accept the rest for a moment.
        wait_until(lambda: not server.alive(), 1.0)
        peak = server.fds() - baseline if server.alive() else "-"
        during = _serves(server.url, timeout=2) if server.alive() else None
        alive_during = server.alive()
        for s in attackers:
            s.close()
        wait_until(lambda: not server.alive() or server.fds() <= baseline + 2, 5)
        after = _serves(server.url) if server.alive() else None
        result.figures = {
            "connections": len(attackers),
            "accepted at most": peak,
            "new client during": _figure(during),
            "alive during": alive_during,
            "new client after": _figure(after),
            "alive after": server.alive(),
            "exit status": server.process.returncode,
            "tracebacks": server.tracebacks(),
        }
        result.passed = alive_during and server.alive() and after is not None
        if server.tracebacks():
            result.notes.append(server.first_traceback())
    finally:
        for s in attackers:
            s.close()
        server.stop()
    return result
