"""What the step runners share: the target, the checks, the sessions, and small helpers.

:class:`~fuzz.net.executor.Executor` is one object made of :class:`StepContext` and the
runners of :mod:`fuzz.net.polling_steps` and :mod:`fuzz.net.ws_steps`, one module per
transport.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx

from protocol._client import Closed, WebSocket

from .checks import Checks
from .http import Answer
from .model import EIO_ERRORS, HandshakeAnswer
from .sessions import Session, Target

__all__ = ("AUTH_EVENTS", "StepContext", "error_body", "is_answer", "put")

#: Frames the protocol/ app sends unprompted right after a CONNECT (PROTOCOL.md 5.2).
AUTH_EVENTS = ('42["auth",', '42/custom,["auth",')


class StepContext:
    """The state every step runner reads."""

    target: Target
    checks: Checks
    sessions: dict[str, Session]
    http: httpx.Client
    #: Seconds a prompt answer may take.
    T: float

    def _answered(self, answer: Answer, what: str) -> None:
        self.checks.require("answered", answer.status is not None, f"{what}: {answer}")


def error_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_answer(status: int | None, body: Any, want: HandshakeAnswer) -> bool:
    """Whether an answer is ``want``: its status and, for a polling error, its error JSON
    (any message for code 4, which a server may word as it likes)."""
    if status != want.status:
        return False
    if want.code is None:
        return True
    if want.code == 4:
        return isinstance(body, dict) and body.get("code") == 4
    return bool(body == {"code": want.code, "message": EIO_ERRORS[want.code]})


def put(ws: WebSocket, data: str | bytes) -> None:
    """Send on a WebSocket the server may have closed already (what it did shows next)."""
    with contextlib.suppress(Closed):
        ws.send(data)
