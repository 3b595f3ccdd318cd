"""Runs the fuzzer's steps against a live server and holds each answer to PROTOCOL.md.

One :class:`Executor` per program (a Hypothesis test case, or a replayed script). Each step
is sent as it says; its answer is checked against :mod:`fuzz.net.model` and the
invariants of :mod:`fuzz.net.checks`: every request answered (within the ping interval for
a held GET, at once otherwise), the status and Engine.IO error JSON PROTOCOL.md 1.8 gives,
a session ended when it must be and answered when it must be, and the bystander
undisturbed after every step. :meth:`Executor.finish` closes what is left and checks that
the server still serves a new client. The polling and WebSocket steps are run by
:mod:`fuzz.net.polling_steps` and :mod:`fuzz.net.ws_steps`.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import h11
import httpx

from protocol._client import (
    Closed,
    NoReply,
    UpgradeRefused,
    WebSocket,
    connect_reply_sid,
    open_websocket,
    parse_open,
)

from .bystander import Bystander
from .checks import Checks, Finding
from .context import AUTH_EVENTS, error_body, is_answer, put
from .http import exchange
from .model import (
    HandshakeAnswer,
    SioState,
    echo_mount,
    handshake_answer,
    handshake_errors,
)
from .polling_steps import PollingSteps
from .sessions import Session, State, Target
from .steps import Handshake, RawRequest, Step, render
from .wire import http_request
from .ws_steps import WebSocketSteps

__all__ = ("Executor",)

OPEN_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
ORIGIN_REFUSED = HandshakeAnswer(403, 4)


def _valid_http(data: bytes) -> bool:
    """Whether ``data`` is one whole valid HTTP/1.1 request, as h11 (a strict reading of RFC
    9112) sees it: a mutated request line may still be one."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    try:
        while (event := conn.next_event()) is not h11.NEED_DATA:
            if isinstance(event, h11.EndOfMessage):
                return True
    except h11.RemoteProtocolError:
        return False
    return False


def _http09(data: bytes) -> bool:
    """Whether the request line is HTTP/0.9's ``METHOD TARGET``, without a version: not
    HTTP/1.1, but servers may still answer it (Node does, as HTTP/1.1)."""
    line = data.split(b"\r\n", 1)[0]
    return len(line.split(b" ")) == 2 and line[:1].isalpha()


