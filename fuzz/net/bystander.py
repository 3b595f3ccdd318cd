"""The bystander: a well-behaved session doing round trips while the fuzzer attacks.

A Socket.IO client on ``/socket.io/`` over WebSocket sends ``message-with-ack`` every
``interval`` seconds and waits for the ack (PROTOCOL.md 5.2), answering every ping at once.
It runs in a process of its own (``python -m fuzz.net.bystander URL``): in a thread of the
fuzzer's process, Hypothesis's CPU work could hold the GIL past a 200 ms ping timeout, and
the server would rightly drop the bystander for the fuzzer's sake.

The process prints ``ok N`` after every round trip and ``fail TIME KIND REASON`` at its first failure
(no ack in time, the connection closed, a wrong ack), then exits; :class:`Bystander` reads
those lines for the fuzzer, which reports a failure against the step that was running and
starts a new bystander.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from protocol._client import (
    Closed,
    NoReply,
    UpgradeRefused,
    WebSocket,
    connect_reply_sid,
    open_websocket,
)

__all__ = ("Bystander",)

REPO = Path(__file__).resolve().parents[2]


class Bystander:
    """The bystander process, seen from the fuzzer."""

    def __init__(self, url: str, *, interval: float = 0.05, timeout: float = 2.0) -> None:
        self.url = url
        self.interval = interval
        self.timeout = timeout
        self.round_trips = 0
        #: Why the bystander failed (None while it is fine), when (time.monotonic(), the
        #: same clock in every process of the machine), and whether the server closed its
        #: session (``closed``) or failed it otherwise (``other``: no ack, a wrong ack...).
        self.failure: str | None = None
        self.failed_at = 0.0
        self.failure_kind = ""
        self._ready = threading.Event()
        self._process: subprocess.Popen[str] | None = None

    def start_and_wait(self) -> None:
        """Start the process and wait for its first round trip (or its failure)."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "fuzz.net.bystander", self.url, str(self.interval),
             str(self.timeout)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=REPO,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(self.timeout * 3) and self.failure is None:
            self.failure = "no round trip within the start-up time"

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            word, _, rest = line.rstrip("\n").partition(" ")
            if word == "ok":
                self.round_trips = int(rest)
            elif word == "fail" and self.failure is None:
                when, kind, self.failure = rest.split(" ", 2)
                self.failed_at, self.failure_kind = float(when), kind
            self._ready.set()
        if self.failure is None and self._process.poll() not in (None, 0, -15):
            self.failure = f"the bystander process exited with {self._process.returncode}"
        self._ready.set()

    def stop(self) -> None:
        """Stop the process."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)


class _Session:
    """The bystander's session, with the times a failure report needs."""

    def __init__(self, ws: WebSocket, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.last_ping = self.last_ack = time.monotonic()
        self.sid = ""

    def recv(self, timeout: float) -> str | bytes:
        """The next frame that is not a ping; pings are answered at once."""
        while True:
            frame = self.ws.recv(timeout)
            if frame != "2":
                return frame
            self.ws.send("3")
            self.last_ping = time.monotonic()

    def round_trip(self, n: int) -> None:
        self.ws.send(f'42{n}["message-with-ack",{n}]')
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                frame = self.recv(max(deadline - time.monotonic(), 0.001))
            except NoReply:
                raise AssertionError(f"no ack {n} within {self.timeout} s") from None
            except Closed as closed:
                raise AssertionError(f"the server closed the session ({closed})") from None
            if isinstance(frame, str) and frame.startswith(f"43{n}["):
                if json.loads(frame[len(f"43{n}") :]) != [n]:
                    raise AssertionError(f"ack {n} carried {frame!r}")
                self.last_ack = time.monotonic()
                return
            # Anything else (the auth event after CONNECT) is not for us.

    def idle(self, seconds: float) -> None:
        """Wait between round trips, answering pings."""
        pause = time.monotonic() + seconds
        while (left := pause - time.monotonic()) > 0:
            try:
                self.recv(left)
            except NoReply:
                return

    def timing(self) -> str:
        now = time.monotonic()
        return (
            f"session {self.sid}: last ping answered {now - self.last_ping:.2f} s before, "
            f"last ack {now - self.last_ack:.2f} s before"
        )


def main(url: str, interval: float, timeout: float) -> None:
    """The bystander process: round trips until killed or until the first failure."""
    try:
        ws = open_websocket(url, "/socket.io/?EIO=4&transport=websocket")
    except (NoReply, UpgradeRefused, OSError) as exc:
        print(f"fail {time.monotonic()} other could not connect: {exc}", flush=True)
        return
    with ws:
        session = _Session(ws, timeout)
        try:
            opened = session.recv(timeout)  # the open packet
            session.sid = json.loads(str(opened)[1:])["sid"]
            ws.send("40")
            connect_reply_sid(session.recv(timeout), "40")
            n = 0
            while True:
                session.round_trip(n)
                n += 1
                print(f"ok {n}", flush=True)
                session.idle(interval)
        except (AssertionError, OSError, ValueError) as exc:
            # It answers every ping at once: a server that closes it anyway misjudged its
            # heartbeat (or has another bug); anything else is a failure of its own kind.
            kind = (
                "closed" if isinstance(exc, Closed) or "closed the session" in str(exc) else "other"
            )
            print(
                f"fail {time.monotonic()} {kind} {type(exc).__name__}: {exc} ({session.timing()})",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
