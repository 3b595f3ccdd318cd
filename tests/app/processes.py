"""``thinkio run`` as a subprocess: start it on a free port, read its output, stop it; and a
bare Engine.IO polling call to reach an action from a synchronous test."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import httpx

SERVING = re.compile(
    r"thinkio serving (.+) on (http://127\.0\.0\.1:(\d+)) \((\w+)(, \d+ workers)?\)"
)
STARTUP_TIMEOUT = 20.0


def thinkio(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run the thinkio command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "thinkio.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Served:
    """``thinkio run DIR --port 0 ...`` running in the background.

    ``command`` replaces ``python -m thinkio.cli`` (another installation's ``thinkio``
    script, say), run in ``cwd``.
    """

    def __init__(
        self,
        project: Path,
        *args: str,
        command: list[str] | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        thinkio_command = command or [sys.executable, "-m", "thinkio.cli"]
        self.proc = subprocess.Popen(
            [*thinkio_command, "run", str(project), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()
        try:
            self.wait_until_serving()
        except RuntimeError:
            self.kill()
            raise

    def wait_until_serving(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait for the next "thinkio serving" line (the first, or one after a restart)."""
        try:
            while True:
                line = self._lines.get(timeout=timeout)
                match = SERVING.search(line)
                if match:
                    self.banner = line.strip()
                    self.url = match.group(2)
                    self.port = int(match.group(3))
                    return
        except queue.Empty:
            raise RuntimeError(f"thinkio run did not start: {''.join(self.stderr)}") from None

    def _read(self, stream: IO[str], into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self._lines.put(line)

    @property
    def log(self) -> str:
        return "".join(self.stderr)

    def interrupt(self, timeout: float = 15.0) -> int:
        """Ctrl-C: returns the exit status once it has shut down."""
        self.proc.send_signal(signal.SIGINT)
        status = self.proc.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return status

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def call_over_polling(url: str, event: str, *args: Any) -> list[Any]:
    """Join ``/`` over Engine.IO v4 polling, emit ``event`` with an ack, return the ack's
    arguments (bounded: a few polls of at most 5 s each)."""
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    opened = httpx.get(base, timeout=5)
    sid = json.loads(opened.text[1:])["sid"]
    session = f"{base}&sid={sid}"
    assert httpx.post(session, content="40", timeout=5).text == "ok"
    payload = json.dumps([event, *args])
    assert httpx.post(session, content=f"421{payload}", timeout=5).text == "ok"
    for _ in range(5):
        for packet in httpx.get(session, timeout=5).text.split("\x1e"):
            if packet.startswith("431"):
                answer: list[Any] = json.loads(packet[3:])
                return answer
    raise AssertionError(f"no ack for {event!r}")
