"""Errors of the cluster adapters (all under :class:`~thinkio.errors.ThinkioError`).

What a *peer* sends wrong (bad MessagePack, a malformed cluster message) is a
:class:`~thinkio.errors.RemoteProtocolError`, as everywhere in thinkio. The errors here are
about the cluster itself: Redis cannot be reached (or refused a command), or other servers
did not answer a request in time: :class:`ClusterTimeout`, the one timeout error of every
cluster adapter (Redis, Redis Streams, the worker bus).
"""

from __future__ import annotations

from ..errors import ThinkioError

__all__ = ("AdapterError", "ClusterTimeout", "RedisUnavailable")


class AdapterError(ThinkioError):
    """Base of the errors a cluster adapter raises."""


class RedisUnavailable(AdapterError):
    """Redis cannot be reached (refused, timed out, the connection was lost), or refused a
    command (a wrong password, a missing permission)."""


class ClusterTimeout(AdapterError):
    """Not every server answered a cluster request within ``requests_timeout``.

    Attributes:
        request: what was asked (``"fetchSockets"``, ``"allRooms"``, ``"serverSideEmit"``).
        expected: how many other servers were to answer.
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
