"""What PROTOCOL.md says a server must do with each input: the fuzzer's oracle.

Written from the protocol notes (sections 1.2-1.8 and 2.1-2.6), never from a server's code:

* :func:`handshake_answer`: the status and Engine.IO error code of a request without a
  session, in the order of PROTOCOL.md 1.8;
* :func:`eio_effect` / :class:`SioState`: whether an Engine.IO packet, then a Socket.IO
  packet, keeps the session (``OK``), must end it (``CLOSES``), or is something the notes
  leave open (``UNSURE``: both are accepted), and what reply it calls for.

An ``UNSURE`` is written down where Node's reference server and a strict reading of the
notes may both be right (a packet type the notes give no meaning from a client, a
placeholder index of 0.5, an ack id past 2**53): the fuzzer then checks only that the
server answers and that other sessions are undisturbed.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .steps import EIO_MOUNT, Handshake

__all__ = (
    "ANY_SID",
    "EIO_ERRORS",
    "Effect",
    "Reply",
    "SioState",
    "eio_effect",
    "handshake_answer",
    "handshake_errors",
)

#: Engine.IO error code -> message (PROTOCOL.md 1.8).
EIO_ERRORS = {
    0: "Transport unknown",
    1: "Session ID unknown",
    2: "Bad handshake method",
    3: "Bad request",
    4: "Forbidden",
    5: "Unsupported protocol version",
}
#: Namespaces a protocol/ target serves on /socket.io/ (PROTOCOL.md 5.2).
NAMESPACES = ("/", "/custom")
#: Event names a client may not send (PROTOCOL.md 2.2, rule 5).
RESERVED = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
MAX_ATTACHMENTS = 10
MAX_SAFE_INTEGER = 2**53 - 1


class Effect(enum.Enum):
    """What an input does to its session."""

    OK = "ok"  #: the session carries on
    CLOSES = "closes"  #: the server must end the session
    UNSURE = "unsure"  #: the notes allow both


@dataclass(frozen=True)
class Reply:
    """A Socket.IO packet the server must send back (checked right away over WebSocket).

    The text frame starts with ``head``; what follows is JSON compared with ``data`` as
    JavaScript sees values (:func:`fuzz.strategies.normal_json`), unless ``data`` is
    :data:`ANY_SID` (a CONNECT reply: an object holding a fresh ``sid``). Then come
    ``attachments`` binary frames, compared as a multiset (a server numbers placeholders in
    the order it meets them, which need not be the client's). With ``any_ack_id``, an ack id
    may follow the head: Node's suite app passes on the client's ack callback as the last
    argument of ``message-back``, which asks the client for an ack of its own.
    """

    head: str
    data: Any = None
    attachments: tuple[bytes, ...] = ()
    any_ack_id: bool = False


#: ``Reply.data`` of a CONNECT reply.
ANY_SID = object()


# ------------------------------------------------------------------------ handshakes (1.3, 1.8)


@dataclass(frozen=True)
class HandshakeAnswer:
    """The answer a request without a session must get."""

    #: 200 / 101 when it opens a session, 204 for a preflight, else the error status.
    status: int
    #: The Engine.IO error code of the JSON body (polling errors); None: no JSON body.
    code: int | None = None
    #: The capability a stricter answer needs; without it, any answer that opens no
    #: session is accepted.
    capability: str | None = None

    @property
    def opens(self) -> bool:
        """Whether the request opens a session."""
        return self.status in (200, 101)


def handshake_answer(h: Handshake, *, restricted: bool, allowed_origin: str) -> HandshakeAnswer:
    """The answer PROTOCOL.md 1.8 gives ``h``: the first of :func:`handshake_errors`, or
    the session it opens."""
    errors = handshake_errors(h, restricted=restricted, allowed_origin=allowed_origin)
    if errors:
        return errors[0]
    if h.method == "OPTIONS" and not h.upgrade:
        return HandshakeAnswer(204)
    return HandshakeAnswer(101 if h.upgrade else 200)


def handshake_errors(
    h: Handshake, *, restricted: bool, allowed_origin: str
) -> list[HandshakeAnswer]:
    """Every rule of PROTOCOL.md 1.8 that ``h`` breaks, in the order a server checks them."""
    ws = h.upgrade
    if h.method == "OPTIONS" and not ws:
        return []  # CORS preflight (1.1): answered 204 before any check
    errors = []
    if h.transport not in ("polling", "websocket"):
        errors.append(HandshakeAnswer(400, None if ws else 0))
    foreign = restricted and h.origin is not None and h.origin != allowed_origin
    if h.unknown_sid is not None:
        errors.append(HandshakeAnswer(400, None if ws else 1))
        if foreign:  # allowRequest is for handshakes; a server may refuse the origin anyway
            errors.append(HandshakeAnswer(403 if not ws else 400, None if ws else 4))
    else:
        if h.method != "GET" and not ws:  # an upgrade request is a GET (RFC 6455 4.1)
            errors.append(HandshakeAnswer(400, 2))
        if h.transport == "websocket" and not ws:
            errors.append(HandshakeAnswer(400, 3))
        if h.transport == "polling" and ws:
            # Node answers 101 and then closes: the notes ask for a refusal before the upgrade.
            errors.append(HandshakeAnswer(400, None, "ws-refuses-before-upgrade"))
        if foreign:
            errors.append(HandshakeAnswer(403 if not ws else 400, None if ws else 4))
        if h.eio != "4":
            capability = "ws-refuses-before-upgrade" if ws else None
            errors.append(HandshakeAnswer(400, None if ws else 5, capability))
    return errors


# -------------------------------------------------------------------- Engine.IO packets (1.2)


def decode_polling_body(body: bytes) -> list[str | bytes] | None:
    """A v4 polling payload's packets (binary ones as bytes), or None if it does not decode:
    not UTF-8, an empty packet, or a ``b`` packet that is not base64."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    packets: list[str | bytes] = []
    for part in text.split("\x1e"):
        if not part:
            return None
        if part.startswith("b"):
            try:
                packets.append(base64.b64decode(part[1:], validate=True))
            except (binascii.Error, ValueError):
                return None
        else:
            packets.append(part)
    return packets


def eio_effect(packet: str) -> Effect:
    """What one Engine.IO text packet from a client does, before its message (if any) is
    handed to the application (1.2, 1.5, 1.7)."""
    if not packet or packet[0] not in "0123456":
        return Effect.CLOSES  # parse error
    kind = packet[0]
    if kind in "12":
        return Effect.CLOSES  # close; or a ping from a v4 client ("invalid heartbeat direction")
    if kind == "3":
        return Effect.OK
    if kind == "4":
        return Effect.OK  # a message: the application decides
    return Effect.UNSURE  # open, upgrade, noop from a client: the notes give them no meaning


# -------------------------------------------------------------------- Socket.IO packets (2.2)


def _strict_json(text: str) -> tuple[bool, Any]:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        return True, json.loads(text, parse_constant=refuse)
    except (ValueError, RecursionError):
        return False, None


_HEAD = re.compile(r"(?P<type>.)(?:(?P<count>[^-]*)-)?", re.DOTALL)


@dataclass
class _Decoded:
    type: int
    namespace: str
    ack: int | None
    data: Any
    has_data: bool
    attachments: int


def _decode(text: str) -> tuple[Effect, _Decoded | None]:
    """Decode one Socket.IO text packet by PROTOCOL.md 2.2's rules 1-5."""
    if not text or text[0] not in "0123456":
        return Effect.CLOSES, None
    kind = int(text[0])
    i = 1
    attachments = 0
    if kind in (5, 6):
        dash = text.find("-", 1)
        if dash < 0:
            return Effect.CLOSES, None
        count = text[1:dash]
        if not count.isascii() or not count.isdigit():
            return Effect.CLOSES, None
        if count != str(int(count)):
            return Effect.UNSURE, None  # leading zeros: Number("05") == "05" in JS
        attachments = int(count)
        if not 1 <= attachments <= MAX_ATTACHMENTS:
            return Effect.CLOSES, None
        i = dash + 1
    namespace = "/"
    if text[i : i + 1] == "/":
        comma = text.find(",", i)
        namespace = text[i:] if comma < 0 else text[i:comma]
        i = len(text) if comma < 0 else comma + 1
    ack: int | None = None
    digits = re.match(r"[0-9]+", text[i:])
    if digits:
        if len(digits.group()) > 15:
            return Effect.UNSURE, None  # past 2**53 a JS peer cannot hold the id exactly
        ack = int(digits.group())
        i += len(digits.group())
    rest = text[i:]
    if not rest:
        return Effect.OK, _Decoded(kind, namespace, ack, None, False, attachments)
    ok, data = _strict_json(rest)
    if not ok:
        return Effect.CLOSES, None
    return Effect.OK, _Decoded(kind, namespace, ack, data, True, attachments)


def _fits(d: _Decoded) -> Effect:
    """Rule 5: the payload must fit the type."""
    if not d.has_data:
        if d.type in (0, 1):
            return Effect.OK
        return Effect.UNSURE  # an EVENT/ACK without payload: Node's decoder lets it through
    data = d.data
    if d.type == 0:
        return Effect.OK if isinstance(data, dict) else Effect.CLOSES
    if d.type == 1:
        return Effect.CLOSES
    if d.type in (2, 5):
        if not isinstance(data, list) or not data:
            return Effect.CLOSES
        name = data[0]
        if isinstance(name, bool) or not isinstance(name, int | float | str):
            return Effect.CLOSES
        return Effect.CLOSES if isinstance(name, str) and name in RESERVED else Effect.OK
    if d.type in (3, 6):
        return Effect.OK if isinstance(data, list) else Effect.CLOSES
    return Effect.OK if isinstance(data, dict | str) else Effect.CLOSES  # CONNECT_ERROR


def _placeholders(value: Any, count: int, seen: list[float] | None = None) -> Effect:
    """Rule 6: every placeholder names an attachment 0..count-1."""
    top = seen is None
    seen = [] if seen is None else seen
    if isinstance(value, list):
        effects = [_placeholders(v, count, seen) for v in value]
    elif isinstance(value, dict):
        if value.get("_placeholder") is True:
            num = value.get("num")
            if isinstance(num, bool) or not isinstance(num, int | float):
                return Effect.CLOSES
            if not 0 <= num < count:
                return Effect.CLOSES
            seen.append(num)
            if num != int(num) or set(value) != {"_placeholder", "num"}:
                return Effect.UNSURE  # 0.5, or extra keys: the notes do not say
            return Effect.OK
        effects = [_placeholders(v, count, seen) for v in value.values()]
    else:
        return Effect.OK
    if top and sorted(seen) != list(range(count)):
        # An attachment named twice or never: the notes do not say (Node does not check).
        effects.append(Effect.UNSURE)
    return _worst(effects)


def _worst(effects: list[Effect]) -> Effect:
    if Effect.CLOSES in effects:
        return Effect.CLOSES
    return Effect.UNSURE if Effect.UNSURE in effects else Effect.OK


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_placeholder(v) for v in value)
    if isinstance(value, dict):
        return "_placeholder" in value or any(_has_placeholder(v) for v in value.values())
    return False


