"""The WebSocket steps: messages, broken frames, closes, upgrades (PROTOCOL.md 1.6, 2; RFC 6455)."""

from __future__ import annotations

import json
import time
from typing import Any

from fuzz.strategies import normal_json
from protocol._client import Closed, NoReply, UpgradeRefused, open_websocket

from .checks import Finding
from .context import AUTH_EVENTS, StepContext, put
from .model import ANY_SID, Effect, Reply, eio_effect
from .sessions import Session, State
from .steps import BadFrame, CloseWs, Send, Upgrade

__all__ = ("WebSocketSteps",)


def _without_placeholders(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_placeholders(v) for v in value]
    if isinstance(value, dict):
        if value.get("_placeholder") is True:
            return "<attachment>"
        return {k: _without_placeholders(v) for k, v in value.items()}
    return value


class WebSocketSteps(StepContext):
    """Runs :class:`~fuzz.net.steps.Send`, :class:`~fuzz.net.steps.BadFrame`,
    :class:`~fuzz.net.steps.CloseWs` and :class:`~fuzz.net.steps.Upgrade`."""

    def _send(self, s: Send) -> None:
        session = self.sessions[s.session]
        ws = session.ws
        if ws is None or ws.closed or session.transport != "websocket":
            return
        sure = session.surely_alive(self.target.connect_timeout)
        what = f"{s.data[:80]!r} on {session.name}"
        effect, reply, check = self._ws_effect(session, s.data)
        put(ws, s.data)
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
        self.checks.require(
            check,
            closed and (code is None or ws.close_code == code),
            f"{what}: expected the connection closed at once"
            f"{f' with {code}' if code else ''}; {got}",
        )
        if not closed and not ws.closed:
            try:
                ws.wait_closed(timeout=session.ping_interval + session.ping_timeout + self.T)
            except NoReply:
                ws.abort()
        closed = ws.closed and ws.close_code is not None
        self.checks.require(
            "session", closed, f"{what}: the session must end; still open after its ping timeout"
        )

    def _expect_reply(self, session: Session, reply: Reply, what: str) -> None:
        ws = session.ws
        assert ws is not None
        try:
            frame = ws.recv_skipping_pings(self.T)
            while isinstance(frame, str) and frame.startswith(AUTH_EVENTS):
                frame = ws.recv_skipping_pings(self.T)
            session.last_pong = time.monotonic()  # recv_skipping_pings answered any ping
            if not reply.head and reply.attachments:  # the echo mount's binary echo
                self.checks.require(
                    "reply",
                    frame == reply.attachments[0],
                    f"{what}: expected the binary echo, got {frame!r}",
                )
                return
            if reply.data is None:
                self.checks.require(
                    "reply",
                    frame == reply.head,
                    f"{what}: expected the echo {reply.head!r}, got {frame!r}",
                )
                return
            self._compare(frame, reply, what)
            attachments = [ws.recv_skipping_pings(self.T) for _ in reply.attachments]
            got = sorted(a for a in attachments if isinstance(a, bytes))
            self.checks.require(
                "reply",
                len(got) == len(attachments) and got == sorted(reply.attachments),
                f"{what}: expected the attachments {reply.attachments!r}, got {attachments!r}",
            )
        except (NoReply, Closed) as exc:
            session.state = State.GONE if isinstance(exc, Closed) else State.UNSURE
            raise Finding(
                "reply", f"{what}: expected a reply starting {reply.head!r} ({exc})"
            ) from None

    def _compare(self, frame: str | bytes, reply: Reply, what: str) -> None:
        ok = isinstance(frame, str) and frame.startswith(reply.head)
        if ok:
            assert isinstance(frame, str)
            rest = frame[len(reply.head) :]
            if reply.any_ack_id:
                rest = rest.lstrip("0123456789")
            try:
                value = json.loads(rest)
            except ValueError:
                ok = False
            else:
                if reply.data is ANY_SID:
                    ok = isinstance(value, dict) and set(value) == {"sid"}
                else:
                    ok = normal_json(_without_placeholders(value)) == normal_json(
                        _without_placeholders(reply.data)
                    )
        self.checks.require(
            "reply", ok, f"{what}: expected {reply.head}{reply.data!r}, got {frame!r}"
        )

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
                put(ws, u.probe)
                received = ws.wait_closed(timeout=self.T)
            except NoReply:
                ws.close()
                raise Finding("session", f"{what}: a second/dead WebSocket kept open") from None
            self.checks.require(
                "session", "3probe" not in received, f"{what}: answered the probe: {received!r}"
            )
            return
        sure = session.surely_alive(self.target.connect_timeout)
        put(ws, u.probe)
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
        self.checks.require(
            "reply", answer == "3probe" or not sure, f"{what}: expected 3probe, got {answer!r}"
        )
        if not u.finish:
            ws.abort()
            return
        put(ws, "5")
        session.ws, session.transport = ws, "websocket"
        session.last_pong = time.monotonic()