class Executor(PollingSteps, WebSocketSteps):
    """Runs steps against ``target``; raises :class:`~fuzz.net.checks.Finding`."""

    def __init__(self, target: Target, checks: Checks, bystander: Bystander | None) -> None:
        self.target = target
        self.checks = checks
        self.bystander = bystander
        self.sessions: dict[str, Session] = {}
        self.steps: list[Step] = []
        #: When each step started (time.monotonic()).
        self.started: list[float] = []
        self.stats: Counter[str] = Counter()
        self.http = httpx.Client(base_url=target.url, timeout=target.timeout)
        self.T = target.timeout

    # -- driving -------------------------------------------------------------------------------

    def run(self, step: Step) -> str | None:
        """Run one step; the name of the session it opened, if any.

        Raises:
            Finding: the server broke an invariant.
        """
        self.steps.append(step)
        self.started.append(time.monotonic())
        self.stats[type(step).__name__] += 1
        for known in self.sessions.values():
            known.doubt(self.target.connect_timeout)
            self._keep_alive(known)
        name = getattr(step, "session", None)
        if name is not None and name not in self.sessions:
            return None  # its handshake did not open it: nothing to do
        handler = getattr(self, f"_{type(step).__name__.lower()}")
        opened: str | None = handler(step)
        self._check_bystander(step)
        return opened

    def close(self) -> None:
        """Drop every session's connection."""
        for session in self.sessions.values():
            if session.ws is not None:
                session.ws.abort()
        self.http.close()

    def finish(self) -> None:
        """Close every session, then check that the server serves a new client.

        Raises:
            Finding: the bystander failed, or the server no longer serves.
        """
        self.close()
        try:
            ws = open_websocket(self.target.url, "/socket.io/?EIO=4&transport=websocket")
            with ws:
                parse_open(ws.recv_skipping_pings())
                put(ws, "40")
                connect_reply_sid(ws.recv_skipping_pings(), "40")
                put(ws, '421["message-with-ack","alive?"]')
                frame = ws.recv_skipping_pings()
                while isinstance(frame, str) and frame.startswith(AUTH_EVENTS):
                    frame = ws.recv_skipping_pings()
                ok = frame == '431["alive?"]'
        except (AssertionError, OSError, UpgradeRefused) as exc:
            ok, frame = False, f"{type(exc).__name__}: {exc}"
        self.checks.require("alive", ok, f"a new client is not served after the program: {frame!r}")
        if self.bystander is not None:
            self._check_bystander(None)
            self.checks.require("heartbeat", True, "")  # one more program it came through

    def _check_bystander(self, step: Step | None) -> None:
        if self.bystander is None or self.bystander.failure is None:
            return
        # The server ends a session at its ping timeout, so what disturbed it ran up to a
        # ping interval and timeout (~1 s on a loaded machine) before the failure showed.
        when = self.bystander.failed_at
        suspects = [render(s) for s, t in zip(self.steps, self.started, strict=True)
                    if when - 1.0 <= t <= when]  # fmt: skip
        during = f" during {render(step)}" if step is not None else " after the program"
        check = "heartbeat" if self.bystander.failure_kind == "closed" else "bystander"
        self.checks.require(
            check,
            False,
            f"the bystander failed{during}: "
            f"{self.bystander.failure}; steps in the second before: {suspects}",
        )

    def _keep_alive(self, session: Session) -> None:
        """Answer the pings that reached a WebSocket session since the last step (as a client
        would); note it gone if the server closed it."""
        ws = session.ws
        if ws is None or ws.closed or session.transport != "websocket":
            return
        try:
            while True:
                frame = ws.recv(timeout=0.0005)
                if frame == "2":
                    put(ws, "3")
                    session.last_pong = time.monotonic()
        except NoReply:
            return
        except Closed:
            session.state = State.GONE

    # -- requests without a session ------------------------------------------------------------

    def _handshake(self, h: Handshake) -> str | None:
        restricted = bool(self.target.restricted_path) and h.mount == self.target.restricted_path
        want = handshake_answer(h, restricted=restricted,
                                allowed_origin=self.target.allowed_origin)  # fmt: skip
        query = []
        if h.eio is not None:
            query.append(f"EIO={h.eio}")
        if h.transport is not None:
            query.append(f"transport={h.transport}")
        if h.unknown_sid is not None:
            query.append(f"sid={h.unknown_sid}")
        path = f"{h.mount}?{'&'.join(query)}"
        if h.upgrade:
            return self._ws_handshake(h, path, want.status, want.capability)
        headers = (("Origin", h.origin),) if h.origin is not None else ()
        answer = exchange(self.target.address, http_request(h.method, path, headers=headers),
                          method=h.method, timeout=self.T)  # fmt: skip
        what = f"{h.method} {path}"
        if h.method == "HEAD":  # answered as the GET would be, without a body (RFC 9110 9.3.2)
            self.checks.require(
                "http-errors",
                answer.status == want.status and not answer.body,
                f"{what}: expected HTTP {want.status} without a body, got {answer}",
            )
            return None
        self._answered(answer, what)
        body = error_body(answer.body)
        if not is_answer(answer.status, body, want):
            later = handshake_errors(h, restricted=restricted,
                                     allowed_origin=self.target.allowed_origin)[1:]  # fmt: skip
            if restricted and h.origin not in (None, self.target.allowed_origin):
                later.append(ORIGIN_REFUSED)  # a server may refuse the origin on any request
            check = (
                "error-order" if any(is_answer(answer.status, body, e) for e in later) else "status"
            )
            code = f" and the error JSON code {want.code}" if want.code is not None else ""
            self.checks.require(
                check, False, f"{what}: expected HTTP {want.status}{code}, got {answer}"
            )
        if not want.opens:
            return None
        return self._register(h, "polling", answer.body.decode("utf-8", "replace"), None)

    def _ws_handshake(
        self, h: Handshake, path: str, status: int, capability: str | None
    ) -> str | None:
        origin = h.origin
        what = f"WebSocket {path}"
        try:
            ws = open_websocket(self.target.url, path, origin=origin, timeout=self.T)
        except UpgradeRefused as refusal:
            ok = status != 101 and 400 <= refusal.status < 500
            self.checks.require("status", ok, f"{what}: expected {status}, refused {refusal}")
            return None
        except NoReply as exc:
            self.checks.require("status", status != 101, f"{what}: no answer ({exc})")
            return None
        if status == 101:
            try:
                first = ws.recv_skipping_pings(self.T)
            except AssertionError as exc:
                ws.close()
                raise Finding("answered", f"{what}: no open packet ({exc})") from None
            assert isinstance(first, str | bytes)
            return self._register(h, "websocket", first, ws)
        # The server upgraded what it should have refused: strict servers fail here; any
        # server must then close without opening a session.
        self.checks.require(
            capability or "status", False, f"{what}: upgraded (101), expected {status}"
        )
        received: list[Any] = []
        try:
            received = ws.wait_closed(timeout=self.T)
        except NoReply as exc:
            ws.close()
            self.checks.require("session", False, f"{what}: upgraded and kept open ({exc})")
        self.checks.require(
            "session",
            not any(isinstance(m, str) and m.startswith("0") for m in received),
            f"{what}: upgraded and opened a session: {received!r}",
        )
        return None

    def _register(self, h: Handshake, transport: str, packet: str | bytes,
                  ws: WebSocket | None) -> str | None:  # fmt: skip
        try:
            value = parse_open(packet)
        except (AssertionError, ValueError) as exc:
            if ws is not None:
                ws.close()
            raise Finding(
                "status", f"handshake on {h.mount}: bad open packet {packet!r} ({exc})"
            ) from None
        upgrades = ["websocket"] if transport == "polling" else []
        ok = set(value) == OPEN_KEYS and value.get("upgrades") == upgrades
        self.checks.require(
            "status",
            ok,
            f"open packet {packet!r}: expected exactly the keys "
            f"{sorted(OPEN_KEYS)} and upgrades {upgrades}",
        )
        if h.name is None:
            if ws is not None:
                ws.abort()
            return None
        self.sessions[h.name] = Session(
            h.name, h.mount, str(value["sid"]), transport,
            ping_interval=value["pingInterval"] / 1000, ping_timeout=value["pingTimeout"] / 1000,
            max_payload=int(value["maxPayload"]), ws=ws,
            sio=None if echo_mount(h.mount) else SioState(),
        )  # fmt: skip
        return h.name

    def _rawrequest(self, r: RawRequest) -> None:
        answer = exchange(self.target.address, r.data, method=r.method, timeout=self.T)
        what = f"{r.kind} request {r.data[:80]!r}"
        self.checks.require("status", answer.status not in (500, 502, 503),
                            f"{what}: server error {answer}")  # fmt: skip
        if r.kind == "big-head":
            ok = answer.status in (400, 413, 414, 431)
        elif r.kind == "head":
            ok = answer.status is not None and not answer.body
        elif r.kind == "smuggle":
            ok = answer.status is not None and 400 <= answer.status < 500
            ok = ok and answer.headers.get("connection", "").lower() == "close"
        elif r.kind == "garbage" and (_valid_http(r.data) or _http09(r.data)):
            return  # a mutation that is still a request a server may take: any answer will do
        else:
            ok = answer.status is not None and (
                400 <= answer.status < 500 or answer.status in (501, 505)
            )
        self.checks.require("http-errors", ok, f"{what}: got {answer}")

    # -- polling -------------------------------------------------------------------------------
