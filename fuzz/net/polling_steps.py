"""The polling steps: GET, POST (badly framed ones too), each answer held to PROTOCOL.md 1.4."""

from __future__ import annotations

import time

import httpx

from .checks import Finding
from .context import StepContext, error_body
from .http import exchange
from .model import EIO_ERRORS, Effect, decode_polling_body, eio_effect
from .sessions import Session, State
from .steps import Get, Post
from .wire import BAD_CHUNKED, http_request

__all__ = ("PollingSteps",)


class PollingSteps(StepContext):
    """Runs :class:`~fuzz.net.steps.Get` and :class:`~fuzz.net.steps.Post`."""

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
            raise Finding(
                "answered", f"{what}: no answer within {timeout or self.T:.1f} s"
            ) from None
        except httpx.TransportError as exc:
            raise Finding(
                "answered", f"{what}: the connection ended unanswered ({exc!r})"
            ) from None

    def _gone_or(self, session: Session, response: httpx.Response, what: str) -> bool:
        """True if the answer is the one for an ended session (400 code 1), or for polling
        on an upgraded one (400 code 3); checks the JSON then."""
        if response.status_code != 400:
            return False
        body = error_body(response.content)
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
            self.checks.require(
                "status",
                ok,
                f"{what} ({session.state.value}, "
                f"{session.transport}): expected 400, got {response.status_code}",
            )
            return
        held = session.ping_interval + session.ping_timeout + self.T
        response = self._polling("GET", session, timeout=held)
        if self._gone_or(session, response, what):
            self.checks.require(
                "session",
                session.state is not State.ALIVE,
                f"{what}: the session ended though the fuzzer kept it alive",
            )
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
            self.checks.require(
                "status",
                self._gone_or(session, response, what),
                f"{what}: expected 400, got {status}",
            )
            return
        if session.state is not State.ALIVE:  # DYING or UNSURE: either answer will do
            self.checks.require("status", status in (200, 400, 413), f"{what}: got {status}")
            if status == 400 and error_body(response.content) == {
                "code": 1,
                "message": EIO_ERRORS[1],
            }:
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
            self.checks.require(
                "status", ok, f"{what}: expected 200 ok, got {status} {response.text[:200]!r}"
            )
            return
        if parse_error:
            self.checks.require(
                "post-parse-error-400",
                status == 400,
                f"{what}: a payload that does not decode, answered {status}",
            )
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
        ended = error_body(response.content) == {"code": 1, "message": EIO_ERRORS[1]}
        ok = (response.status_code == 200 and response.text == "ok") or (
            response.status_code == 400 and ended
        )
        self.checks.require(
            "post-framing",
            ok,
            f"{what}, then POST '3' answered {response.status_code} {response.text[:100]!r}",
        )
        session.state = State.GONE if ended else State.ALIVE if ok else State.UNSURE

    # -- WebSocket -----------------------------------------------------------------------------
