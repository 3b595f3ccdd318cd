"""Fixtures of the ASGI tests: real uvicorn / hypercorn subprocesses serving
``tests/asgi/apps.py``, and real clients (python-socketio, socket.io-client 4.x) waiting for
an event in subprocesses of their own."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..interop.conftest import require
from ..interop.harness import NODE_DIR, REPO, AsgiServerUnderTest, Lines, node_ready, stop_process

#: (ASGI server, backend): uvicorn runs asyncio only; hypercorn both.
SERVERS = [("uvicorn", "asyncio"), ("hypercorn", "asyncio"), ("hypercorn", "trio")]
SERVER_IDS = [f"{s}-{b}" for s, b in SERVERS]


@pytest.fixture(scope="module", params=SERVERS, ids=SERVER_IDS)
def asgi_server(request: pytest.FixtureRequest) -> Iterator[AsgiServerUnderTest]:
    """``tests.asgi.apps:<APP>`` (the module's ``APP``) on a real ASGI server."""
    name, backend = request.param
    app = f"tests.asgi.apps:{request.module.APP}"
    server = AsgiServerUnderTest(name, backend, app=app, ready_path="/hello")
    try:
        server.start()
        yield server
        server.stop()
        log = server.log_tail(1_000_000)
        assert "Traceback" not in log, f"the server logged a traceback:\n{log[-5000:]}"
    finally:
        server.close()


class Listener:
    """A client process waiting for one event (tests/asgi/listener.py, or
    tests/interop/node/listener.js)."""

    def __init__(self, client: str, url: str, path: str, mode: str, event: str = "notice"):
        if client == "node":
            require(node_ready())
            argv = ["node", str(NODE_DIR / "listener.js")]
        else:
            argv = [sys.executable, "-m", "tests.asgi.listener"]
        argv += ["--url", url, "--path", path, "--mode", mode, "--event", event]
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            argv, cwd=REPO, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self._lines = Lines(self.proc.stdout)  # type: ignore[arg-type]
        #: It reported its event (and then disconnects and exits by itself).
        self.finished = False

    def next(self, timeout: float = 15.0) -> dict[str, Any]:
        """The next JSON line (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._lines.next(deadline)
            if line is None:
                self._stderr.seek(0)
                raise AssertionError(f"the client exited: {self._stderr.read()[-2000:]}")
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(msg, dict):
                assert "error" not in msg, msg
                self.finished = "event" in msg
                return msg

    def close(self) -> None:
        if self.finished:
            # It disconnects and exits by itself once it has its event: let it, so its
            # session ends as a client's does (a SIGTERM could cut the polling client's
            # close request short, and the server's graceful shutdown would wait for it).
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        stop_process(self.proc)
        self._stderr.close()


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    """Listeners started by a test, stopped after it."""
    started: list[Listener] = []
    try:
        yield started
    finally:
        for listener in started:
            listener.close()
