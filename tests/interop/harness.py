"""Processes of the interop matrix: the thinkio server under test and the real clients.

Everything here is bounded: every read has a deadline, and every process started is killed
(SIGTERM, then SIGKILL) when its owner is done with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
NODE_MODULES = NODE_DIR / "node_modules"
CHROMIUM = os.environ.get("THINKIO_CHROMIUM", "/usr/bin/chromium")
LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")
#: Seconds a server may take to print its address, and to stop after SIGTERM.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
#: Upper bound of one client run (all its features, a server restart included).
RUN_TIMEOUT = 120.0


class Lines:
    """The lines of a process's stdout, read by a thread into a queue (so reads can time out)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []

        def pump() -> None:
            for line in stream:
                self._queue.put(line)
            self._queue.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def next(self, deadline: float) -> str | None:
        """The next line; None at EOF. Raises TimeoutError after the deadline (monotonic)."""
        try:
            line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            raise TimeoutError from None
        if line is not None:
            self.seen.append(line.rstrip("\n"))
        return line


def stop_process(proc: subprocess.Popen[str], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, wait (bounded), then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


class ServerUnderTest:
    """``python -m tests.interop.server_app`` on 127.0.0.1; restartable on the same port."""

    def __init__(self, backend: str, *extra: str) -> None:
        self.backend = backend
        self.extra = list(extra)
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.restarts = 0
        self._logdir = tempfile.TemporaryDirectory(prefix="thinkio-interop-")
        self.stderr_path = Path(self._logdir.name) / "server.stderr"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (on the previous port after a stop) and wait until it listens."""
        argv = [
            sys.executable,
            "-m",
            "tests.interop.server_app",
            "--port",
            str(self.port),
            "--backend",
            self.backend,
            *self.extra,
        ]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with self.stderr_path.open("a") as stderr:
                proc = subprocess.Popen(
                    argv, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True
                )
            lines = Lines(proc.stdout)  # type: ignore[arg-type]
            try:
                while (line := lines.next(deadline)) is not None:
                    if match := LISTENING.search(line):
                        self.port = int(match.group(2))
                        self.proc = proc
                        return
            except TimeoutError:
                pass
            stop_process(proc)
            # The old process may still hold the port for a moment after a restart.
            if time.monotonic() >= deadline or "PortInUse" not in _tail(self.stderr_path, 500):
                raise RuntimeError(
                    f"the {self.backend} server did not start: {_tail(self.stderr_path)}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def restart(self) -> None:
        """Graceful stop (SIGTERM: close packets go out), then start on the same port."""
        self.stop()
        self.restarts += 1
        self.start()

    def close(self) -> None:
        self.stop()
        self._logdir.cleanup()

    def log_tail(self, limit: int = 3000) -> str:
        return _tail(self.stderr_path, limit)

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as reply:
            return json.loads(reply.read())

    def seen(self, run_id: str) -> set[str]:
        """The transports the requests tagged ``run=run_id`` arrived on."""
        return set(self.get_json(f"/interop/seen?run={run_id}"))

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json("/interop/stats")
        return result


def free_port() -> int:
    """A port free on 127.0.0.1 now (for servers that cannot report the one they bound)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AsgiServerUnderTest(ServerUnderTest):
    """``tests/interop/asgi_app.py`` served by a real ASGI server subprocess: ``uvicorn``
    (asyncio) or ``hypercorn`` (asyncio or trio), on a free port of 127.0.0.1; restartable
    on the same port. Ready once ``ready_path`` answers (the lifespan started). Other
    tests serve other apps with it (``app``: ``module:attribute``)."""

    def __init__(
        self,
        server: str,
        backend: str,
        app: str = "tests.interop.asgi_app:app",
        ready_path: str = "/interop/stats",
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(backend)
        self.server = server
        self.app = app
        self.ready_path = ready_path
        self.env = env

    def argv(self) -> list[str]:
        app = self.app
        if self.server == "uvicorn":
            return [
                sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                "--port", str(self.port), "--timeout-graceful-shutdown", "2",
                "--log-level", "warning",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "hypercorn", app, "--bind", f"127.0.0.1:{self.port}",
            "--worker-class", self.backend, "--graceful-timeout", "2",
        ]  # fmt: skip

    def start(self) -> None:
        if not self.port:
            self.port = free_port()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with self.stderr_path.open("a") as stderr:
                proc = subprocess.Popen(
                    self.argv(),
                    cwd=REPO,
                    stdout=stderr,
                    stderr=subprocess.STDOUT,
                    text=True,
                    env=None if self.env is None else {**os.environ, **self.env},
                )
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.url + self.ready_path, timeout=1):
                        self.proc = proc
                        return
                except OSError:
                    time.sleep(0.05)  # polling a subprocess's port, not a test's wait
            stop_process(proc)
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"{self.server} ({self.backend}) did not start: {_tail(self.stderr_path)}"
                )
            time.sleep(0.1)  # the previous process may still hold the port


