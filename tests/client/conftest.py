"""Fixtures for the client tests: the backends, and the servers the client is tested against.

Every async test runs on asyncio and trio (``anyio_backend``). Tests that talk to a server
take ``server``: a :class:`ServerProcess` started for the test module, parametrized over the
servers under test (``SERVERS``; ``node`` is Node's reference ``socket.io`` server from
``protocol/node_reference``). Each server serves, at ``/socket.io/``, the application of
PROTOCOL.md 5.2: ``/`` emits ``auth`` on connect, answers ``message`` with ``message-back``
and acks ``message-with-ack``; ``/custom`` emits ``auth``; pingInterval 300 ms, pingTimeout
200 ms. To add a server, add a command line to ``SERVERS`` that prints
``listening on HOST:PORT``.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..support import missing_part, npm_ci

REPO = Path(__file__).resolve().parents[2]
NODE_REFERENCE = REPO / "protocol" / "node_reference"
LISTENING = re.compile(r"listening on ([\d.]+):(\d+)")
STARTUP_TIMEOUT = 20.0

#: Server name -> the command that starts it on a given port ("0": any free port), which is
#: appended, or substituted for ``{port}``. Run from the repository root.
SERVERS: dict[str, list[str]] = {
    "node": ["node", str(NODE_REFERENCE / "server.js")],
    "thinkio": [sys.executable, "-m", "protocol.server", "--port", "{port}"],
}

#: The same for the extra app of ``node_extra_server.js`` (server-to-client acks, a
#: server-side disconnect, a refusing middleware, a 1000-byte maxHttpBufferSize).
EXTRA_SERVERS: dict[str, list[str]] = {
    "node": ["node", str(Path(__file__).resolve().parent / "node_extra_server.js")],
    "thinkio": [sys.executable, "-m", "tests.client.thinkio_extra_server", "{port}"],
}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class ServerProcess:
    """A server under test, run as a subprocess on 127.0.0.1; restartable on the same port."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it (on the port it had before, if it ran before) and wait until it listens."""
        port = str(self.port)
        if any("{port}" in part for part in self.command):
            argv = [part.replace("{port}", port) for part in self.command]
        else:
            argv = [*self.command, port]
        self.proc = subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={
                **os.environ,
                "NODE_ENV": "production",
                "NODE_PATH": str(NODE_REFERENCE / "node_modules"),
            },
        )
        lines: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=STARTUP_TIMEOUT)
                match = LISTENING.search(line)
                if match:
                    self.port = int(match.group(2))
                    return
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"{self.name} server did not print 'listening on'") from None

    def stop(self) -> None:
        """Kill it (no graceful close: the client sees the connection drop)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def _start(name: str, command: list[str]) -> Iterator[ServerProcess]:
    if command[0] == "node":
        why = npm_ci(NODE_REFERENCE, "socket.io")
        if why:
            missing_part(why)
    server = ServerProcess(name, command)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A running server under test, shared by the tests of a module."""
    yield from _start(str(request.param), SERVERS[request.param])


@pytest.fixture(params=sorted(SERVERS))
def own_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A running server under test that the test may stop and restart."""
    yield from _start(str(request.param), SERVERS[request.param])


@pytest.fixture(scope="module", params=sorted(EXTRA_SERVERS))
def extra_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A running server with the extra app of ``node_extra_server.js``."""
    yield from _start(str(request.param), EXTRA_SERVERS[request.param])


@pytest.fixture
def server_url(server: ServerProcess) -> str:
    """The base URL of the server under test (``http://127.0.0.1:PORT``)."""
    return server.url
