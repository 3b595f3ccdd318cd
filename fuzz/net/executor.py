"""Runs the fuzzer's steps against a live server and holds each answer to PROTOCOL.md.

One :class:`Executor` per program (a Hypothesis test case, or a replayed script). Each step
is sent as it says; its answer is checked against :mod:`fuzz.net.model` and the
invariants of :mod:`fuzz.net.checks`: every request answered (within the ping interval for
a held GET, at once otherwise), the status and Engine.IO error JSON PROTOCOL.md 1.8 gives,
a session ended when it must be and answered when it must be, and the bystander
undisturbed after every step. :meth:`Executor.finish` closes what is left and checks that
the server still serves a new client.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from typing import Any

import httpx

from fuzz.strategies import normal_json
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
from .http import Answer, exchange
from .model import (
    ANY_SID,
    EIO_ERRORS,
    Effect,
    HandshakeAnswer,
    Reply,
    SioState,
    decode_polling_body,
    echo_mount,
    eio_effect,
    handshake_answer,
    handshake_errors,
)
from .sessions import Session, State, Target
from .steps import BadFrame, CloseWs, Get, Handshake, Post, RawRequest, Send, Step, Upgrade, render
from .wire import BAD_CHUNKED, http_request

__all__ = ("Executor",)

OPEN_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
ORIGIN_REFUSED = HandshakeAnswer(403, 4)
#: Frames the protocol/ app sends unprompted right after a CONNECT (PROTOCOL.md 5.2).
AUTH_EVENTS = ('42["auth",', '42/custom,["auth",')


def _error_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _is_answer(status: int | None, body: Any, want: HandshakeAnswer) -> bool:
    """Whether an answer is ``want``: its status and, for a polling error, its error JSON
    (any message for code 4, which a server may word as it likes)."""
    if status != want.status:
        return False
    if want.code is None:
        return True
    if want.code == 4:
        return isinstance(body, dict) and body.get("code") == 4
    return bool(body == {"code": want.code, "message": EIO_ERRORS[want.code]})


def _put(ws: WebSocket, data: str | bytes) -> None:
    """Send on a WebSocket the server may have closed already (what it did shows next)."""
    with contextlib.suppress(Closed):
        ws.send(data)


def _without_placeholders(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_placeholders(v) for v in value]
    if isinstance(value, dict):
        if value.get("_placeholder") is True:
            return "<attachment>"
        return {k: _without_placeholders(v) for k, v in value.items()}
    return value


class Executor:
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
                _put(ws, "40")
                connect_reply_sid(ws.recv_skipping_pings(), "40")
                _put(ws, '421["message-with-ack","alive?"]')
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
        self.checks.require(check, False, f"the bystander failed{during}: "
                            f"{self.bystander.failure}; steps in the second before: {suspects}")

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
                    _put(ws, "3")
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
            self.checks.require("http-errors", answer.status == want.status and not answer.body,
                                f"{what}: expected HTTP {want.status} without a body, got {answer}")
            return None
        self._answered(answer, what)
        body = _error_body(answer.body)
        if not _is_answer(answer.status, body, want):
            later = handshake_errors(h, restricted=restricted,
                                     allowed_origin=self.target.allowed_origin)[1:]  # fmt: skip
            if restricted and h.origin not in (None, self.target.allowed_origin):
                later.append(ORIGIN_REFUSED)  # a server may refuse the origin on any request
            check = "error-order" if any(_is_answer(answer.status, body, e) for e in later) else "status"
            code = f" and the error JSON code {want.code}" if want.code is not None else ""
            self.checks.require(check, False, f"{what}: expected HTTP {want.status}{code}, got {answer}")
        if not want.opens:
            return None
        return self._register(h, "polling", answer.body.decode("utf-8", "replace"), None)

    def _ws_handshake(self, h: Handshake, path: str, status: int, capability: str | None) -> str | None:
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
        self.checks.require(capability or "status", False, f"{what}: upgraded (101), expected {status}")
        received: list[Any] = []
        try:
            received = ws.wait_closed(timeout=self.T)
        except NoReply as exc:
            ws.close()
            self.checks.require("session", False, f"{what}: upgraded and kept open ({exc})")
        self.checks.require(
            "session", not any(isinstance(m, str) and m.startswith("0") for m in received),
            f"{what}: upgraded and opened a session: {received!r}")
        return None

    def _register(self, h: Handshake, transport: str, packet: str | bytes,
                  ws: WebSocket | None) -> str | None:  # fmt: skip
        try:
            value = parse_open(packet)
        except (AssertionError, ValueError) as exc:
            if ws is not None:
                ws.close()
            raise Finding("status", f"handshake on {h.mount}: bad open packet {packet!r} ({exc})") from None
        upgrades = ["websocket"] if transport == "polling" else []
        ok = set(value) == OPEN_KEYS and value.get("upgrades") == upgrades
        self.checks.require("status", ok, f"open packet {packet!r}: expected exactly the keys "
                                          f"{sorted(OPEN_KEYS)} and upgrades {upgrades}")
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
        else:
            ok = answer.status is not None and (400 <= answer.status < 500 or answer.status in (501, 505))
        self.checks.require("http-errors", ok, f"{what}: got {answer}")

    # -- polling -------------------------------------------------------------------------------

    def _answered(self, answer: Answer, what: str) -> None:
        self.checks.require("answered", answer.status is not None, f"{what}: {answer}")

    def _polling(self, method: str, session: Session, body: bytes | None = None,
                 content_type: str = "text/plain;charset=UTF-8",
                 timeout: float | None = None) -> httpx.Response:  # fmt: skip
        what = f"{method} on {session.name} ({session.state.value})"
        try:
            if method == "GET":
                return self.http.get(session.query(), timeout=timeout or self.T)
            return self.http.post(session.query(), content=body, timeout=timeout or self.T,
                                  headers={"content-type": content_type})  # fmt: skip
        except httpx.TimeoutException:
            raise Finding("answered", f"{what}: no answer within {timeout or self.T:.1f} s") from None
        except httpx.TransportError as exc:
            raise Finding("answered", f"{what}: the connection ended unanswered ({exc!r})") from None

    def _gone_or(self, session: Session, response: httpx.Response, what: str) -> bool:
        """True if the answer is the one for an ended session (400 code 1), or for polling
        on an upgraded one (400 code 3); checks the JSON then."""
        if response.status_code != 400:
            return False
        body = _error_body(response.content)
        code = 3 if session.transport == "websocket" else 1
        ok = body == {"code": code, "message": EIO_ERRORS[code]} or (
            session.state is not State.ALIVE and body == {"code": 1, "message": EIO_ERRORS[1]}
        )
        self.checks.require("status", ok, f"{what}: 400 with {response.text!r}")
        return True

    def _get(self, g: Get) -> None:
        session = self.sessions[g.session]
        what = f"GET on {session.name}"
        if session.state is State.GONE or session.transport == "websocket":
            response = self._polling("GET", session)
            ok = self._gone_or(session, response, what)
            self.checks.require("status", ok, f"{what} ({session.state.value}, "
                                f"{session.transport}): expected 400, got {response.status_code}")
            return
        held = session.ping_interval + session.ping_timeout + self.T
        response = self._polling("GET", session, timeout=held)
        if self._gone_or(session, response, what):
            self.checks.require("session", session.state is not State.ALIVE,
                                f"{what}: the session ended though the fuzzer kept it alive")
            session.state = State.GONE
            return
        packets = decode_polling_body(response.content) if response.status_code == 200 else None
        self.checks.require("status", packets is not None,
                            f"{what}: expected 200 and a payload, got {response.status_code} "
                            f"{response.content[:200]!r}")  # fmt: skip
        assert packets is not None
        if "1" in packets:
            session.state = State.GONE
        elif "2" in packets:
            pong = self._polling("POST", session, b"3")
            if pong.status_code == 200:
                session.last_pong = time.monotonic()

    def _post(self, p: Post) -> None:
        session = self.sessions[p.session]
        what = f"POST {p.body[:80]!r} on {session.name} ({session.state.value})"
        if p.framing in BAD_CHUNKED:
            self._badly_framed_post(session, p)
            return
        response = self._polling("POST", session, p.body, p.content_type)
        status = response.status_code
        if session.state is State.GONE or session.transport == "websocket":
            self.checks.require("status", self._gone_or(session, response, what),
                                f"{what}: expected 400, got {status}")
            return
        if session.state is not State.ALIVE:  # DYING or UNSURE: either answer will do
            self.checks.require("status", status in (200, 400, 413), f"{what}: got {status}")
            if status == 400 and _error_body(response.content) == {"code": 1, "message": EIO_ERRORS[1]}:
                session.state = State.GONE
            else:
                session.state = State.UNSURE
            return
        if len(p.body) > session.max_payload:
            self.checks.require("status", status == 413, f"{what}: expected 413, got {status}")
            return
        effect, parse_error = self._post_effect(session, p)
        if effect is Effect.OK:
            ok = status == 200 and response.text == "ok"
            self.checks.require("status", ok, f"{what}: expected 200 ok, got "
                                f"{status} {response.text[:200]!r}")
            return
        if parse_error:
            self.checks.require("post-parse-error-400", status == 400,
                                f"{what}: a payload that does not decode, answered {status}")
        self.checks.require("status", status in (200, 400),
                            f"{what}: expected 200 or 400, got {status}")  # fmt: skip
        session.state = State.DYING if effect is Effect.CLOSES else State.UNSURE

    def _post_effect(self, session: Session, p: Post) -> tuple[Effect, bool]:
        """The effect of a POST body; whether it is a payload parse error."""
        if p.content_type.startswith("application/octet-stream"):
            return Effect.CLOSES, False
        packets = decode_polling_body(p.body)
        if packets is None:
            return Effect.CLOSES, True
        effects = []
        for packet in packets:
            if isinstance(packet, bytes):
                effect = session.sio.binary(packet)[0] if session.sio else Effect.OK
            else:
                effect = eio_effect(packet)
                if effect is Effect.OK and packet.startswith("4") and session.sio is not None:
                    effect = session.sio.text(packet[1:])[0]
            effects.append(effect)
            if effect is Effect.CLOSES:
                break
        if Effect.CLOSES in effects:
            return Effect.CLOSES, False
        return (Effect.UNSURE if Effect.UNSURE in effects else Effect.OK), False

    def _badly_framed_post(self, session: Session, p: Post) -> None:
        data = http_request("POST", session.query(), body=p.body, framing=p.framing,
                            headers=(("Content-Type", p.content_type),))  # fmt: skip
        answer = exchange(self.target.address, data, method="POST", timeout=self.T,
                          half_close=p.framing == "short")  # fmt: skip
        what = f"POST framed '{p.framing}' on {session.name}"
        self.checks.require("status", answer.status not in (500, 502, 503), f"{what}: {answer}")
        if p.framing == "short":
            # The body never ends: the POST is abandoned, and the notes do not say whether
            # that ends the session (Node ends it: a transport error).
            session.state = State.UNSURE if session.state is State.ALIVE else session.state
            return
        ok = answer.status is not None and 400 <= answer.status < 500
        self.checks.require("post-framing", ok, f"{what}: expected a 4xx, got {answer}")
        if not session.surely_alive(self.target.connect_timeout) or session.transport != "polling":
            session.state = State.UNSURE if session.state is State.ALIVE else session.state
            return
        # The POST is over: the session takes the next one as usual, or has been ended
        # cleanly (Node ends it: a transport error); a POST still "in flight" is neither.
        response = self._polling("POST", session, b"3")
        ended = _error_body(response.content) == {"code": 1, "message": EIO_ERRORS[1]}
        ok = (response.status_code == 200 and response.text == "ok") or (
            response.status_code == 400 and ended
        )
        self.checks.require("post-framing", ok, f"{what}, then POST '3' answered "
                            f"{response.status_code} {response.text[:100]!r}")
        session.state = State.GONE if ended else State.ALIVE if ok else State.UNSURE

    # -- WebSocket -----------------------------------------------------------------------------

    def _send(self, s: Send) -> None:
        session = self.sessions[s.session]
        ws = session.ws
        if ws is None or ws.closed or session.transport != "websocket":
            return
        sure = session.surely_alive(self.target.connect_timeout)
        what = f"{s.data[:80]!r} on {session.name}"
        effect, reply, check = self._ws_effect(session, s.data)
        _put(ws, s.data)
        if effect is Effect.CLOSES:
            self._wait_closed(session, what, check, sure)
        elif effect is Effect.UNSURE:
            session.state = State.UNSURE
        elif reply is not None and sure:
            self._expect_reply(session, reply, what)

    def _ws_effect(self, session: Session, data: str | bytes) -> tuple[Effect, Reply | None, str]:
        """The effect of one message, the reply it calls for, and the check that applies."""
        size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
        if size > session.max_payload:
            return Effect.CLOSES, None, "ws-close-codes:1009"
        if isinstance(data, bytes):
            if session.sio is None:
                return Effect.OK, Reply("", None, (data,)), "session"
            effect, reply = session.sio.binary(data)
            return effect, reply, "session"
        effect = eio_effect(data)
        if data.startswith("1"):
            return effect, None, "ws-close-packet"
        if effect is not Effect.OK or not data.startswith("4"):
            return effect, None, "session"
        if session.sio is None:
            return Effect.OK, Reply(data), "session"
        effect, reply = session.sio.text(data[1:])
        return effect, reply, "session"

    def _wait_closed(self, session: Session, what: str, check: str, sure: bool) -> None:
        """The server must end the session now: promptly (with the close code RFC 6455 gives,
        for ``ws-close-codes:N``), and in any case by its next unanswered ping."""
        ws = session.ws
        assert ws is not None
        session.state = State.GONE
        if not sure:  # the session may already be gone: nothing left to learn from it
            ws.abort()
            return
        code = None
        if check.startswith("ws-close-codes:"):
            check, code = "ws-close-codes", int(check.split(":")[1])
        try:
            before = ws.wait_closed(timeout=self.T)
            closed = True
        except NoReply:
            before, closed = [], False
        got = f"close code {ws.close_code}" if closed else f"still open after {self.T} s"
        if check == "ws-close-packet" and "2" in before:  # "at once" is before the next ping
            closed, got = False, f"a ping came first, then close code {ws.close_code}"
        self.checks.require(check, closed and (code is None or ws.close_code == code),
                            f"{what}: expected the connection closed at once"
                            f"{f' with {code}' if code else ''}; {got}")
        if not closed and not ws.closed:
            try:
                ws.wait_closed(timeout=session.ping_interval + session.ping_timeout + self.T)
            except NoReply:
                ws.abort()
        closed = ws.closed and ws.close_code is not None
        self.checks.require("session", closed,
                            f"{what}: the session must end; still open after its ping timeout")

    def _expect_reply(self, session: Session, reply: Reply, what: str) -> None:
        ws = session.ws
        assert ws is not None
        try:
            frame = ws.recv_skipping_pings(self.T)
            while isinstance(frame, str) and frame.startswith(AUTH_EVENTS):
                frame = ws.recv_skipping_pings(self.T)
            session.last_pong = time.monotonic()  # recv_skipping_pings answered any ping
            if not reply.head and reply.attachments:  # the echo mount's binary echo
                self.checks.require("reply", frame == reply.attachments[0],
                                    f"{what}: expected the binary echo, got {frame!r}")
                return
            if reply.data is None:
                self.checks.require("reply", frame == reply.head,
                                    f"{what}: expected the echo {reply.head!r}, got {frame!r}")
                return
            self._compare(frame, reply, what)
            attachments = [ws.recv_skipping_pings(self.T) for _ in reply.attachments]
            got = sorted(a for a in attachments if isinstance(a, bytes))
            self.checks.require("reply", len(got) == len(attachments) and got == sorted(reply.attachments),
                                f"{what}: expected the attachments {reply.attachments!r}, "
                                f"got {attachments!r}")
        except (NoReply, Closed) as exc:
            session.state = State.GONE if isinstance(exc, Closed) else State.UNSURE
            raise Finding("reply", f"{what}: expected a reply starting {reply.head!r} ({exc})") from None

    def _compare(self, frame: str | bytes, reply: Reply, what: str) -> None:
        ok = isinstance(frame, str) and frame.startswith(reply.head)
        if ok:
            assert isinstance(frame, str)
            try:
                value = json.loads(frame[len(reply.head):])
            except ValueError:
                ok = False
            else:
                if reply.data is ANY_SID:
                    ok = isinstance(value, dict) and set(value) == {"sid"}
                else:
                    ok = normal_json(_without_placeholders(value)) == normal_json(
                        _without_placeholders(reply.data))
        self.checks.require("reply", ok, f"{what}: expected {reply.head}{reply.data!r}, got {frame!r}")

    def _badframe(self, b: BadFrame) -> None:
        session = self.sessions[b.session]
        ws = session.ws
        if ws is None or ws.closed or session.transport != "websocket":
            return
        sure = session.surely_alive(self.target.connect_timeout)
        ws.send_raw(b.data)
        self._wait_closed(session, f"a frame breaking RFC 6455 ({b.violation}) on {session.name}",
                          f"ws-close-codes:{b.expect}", sure)  # fmt: skip

    def _closews(self, c: CloseWs) -> None:
        session = self.sessions[c.session]
        if session.ws is None or session.transport != "websocket":
            return
        if c.polite:
            session.ws.close()
        else:
            session.ws.abort()
        session.state = State.GONE

    def _upgrade(self, u: Upgrade) -> None:
        session = self.sessions[u.session]
        what = f"upgrade of {session.name} ({session.state.value}, {session.transport})"
        try:
            ws = open_websocket(self.target.url, session.query("websocket"), timeout=self.T)
        except UpgradeRefused as refusal:
            # Only an ended session, or one already on WebSocket, may be refused (1.6).
            ok = 400 <= refusal.status < 500 and (
                session.state is not State.ALIVE or session.transport == "websocket"
            )
            self.checks.require("status", ok, f"{what}: refused {refusal}")
            if session.state is not State.ALIVE:
                session.state = State.GONE
            return
        except NoReply as exc:
            raise Finding("answered", f"{what}: no answer ({exc})") from None
        if session.state is State.GONE or session.transport == "websocket":
            # A dead sid, or a second WebSocket: closed without serving (1.6).
            try:
                _put(ws, u.probe)
                received = ws.wait_closed(timeout=self.T)
            except NoReply:
                ws.close()
                raise Finding("session", f"{what}: a second/dead WebSocket kept open") from None
            self.checks.require("session", "3probe" not in received,
                                f"{what}: answered the probe: {received!r}")
            return
        sure = session.surely_alive(self.target.connect_timeout)
        _put(ws, u.probe)
        if u.probe != "2probe":
            try:
                ws.wait_closed(timeout=self.T)
            except NoReply:
                self.checks.require("session", not sure, f"{what}: bad probe {u.probe!r} kept open")
            ws.close()
            return
        try:
            answer = ws.recv_skipping_pings(self.T)
        except (NoReply, Closed) as exc:
            ws.close()
            self.checks.require("reply", not sure, f"{what}: no 3probe ({exc})")
            session.state = State.UNSURE
            return
        self.checks.require("reply", answer == "3probe" or not sure,
                            f"{what}: expected 3probe, got {answer!r}")
        if not u.finish:
            ws.abort()
            return
        _put(ws, "5")
        session.ws, session.transport = ws, "websocket"
        session.last_pong = time.monotonic()