@dataclass
class RunResult:
    """What one client run reported."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: dict[str, Any] | None = None
    lines: list[str] = field(default_factory=list)
    problem: str | None = None
    stderr: str = ""

    def context(self) -> str:
        text = "\n".join(self.lines[-20:])
        return f"client output (last lines):\n{text}\nclient stderr:\n{self.stderr[-2000:]}"


def collect(
    read: Callable[[float], dict[str, Any] | None],
    server: ServerUnderTest,
    result: RunResult,
    timeout: float = RUN_TIMEOUT,
) -> None:
    """Read result lines until ``done``; restart the server when a client asks for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = read(deadline)
        except TimeoutError:
            result.problem = f"no 'done' line within {timeout} s"
            return
        if msg is None:
            result.problem = "the client exited before its 'done' line"
            return
        if msg.get("phase") == "restart-me":
            server.restart()
        elif "feature" in msg:
            # Ask now: a later restart (the reconnect feature) starts a server with no memory.
            if "run" in msg:
                msg["seen"] = sorted(server.seen(msg["run"]))
            result.results[msg["feature"]] = msg
        elif msg.get("done"):
            result.done = msg
            return


def _json_lines(lines: Lines, result: RunResult) -> Callable[[float], dict[str, Any] | None]:
    def read(deadline: float) -> dict[str, Any] | None:
        while True:
            line = lines.next(deadline)
            if line is None:
                return None
            result.lines.append(line.rstrip("\n"))
            with contextlib.suppress(json.JSONDecodeError):
                msg = json.loads(line)
                if isinstance(msg, dict):
                    return msg

    return read


def run_client(argv: list[str], server: ServerUnderTest, cwd: Path = REPO) -> RunResult:
    """Run one client process to its end (bounded) and gather its results."""
    result = RunResult()
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            collect(_json_lines(Lines(proc.stdout), result), server, result)  # type: ignore[arg-type]
        finally:
            stop_process(proc)
            stderr.seek(0)
            result.stderr = stderr.read()
    return result


def node_run(server: ServerUnderTest, version: int, mode: str, run_id: str) -> RunResult:
    return run_client(
        [
            "node",
            str(NODE_DIR / "client.js"),
            "--client",
            str(version),
            "--mode",
            mode,
            "--url",
            server.url,
            "--run",
            run_id,
        ],
        server,
    )


def python_run(server: ServerUnderTest, mode: str, run_id: str) -> RunResult:
    return run_client(
        [
            sys.executable,
            "-m",
            "tests.interop.py_client",
            "--mode",
            mode,
            "--url",
            server.url,
            "--run",
            run_id,
        ],
        server,
    )


