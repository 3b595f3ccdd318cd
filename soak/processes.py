"""The real parts a scenario starts: thinkio servers (one process or a cluster) and
``redis-server``, with what the suite measures of them.

A server's stdout and stderr go to one log file per process (under the run's log folder);
the scenario reads its address from the line the server prints once it accepts connections
(``listening on HOST:PORT`` for ``protocol.server``, ``thinkio serving ... on http://...``
for ``thinkio run``) and counts ``Traceback`` in that log at the end.

Memory, descriptors and child processes come from Linux's ``/proc`` (``VmRSS``, ``VmHWM``,
``/proc/PID/fd``, ``/proc/PID/task/*/children``): psutil gives the same figures but not the
peak RSS (``VmHWM``), and the suite is loopback- and Linux-only anyway.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = (
    "REPO",
    "RedisServer",
    "ServerProcess",
    "children",
    "fd_count",
    "free_port",
    "rss",
    "start_server",
    "start_thinkio_app",
    "wait_until",
)

REPO = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().parent / "app"

#: The line a server prints once it accepts connections (protocol.server, thinkio run).
READY = re.compile(r"(?:listening on |serving .* on http://)(\d+\.\d+\.\d+\.\d+):(\d+)")
TRACEBACK = "Traceback (most recent call last)"
STARTUP_TIMEOUT = 30.0
MIB = 1024 * 1024


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds have passed; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def rss(pid: int) -> int:
    """Resident memory of process ``pid`` in bytes (``VmRSS``)."""
    return _status_kib(pid, "VmRSS") * 1024


def peak_rss(pid: int) -> int:
    """The most resident memory process ``pid`` has had, in bytes (``VmHWM``)."""
    return _status_kib(pid, "VmHWM") * 1024


def fd_count(pid: int) -> int:
    """How many descriptors process ``pid`` holds open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (every thread's children)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(p) for p in f.read().split()]
        except FileNotFoundError:
            continue
    return sorted(set(found))


@dataclass
class ServerProcess:
    """A started server: its process, log and address."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""
    host: str = ""
    port: int = 0

    @property
    def pid(self) -> int:
        """The (supervisor's) process id."""
        return self.process.pid

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> int:
        """How many Python tracebacks the server's log holds."""
        return self.log().count(TRACEBACK)

    def first_traceback(self, lines: int = 12) -> str:
        """The first traceback of the log (its last ``lines`` lines), or ''."""
        text = self.log()
        start = text.find(TRACEBACK)
        if start < 0:
            return ""
        block = text[start:].splitlines()
        end = next((i for i, line in enumerate(block[1:], 1) if not line.startswith(" ")), 0)
        return "\n".join(block[max(0, end + 1 - lines) : end + 1])

    def rss(self) -> int:
        """Resident memory in bytes."""
        return rss(self.pid)

    def peak_rss(self) -> int:
        """Peak resident memory in bytes since start."""
        return peak_rss(self.pid)

    def fds(self) -> int:
        """Open descriptors."""
        return fd_count(self.pid)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode


def _limit_files(nofile: int) -> Callable[[], None]:
    def set_limit() -> None:  # runs in the child, between fork and exec
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return set_limit


def start_server(
    name: str,
    command: Sequence[str],
    log_dir: Path,
    *,
    env: dict[str, str] | None = None,
    nofile: int | None = None,
) -> ServerProcess:
    """Start ``command`` from the repository root and wait until it accepts connections.

    Args:
        name: names the log file (``log_dir/NAME.log``).
        command: the server's command line.
        log_dir: where the log goes.
        env: extra environment variables.
        nofile: the child's ``ulimit -n`` (soft and hard), if given.

    Raises:
        RuntimeError: the server exited or stayed silent; the message holds its log's tail.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            preexec_fn=_limit_files(nofile) if nofile else None,
        )
    server = ServerProcess(name, process, log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        match = READY.search(server.log())
        if match:
            server.host, server.port = match.group(1), int(match.group(2))
            server.url = f"http://{server.host}:{server.port}"
            return server
        if not server.alive():
            break
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{' '.join(command)} did not start; its log ends:\n{server.log()[-2000:]}")


def start_thinkio_app(
    name: str,
    log_dir: Path,
    *,
    backend: str,
    env: dict[str, str] | None = None,
    workers: int | None = None,
    nofile: int | None = None,
) -> ServerProcess:
    """``thinkio run soak/app`` on a free port (``--workers N`` for a cluster)."""
    command = [sys.executable, "-m", "thinkio.cli", "run", str(APP), "--port", "0"]
    command += ["--backend", backend, "--log-level", "warning"]
    if workers:
        command += ["--workers", str(workers)]
    return start_server(name, command, log_dir, env=env, nofile=nofile)


def start_protocol_server(name: str, log_dir: Path, *, backend: str) -> ServerProcess:
    """thinkio's conformance-suite server (``python -m protocol.server``)."""
    command = [sys.executable, "-m", "protocol.server", "--port", "0", "--backend", backend]
    return start_server(name, command, log_dir)


@dataclass
class RedisServer:
    """A ``redis-server`` on 127.0.0.1 that a scenario can kill and start again on its port."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def missing() -> str | None:
        """Why redis-server cannot run here, or None."""
        if shutil.which("redis-server") is None:
            return "redis-server is not installed (make system-deps installs it)"
        return None

    def start(self) -> None:
        """Start it (again) and wait until it answers PING.

        Raises:
            RuntimeError: it did not answer within the start-up timeout.
        """
        binary = shutil.which("redis-server")
        assert binary is not None, self.missing()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                 "--appendonly", "no", "--loglevel", "warning"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if not wait_until(self._pong, STARTUP_TIMEOUT):
            self.kill()
            raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL (what a crash looks like to its clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
