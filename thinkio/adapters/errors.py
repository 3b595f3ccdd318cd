"""Errors of the cluster adapters (all under :class:`~thinkio.errors.ThinkioError`).

What a *peer* sends wrong (a bad RESP reply, bad MessagePack, a malformed cluster message)
is a :class:`~thinkio.errors.RemoteProtocolError`, as everywhere in thinkio. The errors here
are about the cluster itself: Redis cannot be reached, Redis refused a command, or peers did
not answer a request in time.
"""

from __future__ import annotations

from ..errors import ThinkioError

__all__ = ("AdapterError", "ClusterTimeout", "RedisReplyError", "RedisUnavailable")


class AdapterError(ThinkioError):
    """Base of the errors a cluster adapter raises."""


class RedisUnavailable(AdapterError):
    """Redis cannot be reached (refused, timed out, or the connection was lost)."""


class RedisReplyError(AdapterError):
    """Redis answered a command with an error reply (``-ERR ...``, ``-NOAUTH ...``).

    Attributes:
        message: the error text, without the leading ``-``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ClusterTimeout(AdapterError):
    """Not every server answered a cluster request within ``requests_timeout``.

    Attributes:
        request: what was asked (``"fetchSockets"``, ``"allRooms"``, ``"serverSideEmit"``).
        expected: how many answers were awaited (this server's own included where Node
            counts it).
        received: how many arrived.
    """

    def __init__(self, request: str, expected: int, received: int) -> None:
        super().__init__(
            f"timeout reached while waiting for {request} response "
            f"({received} of {expected} servers answered)"
        )
        self.request = request
        self.expected = expected
        self.received = received
