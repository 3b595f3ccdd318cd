"""SockJS frames, sans-IO (the SockJS protocol 0.3.3, as sockjs-node and sockjs-client speak it).

Server to client, one frame per WebSocket message (or per line over XHR):

* ``o``: the session is open;
* ``h``: a heartbeat;
* ``a["m1","m2"]``: messages, a JSON array of strings;
* ``c[3000,"Go away!"]``: the session is closed, with a code and a reason.

Client to server: a JSON array of strings (``xhr_send``), or over WebSocket also one JSON
string. Strings are escaped as sockjs-node escapes them (``utils.quote``): JSON, plus
``\\uXXXX`` for the characters some browsers and proxies mangle (controls, surrogates, the
zero-width and line/paragraph separators, specials), so every frame is ASCII-safe where it
must be.
"""

from __future__ import annotations

import re
from typing import Any

from .._json import dumps, loads
from ..errors import RemoteProtocolError

__all__ = (
    "HEARTBEAT",
    "OPEN",
    "close_frame",
    "decode_messages",
    "message_frame",
    "quote",
)

OPEN = "o"
HEARTBEAT = "h"

# sockjs-node's ``escapable``: what quote() writes as \uXXXX after JSON encoding.
_ESCAPABLE = re.compile(
    "[\x00-\x1f\ud800-\udfff\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def quote(text: str) -> str:
    """A string as a JSON string literal, with sockjs-node's extra escapes."""
    quoted = dumps(text)
    if _ESCAPABLE.search(quoted) is None:
        return quoted
    return _ESCAPABLE.sub(_escape, quoted)


def message_frame(messages: list[str]) -> str:
    """``a[...]``: messages for the client."""
    return "a[" + ",".join(quote(m) for m in messages) + "]"


def close_frame(code: int, reason: str) -> str:
    """``c[code,"reason"]``."""
    return f"c[{code},{quote(reason)}]"


def decode_messages(text: str, *, max_depth: int, single: bool) -> list[str]:
    """The messages of a client frame: a JSON array of strings (or, when ``single``, as over
    WebSocket, one JSON string).

    Raises:
        RemoteProtocolError: not JSON ("Broken JSON encoding."), or not strings ("Payload
            expected.").
    """
    try:
        value: Any = loads(text, max_depth=max_depth)
    except RemoteProtocolError:
        raise RemoteProtocolError("Broken JSON encoding.", http_status=500) from None
    if single and isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise RemoteProtocolError("Payload expected.", http_status=500)
    return value
