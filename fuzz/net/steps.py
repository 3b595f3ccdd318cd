"""The fuzzer's steps: one action on the wire each, as plain data.

A failing program is a list of these; :func:`dump` and :func:`load` write and read it as
JSON (bytes as ``{"b64": ...}``), so ``python -m fuzz --replay FILE`` can run it again,
against the same server or another one. A handshake step names the session it opens
(``s0``, ``s1``...); a step on a session that did not open does nothing, so a script means
the same on every run.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from .wire import Framing

__all__ = (
    "STEP_TYPES",
    "BadFrame",
    "CloseWs",
    "Get",
    "Handshake",
    "Post",
    "RawRequest",
    "Send",
    "Step",
    "Upgrade",
    "dump",
    "load",
    "render",
)

#: The Socket.IO mount and the bare Engine.IO (echo) mount of a protocol/ target.
SIO_MOUNT = "/socket.io/"
EIO_MOUNT = "/engine.io/"


@dataclass(frozen=True)
class Handshake:
    """A request without ``sid``: opens a session when it is a valid handshake.

    ``None`` leaves a query parameter out; ``upgrade`` adds the WebSocket upgrade headers.
    """

    mount: str = SIO_MOUNT
    transport: str | None = "polling"
    eio: str | None = "4"
    method: str = "GET"
    upgrade: bool = False
    origin: str | None = None
    #: A ``sid`` that names no session (``None``: no sid parameter).
    unknown_sid: str | None = None
    #: The name the session gets if it opens (``s0``...); None: not kept.
    name: str | None = None


@dataclass(frozen=True)
class RawRequest:
    """Bytes (a broken request, or not HTTP at all) on a new connection."""

    data: bytes
    #: The method the answer is read for (``HEAD``: no body).
    method: str = "GET"
    #: What kind of input this is, for the expectations (``garbage``, ``head``, ``big-head``...).
    kind: str = "garbage"


@dataclass(frozen=True)
class Get:
    """A polling GET on session ``session``; a ping in its answer is answered by a POST ``3``."""

    session: str


@dataclass(frozen=True)
class Post:
    """A polling POST of ``body`` on session ``session``."""

    session: str
    body: bytes
    framing: Framing = "length"
    content_type: str = "text/plain;charset=UTF-8"


@dataclass(frozen=True)
class Send:
    """A WebSocket message (text or binary) on session ``session``."""

    session: str
    data: str | bytes


@dataclass(frozen=True)
class BadFrame:
    """Raw bytes breaking RFC 6455 on session ``session``'s WebSocket.

    ``expect`` is the close code RFC 6455 7.4.1 gives that violation (1002 protocol error,
    1007 invalid payload data, 1009 message too big).
    """

    session: str
    data: bytes
    violation: str
    expect: int


@dataclass(frozen=True)
class Upgrade:
    """Upgrade polling session ``session`` to WebSocket (PROTOCOL.md 1.6).

    ``probe`` is what is sent as the probe (``2probe`` is the valid one); ``finish`` sends
    the ``5`` that completes the switch.
    """

    session: str
    probe: str = "2probe"
    finish: bool = True


@dataclass(frozen=True)
class CloseWs:
    """End session ``session``'s WebSocket: a close frame (``polite``) or a dropped connection."""

    session: str
    polite: bool = True


Step = Handshake | RawRequest | Get | Post | Send | BadFrame | Upgrade | CloseWs
STEP_TYPES: dict[str, type[Any]] = {
    t.__name__: t for t in (Handshake, RawRequest, Get, Post, Send, BadFrame, Upgrade, CloseWs)
}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    return value


def dump(steps: list[Step], **meta: Any) -> str:
    """The steps (and ``meta``, e.g. the target's kind) as JSON."""
    rows = [
        {"step": type(s).__name__, **{k: _plain(v) for k, v in dataclasses.asdict(s).items()}}
        for s in steps
    ]
    return json.dumps({**meta, "steps": rows}, indent=1, ensure_ascii=True)


def load(text: str) -> tuple[list[Step], dict[str, Any]]:
    """Steps and meta back from :func:`dump`'s JSON.

    Raises:
        ValueError: not a fuzzer script.
    """
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("steps"), list):
        raise ValueError("not a fuzzer script: expected an object with a 'steps' list")
    steps: list[Step] = []
    for row in document.pop("steps"):
        kind = STEP_TYPES.get(row.pop("step", None))
        if kind is None:
            raise ValueError(f"unknown step {row!r}")
        steps.append(kind(**{k: _unplain(v) for k, v in row.items()}))
    return steps, document


def _short(value: object, limit: int = 120) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    size = len(value) if isinstance(value, str | bytes) else len(text)
    return f"{text[:limit]}...({size} long)"


def render(step: Step) -> str:
    """One step as one readable line: ``Post(s0, b'4abc', framing='length')``."""
    fields = dataclasses.fields(step)
    defaults = [
        (f.name, getattr(step, f.name))
        for f in fields
        if f.default is dataclasses.MISSING or getattr(step, f.name) != f.default
    ]
    parts = [str(v) if k in ("session", "name") else f"{k}={_short(v)}" for k, v in defaults]
    return f"{type(step).__name__}({', '.join(parts)})"
