"""The one error tree of thinkio.

Everything thinkio raises on purpose derives from :class:`ThinkioError`. Protocol errors are
split by blame, the way h11 splits them:

* :class:`LocalProtocolError` -- *our caller* broke the rules (sent on a closed session, emitted
  a reserved event name, passed a value that cannot be encoded). Fix the calling code.
* :class:`RemoteProtocolError` -- *the peer* broke the rules. It carries the reply the protocol
  suggests, so the I/O layer never has to guess: an HTTP status with an Engine.IO error code
  (:class:`RequestRejected`), or the reason the session is closed with.

Decoders raise :class:`RemoteProtocolError` (and nothing else) on any bad input; the fuzz
suite in ``fuzz/`` holds them to that.
"""

from __future__ import annotations

import json

__all__ = (
    "AckTimeout",
    "ConfigError",
    "ConnectRefused",
    "ConnectRejected",
    "ConnectionFailed",
    "Disconnected",
    "LocalProtocolError",
    "ProtocolError",
    "RemoteProtocolError",
    "RequestRejected",
    "ThinkioError",
)


class ThinkioError(Exception):
    """Root of every error thinkio raises on purpose."""


class ConfigError(ThinkioError):
    """A configuration value is missing, of the wrong type or out of range.

    The message names the key and what was expected.
    """


class ProtocolError(ThinkioError):
    """Base of the Engine.IO / Socket.IO protocol errors."""


class LocalProtocolError(ProtocolError):
    """The local caller asked for something the protocol does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow.

    Attributes:
        close_reason: the reason to close the session with (Engine.IO's "parse error",
            "invalid heartbeat direction", ...). Socket.IO sockets on the session see it as
            their disconnect reason.
        http_status: the HTTP status to answer the offending request with, when there is one.
    """

    def __init__(
        self, message: str, *, close_reason: str = "parse error", http_status: int = 400
    ) -> None:
        super().__init__(message)
        self.close_reason = close_reason
        self.http_status = http_status


class RequestRejected(RemoteProtocolError):
    """An HTTP request refused with an Engine.IO error response (PROTOCOL.md 1.8).

    The session, if any, is *not* closed by this error unless the raiser says so: an unknown
    sid or a bad handshake never touches another session.

    Attributes:
        code: the Engine.IO error code (0 transport unknown ... 5 unsupported version).
        eio_message: the message text sent in the JSON body.
    """

    #: Engine.IO error code -> (default message, HTTP status). PROTOCOL.md 1.8.
    CODES: dict[int, tuple[str, int]] = {
        0: ("Transport unknown", 400),
        1: ("Session ID unknown", 400),
        2: ("Bad handshake method", 400),
        3: ("Bad request", 400),
        4: ("Forbidden", 403),
        5: ("Unsupported protocol version", 400),
    }

    def __init__(self, code: int, message: str | None = None, *, detail: str = "") -> None:
        default, status = self.CODES[code]
        self.code = code
        self.eio_message = message if message is not None else default
        text = f"{self.eio_message} (code {code})"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(text, close_reason="bad request", http_status=status)

    def json_body(self) -> bytes:
        """The response body Node's engine.io sends: ``{"code":N,"message":"..."}``."""
        return json.dumps(
            {"code": self.code, "message": self.eio_message}, separators=(",", ":")
        ).encode()


class AckTimeout(ThinkioError):
    """An acknowledgement did not arrive in time (``emit`` with an ack, or ``call``).

    Attributes:
        responses: for a broadcast with acks, the acks that did arrive (empty otherwise).
    """

    responses: list[object]

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.responses = []


class ConnectRejected(ThinkioError):
    """Raised by a connect middleware to refuse a namespace connection.

    The client receives a Socket.IO ``CONNECT_ERROR`` with ``{"message": message}`` plus
    ``"data": data`` when ``data`` is not None (PROTOCOL.md 2.4).
    """

    def __init__(self, message: str, data: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


# -- client errors (thinkio.client) -----------------------------------------------------------


class ConnectRefused(ConnectRejected):
    """The client's namespace CONNECT was answered with CONNECT_ERROR (PROTOCOL.md 2.4).

    The client-side view of :class:`ConnectRejected`: catching that catches this too.

    Attributes:
        namespace: the namespace refused.
        message: the server's message (``"Invalid namespace"``, a middleware's error, ...).
        data: the optional ``data`` of the CONNECT_ERROR payload, or None.
    """

    def __init__(self, namespace: str, message: str, data: object = None) -> None:
        super().__init__(message, data)
        self.namespace = namespace

    def __str__(self) -> str:
        return f"namespace {self.namespace!r} refused: {self.message}"


class Disconnected(ThinkioError):
    """The client is not connected (any more): an emit or a pending call cannot complete.

    Attributes:
        reason: why (``"transport close"``, ``"ping timeout"``, ``"io server disconnect"``,
            ``"io client disconnect"``, ``"not connected"``, ...).
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"disconnected: {reason}")
        self.reason = reason


class ConnectionFailed(ThinkioError):
    """The client gave up connecting (or reconnecting) after its last allowed attempt.

    The last attempt's error is also the ``__cause__``.

    Attributes:
        url: the server URL.
        attempts: how many connection attempts were made.
        last_error: the error of the last attempt.
    """

    def __init__(self, url: str, attempts: int, last_error: BaseException | None) -> None:
        detail = f"{type(last_error).__name__}: {last_error}" if last_error else "no attempt"
        super().__init__(f"could not connect to {url} after {attempts} attempt(s); last: {detail}")
        self.url = url
        self.attempts = attempts
        self.last_error = last_error
