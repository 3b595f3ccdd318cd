"""The plain types of ThinkJS's ``websocket`` adapter: ``ws`` and ``sockjs``.

What the ThinkJS guide promised ("后续会增加 sockjs, ws 库的支持"): the same ``messages``
map and controllers over a plain WebSocket (think-websocket-ws: JSON envelopes
``{"event": ..., "data": ...}``) or over SockJS (the same envelopes as SockJS messages), on
thinkio's own HTTP server, next to (instead of) Socket.IO.

* :mod:`.envelope`: the envelope, sans-IO;
* :mod:`.hub`: the clients of an endpoint (:class:`PlainHub`, :class:`PlainSocket`) and the
  order their events run in;
* :mod:`.websocket`: the ``ws`` endpoint, and the WebSocket connection both types use;
* :mod:`.sockjs`: the SockJS protocol's server side.
"""

from .envelope import Envelope, EnvelopeError, encode_envelope
from .hub import PlainHandler, PlainHub, PlainSocket, PlainTransport
from .sockjs import SockJSEndpoint, SockJSSession
from .websocket import PlainWebSocket, WebSocketEndpoint, WebSocketListener

__all__ = (
    "Envelope",
    "EnvelopeError",
    "PlainHandler",
    "PlainHub",
    "PlainSocket",
    "PlainTransport",
    "PlainWebSocket",
    "SockJSEndpoint",
    "SockJSSession",
    "WebSocketEndpoint",
    "WebSocketListener",
    "encode_envelope",
)
