"""The JSON envelope of the ``ws`` and ``sockjs`` types: ``{"event": "addUser", "data": ...}``.

think-websocket-ws (ThinkJS's ``ws`` adapter) sends ``JSON.stringify({event, data})`` and reads
the same shape from its clients; thinkio keeps that wire format for both plain types, so one
page script works over either. Sans-IO: text in, :class:`Envelope` out, and back.

A message that is not such an envelope is the peer's fault and raises
:class:`EnvelopeError`, carrying the WebSocket close code to answer with (RFC 6455 section
7.4.1): 1007 for text that is not JSON, 1003 for JSON of another shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._json import dumps, loads
from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ("INVALID_JSON", "UNSUPPORTED_DATA", "Envelope", "EnvelopeError", "encode_envelope")

#: Close code for text that is not JSON (RFC 6455: "data inconsistent with the type").
INVALID_JSON = 1007
#: Close code for data the endpoint does not accept: binary, or JSON that is no envelope.
UNSUPPORTED_DATA = 1003
#: The longest event name accepted: an event name is a routing key, not a payload.
MAX_EVENT_LENGTH = 256


class EnvelopeError(RemoteProtocolError):
    """A client message that is not a ``{"event": ..., "data": ...}`` envelope.

    Attributes:
        code: the WebSocket close code to answer with (1007 or 1003).
        reason: the close reason, for the client (short: a close frame holds 123 bytes).
    """

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason, close_reason="parse error")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event: its name and its one data value (None when the message had no ``data``)."""

    event: str
    data: Any = None

    @classmethod
    def decode(cls, text: str, *, max_depth: int) -> Envelope:
        """Read a client's message.

        Raises:
            EnvelopeError: not JSON (1007), or not an object with a string ``event`` (1003).
        """
        try:
            value = loads(text, max_depth=max_depth)
        except RemoteProtocolError as exc:
            raise EnvelopeError(INVALID_JSON, str(exc)[:100]) from None
        if not isinstance(value, dict):
            raise EnvelopeError(UNSUPPORTED_DATA, 'expected {"event": name, "data": value}')
        event = value.get("event")
        if not isinstance(event, str) or not event or len(event) > MAX_EVENT_LENGTH:
            raise EnvelopeError(
                UNSUPPORTED_DATA,
                f'"event" must be a non-empty string of at most {MAX_EVENT_LENGTH}',
            )
        return cls(event, value.get("data"))


def encode_envelope(event: str, args: tuple[Any, ...]) -> str:
    """The text of an event sent to clients: ``{"event": event, "data": args[0]}``.

    No argument leaves ``data`` out (``JSON.stringify`` drops an undefined ``data`` too).

    Raises:
        LocalProtocolError: more than one argument (the envelope carries one value: send a
            list or a dict), or a value JSON cannot carry.
    """
    if len(args) > 1:
        raise LocalProtocolError(
            f"emit({event!r}, ...): the ws and sockjs types carry one data value per event, "
            f"got {len(args)}; send a list or a dict"
        )
    message: dict[str, Any] = {"event": event}
    if args:
        message["data"] = args[0]
    return dumps(message)