class ChromiumDriver:
    """``node/chromium.js``: one headless Chromium, reused for every run of the session."""

    def __init__(self) -> None:
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "chromium.js"), "--executable", CHROMIUM],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines = Lines(self.proc.stdout)  # type: ignore[arg-type]
        self._next_id = 0
        self.version = "?"
        deadline = time.monotonic() + 30
        try:
            while (line := self.lines.next(deadline)) is not None:
                with contextlib.suppress(json.JSONDecodeError):
                    msg = json.loads(line)
                    if msg.get("ready"):
                        self.version = str(msg.get("browser"))
                        return
            raise RuntimeError("the Chromium driver exited")
        except (TimeoutError, RuntimeError) as exc:
            self.close()
            raise RuntimeError(f"Chromium did not start ({exc}): {self.stderr()}") from None

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-3000:]

    def run(self, server: ServerUnderTest, mode: str, run_id: str, bundle: int = 4) -> RunResult:
        """Run every feature in a fresh page with the 4.x (or 2.x) browser bundle."""
        self._next_id += 1
        run = self._next_id
        assert self.proc.stdin is not None
        command = {"id": run, "url": server.url, "mode": mode, "runId": run_id, "bundle": bundle}
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        result = RunResult()
        read_any = _json_lines(self.lines, result)

        def read(deadline: float) -> dict[str, Any] | None:
            while True:
                msg = read_any(deadline)
                if msg is None or msg.get("id") == run:
                    return msg

        collect(read, server, result)
        if result.problem:
            result.stderr = self.stderr()
        return result

    def close(self) -> None:
        stop_process(self.proc)
        self._stderr.close()


def node_ready() -> str | None:
    """None if Node and this folder's packages are installed, else why not."""
    if shutil.which("node") is None:
        return "node is not installed"
    for package in ("socket.io-client", "socket.io-client-v2", "playwright-core"):
        if not (NODE_MODULES / package).is_dir():
            return f"{package} is missing: run `npm ci` in tests/interop/node (make node-deps)"
    return None


def chromium_ready() -> str | None:
    reason = node_ready()
    if reason is None and not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing: apt-get install chromium (make system-deps)"
    return reason


def package_version(package: str) -> str:
    try:
        data = json.loads((NODE_MODULES / package / "package.json").read_text())
    except (OSError, ValueError):
        return "?"
    return str(data.get("version", "?"))


@contextlib.contextmanager
def running_server(backend: str, *extra: str) -> Iterator[ServerUnderTest]:
    server = ServerUnderTest(backend, *extra)
    try:
        server.start()
        yield server
    finally:
        server.close()


class Sentinels:
    """``node/sentinel.js``: well-behaved 4.x and 2.x clients (WebSocket and polling) that
    stay connected to a server while tests misbehave next to them."""

    def __init__(self, server: ServerUnderTest) -> None:
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "sentinel.js"), "--url", server.url],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines = Lines(self.proc.stdout)  # type: ignore[arg-type]
        self.ready = self._read(lambda msg: bool(msg.get("ready")), 15)

    def _read(self, want: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.next(deadline)
            except TimeoutError:
                raise AssertionError(f"sentinel clients: no answer in {timeout} s") from None
            if line is None:
                self._stderr.seek(0)
                raise AssertionError(f"sentinel clients exited: {self._stderr.read()[-2000:]}")
            with contextlib.suppress(json.JSONDecodeError):
                msg = json.loads(line)
                if msg.get("fatal"):
                    raise AssertionError(f"sentinel clients failed: {msg['fatal']}")
                if want(msg):
                    return dict(msg)

    def check(self) -> dict[str, Any]:
        """Every sentinel round-trips an ack, never having been disconnected."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("check\n")
        self.proc.stdin.flush()
        report = self._read(lambda msg: "check" in msg, 15)
        broken = {name: c for name, c in report["clients"].items() if not c.get("ok")}
        assert not broken, f"well-behaved clients were affected: {broken}"
        return report

    def room_broadcast(self, room: str) -> None:
        """All sentinels join ``room``; one broadcast with binary must reach every one."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"room {room}\n")
        self.proc.stdin.flush()
        report = self._read(lambda msg: msg.get("room") == room, 15)
        assert "error" not in report, report
        broken = {name: c for name, c in report["clients"].items() if not c.get("ok")}
        assert not broken, f"the mixed-version room broadcast did not reach: {broken}"

    def close(self) -> None:
        """EOF first: the clients disconnect cleanly (no session left for the server's
        shutdown to wait on); then stop the process."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        stop_process(self.proc)
        self._stderr.close()
