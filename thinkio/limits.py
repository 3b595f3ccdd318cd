"""Every size, count and depth bound thinkio enforces, in one frozen object.

Each field says in one line why it exists. The sans-IO core reads these; the I/O layer passes
the same object down, so one ``Limits(...)`` configures a whole server.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .errors import ConfigError

__all__ = ("DEFAULT_LIMITS", "Limits")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a peer may make thinkio hold in memory or parse."""

    #: Largest POST body / WebSocket message in bytes (Node's maxHttpBufferSize, advertised
    #: to clients as ``maxPayload`` so they split their payloads to fit).
    max_payload_bytes: int = 1_000_000
    #: Most Engine.IO packets in one polling payload: a 1 MB body of empty packets would
    #: otherwise become half a million events.
    max_packets_per_payload: int = 16_384
    #: Most binary attachments one Socket.IO packet may announce (socket.io-parser's default).
    max_attachments: int = 10
    #: Most decimal digits of an ack id: 16 is enough for JavaScript's largest safe integer
    #: (2**53 - 1), the largest id a JavaScript peer can produce.
    max_ack_id_digits: int = 16
    #: Longest namespace name in characters: a namespace is a routing key, not a payload.
    max_namespace_length: int = 256
    #: Deepest JSON nesting accepted in a Socket.IO payload (arrays/objects): keeps the
    #: decoder's recursion and the placeholder walk bounded.
    max_json_depth: int = 32
    #: Most acks one socket may be waiting for at once, in each direction.
    max_pending_acks: int = 1_000
    #: Most namespaces one Engine.IO session may join.
    max_namespaces_per_connection: int = 64
    #: Most packets in one long-polling response. python-engineio's client (under
    #: python-socketio) refuses payloads of more than 16 packets; the rest waits for the next GET.
    max_packets_per_poll: int = 16
    #: Most packets queued for one session before it counts as a slow consumer.
    max_outbox_packets: int = 10_000
    #: Most bytes queued for one session before it counts as a slow consumer.
    max_outbox_bytes: int = 16 * 1024 * 1024
    #: Largest HTTP request head (request line + headers) in bytes, however it arrives
    #: (Node: 16 KiB, ``maxHeaderSize``).
    max_header_bytes: int = 16 * 1024
    #: Largest request body of HTTP routes other than Engine.IO's (which take
    #: ``max_payload_bytes``): larger ones get 413 before they are read.
    max_body_bytes: int = 1_000_000
    #: Most open TCP connections; beyond it new ones are closed at once and logged, so an
    #: overload cannot exhaust descriptors or memory (Node: no limit, ``maxConnections``).
    max_connections: int = 10_000
    #: Seconds a request head may take to arrive, from the connection's start or the end of
    #: the previous request; a WebSocket handshake request included (Node: 60, ``headersTimeout``).
    header_timeout: float = 60.0
    #: Seconds a request may take from its head to its answer, unless its handler parks it
    #: (a long poll, bounded by the session's heartbeat) (Node: 300, ``requestTimeout``).
    request_timeout: float = 300.0
    #: Seconds an idle keep-alive connection is kept open (Node: 5, ``keepAliveTimeout``).
    keep_alive_timeout: float = 5.0
    #: Seconds a closing WebSocket may take to flush what is queued and finish the closing
    #: handshake before its connection is cut (Node's ``ws``: 30, ``closeTimeout``).
    websocket_close_timeout: float = 30.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float":
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ConfigError(
                        f"limits.{f.name}: expected a positive number of seconds, got {value!r}"
                    )
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"limits.{f.name}: expected a positive int, got {value!r}")


#: The limits used when none are given.
DEFAULT_LIMITS = Limits()
