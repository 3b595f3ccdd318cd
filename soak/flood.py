"""A flood of malformed input at both protocol levels while bystanders do ack round trips.

The inputs come from the network fuzzer's strategies (:mod:`fuzz.net.strategies`): broken
HTTP requests, handshakes with every parameter wrong, broken polling payloads (also badly
framed bodies), broken Engine.IO and Socket.IO packets over WebSocket (hostile binary
placeholders included) and frames that break RFC 6455. Hypothesis draws a corpus of distinct
inputs, as many of each kind; sender threads then send ``flood_inputs`` of them, going
round the corpus, each on a fresh connection or a fresh session as its kind needs.

Figures: inputs sent (by kind), the server's tracebacks, the bystanders' round trips and
failures. Goal: 0 tracebacks, 0 bystander failures, the server alive (issue 9: 938
tracebacks in 52,548 inputs).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.net.http import exchange
from fuzz.net.steps import BadFrame, Handshake, RawRequest
from fuzz.net.strategies import bad_frames, handshakes, polling_bodies, raw_requests, ws_messages
from fuzz.net.wire import FRAMINGS, http_request
from protocol._client import NoReply, UpgradeRefused, open_websocket

from .clients import Bystander, SioClient
from .processes import ServerProcess, start_thinkio_app
from .profiles import Profile
from .report import Result

__all__ = ("corpus", "run")

SENDERS = 8
MOUNT = "/socket.io/"
#: How long a sender waits for an answer before it moves on (the server may rightly hold).
PATIENCE = 0.5

KINDS: dict[str, st.SearchStrategy[Any]] = {
    "http": raw_requests(),
    "handshake": handshakes(),
    "post": st.tuples(polling_bodies(MOUNT), st.sampled_from(FRAMINGS)),
    "socket.io": ws_messages(MOUNT),
    "frame": bad_frames(),
}


def _keeper(found: list[Any]) -> Any:
    def keep(value: Any) -> None:
        found.append(value)

    return keep


@functools.cache
def corpus(per_kind: int) -> list[tuple[str, Any]]:
    """``per_kind`` distinct inputs of each kind, drawn by Hypothesis, kinds interleaved
    (drawn once per run: both backends get the same ones)."""
    drawn: dict[str, list[Any]] = {}
    for kind, strategy in KINDS.items():
        found: list[Any] = []
        drawn[kind] = found
        run = settings(max_examples=per_kind, phases=[Phase.generate], database=None,
                       deadline=None, suppress_health_check=list(HealthCheck))  # fmt: skip
        run(given(value=strategy)(_keeper(found)))()
    rows = itertools.zip_longest(*[[(k, v) for v in values] for k, values in drawn.items()])
    return [item for row in rows for item in row if item is not None]


class _Sender:
    def __init__(self, server: ServerProcess, inputs: list[tuple[str, Any]], count: int) -> None:
        self.server = server
        self.address = (server.host, server.port)
        self.inputs = inputs
        self.count = count
        self.next = itertools.count()
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.deadline = 0.0

    def work(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=PATIENCE) as http:
            while (n := next(self.next)) < self.count and time.monotonic() < self.deadline:
                kind, value = self.inputs[n % len(self.inputs)]
                # The server may refuse or drop an attacker: that is its right.
                with contextlib.suppress(OSError, AssertionError, httpx.HTTPError, UpgradeRefused):
                    getattr(self, f"_{kind.replace('.', '_')}")(value, http)
                with self.lock:
                    self.sent[kind] += 1

    def _http(self, r: RawRequest, http: httpx.Client) -> None:
        exchange(self.address, r.data, method=r.method, timeout=PATIENCE)

    def _handshake(self, h: Handshake, http: httpx.Client) -> None:
        query = [f"{k}={v}" for k, v in (("EIO", h.eio), ("transport", h.transport),
                                          ("sid", h.unknown_sid)) if v is not None]  # fmt: skip
        path = f"{h.mount}?{'&'.join(query)}"
        if h.upgrade:
            open_websocket(self.server.url, path, origin=h.origin, timeout=PATIENCE).abort()
            return
        headers = (("Origin", h.origin),) if h.origin is not None else ()
        exchange(self.address, http_request(h.method, path, headers=headers), method=h.method,
                 timeout=PATIENCE)  # fmt: skip

    def _post(self, value: tuple[bytes, str], http: httpx.Client) -> None:
        body, framing = value
        opened = http.get(f"{MOUNT}?EIO=4&transport=polling").text
        sid = opened[opened.index('"sid":"') + 7 :].split('"', 1)[0]
        target = f"{MOUNT}?EIO=4&transport=polling&sid={sid}"
        http.post(target, content=b"40")
        data = http_request("POST", target, body=body, framing=framing)
        exchange(self.address, data, method="POST", timeout=PATIENCE,
                 half_close=framing == "short")  # fmt: skip

    def _socket_io(self, messages: list[str | bytes], http: httpx.Client) -> None:
        ws = open_websocket(self.server.url, f"{MOUNT}?EIO=4&transport=websocket", timeout=PATIENCE)
        try:
            ws.recv(PATIENCE)
            ws.send("40")
            for message in messages:
                ws.send(message)
            ws.wait_closed(timeout=0.05)
        except NoReply:
            pass
        finally:
            ws.abort()

    def _frame(self, frame: BadFrame, http: httpx.Client) -> None:
        ws = open_websocket(self.server.url, f"{MOUNT}?EIO=4&transport=websocket", timeout=PATIENCE)
        try:
            ws.recv(PATIENCE)
            ws.send_raw(frame.data)
            ws.wait_closed(timeout=0.05)
        except NoReply:
            pass
        finally:
            ws.abort()


def run(backend: str, profile: Profile, logs: Path) -> Result:
    """The malformed-flood scenario on one backend."""
    result = Result("flood", backend, goal="0 tracebacks, 0 bystander failures, server alive")
    inputs = corpus(profile.flood_distinct // len(KINDS))
    server = start_thinkio_app(f"flood-{backend}", logs, backend=backend)
    bystanders = [Bystander(server.url) for _ in range(profile.bystanders)]
    try:
        for b in bystanders:
            b.start_and_wait()
        sender = _Sender(server, inputs, profile.flood_inputs)
        started = time.monotonic()
        sender.deadline = started + profile.flood_seconds
        threads = [threading.Thread(target=sender.work, daemon=True) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(profile.flood_seconds + 30)
        elapsed = time.monotonic() - started
        figures = [b.stop() for b in bystanders]
        alive = server.alive() and _serves(server.url)
        tracebacks = server.tracebacks()
        failures = sum(f.failures for f in figures)
        total = sum(sender.sent.values())
        result.figures = {
            "inputs sent": f"{total} ({', '.join(f'{k} {v}' for k, v in sender.sent.items())}; "
            f"{len(inputs)} distinct; {total / elapsed:.0f}/s)",
            "tracebacks": tracebacks,
            "bystander failures": failures,
            "round trips": sum(f.round_trips for f in figures),
            "alive": alive,
        }
        result.passed = tracebacks == 0 and failures == 0 and alive
        if total < profile.flood_inputs:
            result.notes.append(f"only {total} of {profile.flood_inputs} inputs in time")
        for f in figures:
            result.notes += f.reasons
        if tracebacks:
            result.notes.append(_traceback_kinds(server))
            result.notes.append(server.first_traceback())
    finally:
        for b in bystanders:
            if b.is_alive():
                b.stop()
        server.stop()
    return result


def _serves(url: str) -> bool:
    try:
        client = SioClient(url)
    except AssertionError:
        return False
    try:
        return client.call("echo", "alive") == ["alive"]
    except AssertionError:
        return False
    finally:
        client.close()


def _traceback_kinds(server: ServerProcess) -> str:
    """The exceptions the tracebacks end with, counted."""
    kinds: Counter[str] = Counter()
    lines = server.log().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j] and not lines[j].startswith((" ", "Traceback"))), None)  # fmt: skip
            if end is not None:
                kinds[lines[end].split(":")[0]] += 1
    return "tracebacks by exception: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common())