@dataclass
class SioState:
    """One Engine.IO session's Socket.IO state on a protocol/ target's ``/socket.io/`` mount
    (PROTOCOL.md 2.3, 5.2): joined namespaces and a binary packet waiting for attachments."""

    joined: set[str] = field(default_factory=set)
    pending: _Decoded | None = None
    received: list[bytes] = field(default_factory=list)
    #: Once UNSURE, the state is no longer known: later inputs are UNSURE too.
    lost: bool = False
    #: Whether a namespace was ever joined (the connect timeout no longer applies).
    ever_joined: bool = False

    def text(self, text: str) -> tuple[Effect, Reply | None]:
        """A Socket.IO text packet from the client."""
        if self.lost:
            return Effect.UNSURE, None
        if self.pending is not None:
            return self._lose(Effect.CLOSES), None  # text before every attachment is in
        effect, decoded = _decode(text)
        if decoded is None or effect is not Effect.OK:
            return self._lose(effect), None
        fit = _fits(decoded)
        if fit is not Effect.OK:
            return self._lose(fit), None
        if decoded.type in (5, 6):
            self.pending = decoded
            self.received = []
            return Effect.OK, None
        if decoded.has_data and _has_placeholder(decoded.data):
            return self._lose(Effect.UNSURE), None  # a placeholder in a non-binary packet
        return self._deliver(decoded, [])

    def binary(self, data: bytes) -> tuple[Effect, Reply | None]:
        """A binary message from the client: an attachment, or an error."""
        if self.lost:
            return Effect.UNSURE, None
        if self.pending is None:
            return self._lose(Effect.CLOSES), None
        self.received.append(data)
        if len(self.received) < self.pending.attachments:
            return Effect.OK, None
        decoded, attachments = self.pending, self.received
        self.pending, self.received = None, []
        effect = _placeholders(decoded.data, decoded.attachments)
        if effect is not Effect.OK:
            return self._lose(effect), None
        return self._deliver(decoded, attachments)

    def _lose(self, effect: Effect) -> Effect:
        self.lost = True
        return effect

    def _deliver(self, d: _Decoded, attachments: list[bytes]) -> tuple[Effect, Reply | None]:
        joined = d.namespace in self.joined
        if d.type == 0:
            if joined:
                return self._lose(Effect.CLOSES), None
            if d.namespace not in NAMESPACES:
                return Effect.OK, Reply(f"44{d.namespace},", {"message": "Invalid namespace"})
            self.joined.add(d.namespace)
            self.ever_joined = True
            return Effect.OK, Reply("40" if d.namespace == "/" else f"40{d.namespace},", ANY_SID)
        if d.type == 4 or not joined:
            return self._lose(Effect.CLOSES), None  # CONNECT_ERROR from a client; not joined
        if d.type == 1:
            self.joined.discard(d.namespace)
            return Effect.OK, None
        if d.type in (3, 6) or d.namespace != "/":
            return Effect.OK, None  # an ack nobody waits for; /custom has no handlers
        return Effect.OK, _echo_reply(d, attachments)


def _echo_reply(d: _Decoded, attachments: list[bytes]) -> Reply | None:
    """The protocol/ app's answer on ``/`` (PROTOCOL.md 5.2): ``message`` -> ``message-back``,
    ``message-with-ack`` acked with its arguments; anything else gets nothing."""
    name, args = d.data[0], d.data[1:]
    count = len(attachments)
    if name == "message":
        head = f"45{count}-" if count else "42"
        return Reply(head, ["message-back", *args], tuple(attachments), d.ack is not None)
    if name == "message-with-ack" and d.ack is not None:
        head = f"46{count}-{d.ack}" if count else f"43{d.ack}"
        return Reply(head, list(args), tuple(attachments))
    return None


def echo_mount(mount: str) -> bool:
    """Whether ``mount`` is the bare Engine.IO echo mount."""
    return mount == EIO_MOUNT
