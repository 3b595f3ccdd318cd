"""Pending acknowledgements: ack ids and the tokens waiting for them (PROTOCOL.md 2.5).

A server emit that wants an answer takes the next id of a counter starting at 0; the client's
``3[nsp,]<id>[...]`` answers it. An ACK whose id is unknown (already answered, timed out, or
never sent) is ignored, as Node does. Timeouts are the caller's (its clock, its timers): the
registry only maps ids to tokens, and bounds how many may wait.
"""

from __future__ import annotations

import itertools
from typing import Generic, TypeVar

from ..errors import LocalProtocolError

__all__ = ("AckRegistry",)

T = TypeVar("T")


class AckRegistry(Generic[T]):
    """Ack ids waiting for an answer, mapped to the caller's tokens.

    A token is whatever the caller needs to resume when the answer comes (a callback, an
    event). The registry never calls it.

    Args:
        limit: the most acks that may be pending at once (``Limits.max_pending_acks``).
    """

    __slots__ = ("_ids", "_limit", "_pending")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise LocalProtocolError(f"ack limit must be positive, got {limit!r}")
        self._limit = limit
        self._ids = itertools.count()
        self._pending: dict[int, T] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def register(self, token: T) -> int:
        """Take the next ack id for ``token``.

        Raises:
            LocalProtocolError: ``limit`` acks are already pending.
        """
        if len(self._pending) >= self._limit:
            raise LocalProtocolError(f"too many pending acks (limit {self._limit})")
        ack_id = next(self._ids)  # taken only once it is sure to be used: no gaps
        self._pending[ack_id] = token
        return ack_id

    def add(self, ack_id: int, token: T) -> None:
        """Wait for ``ack_id``, an id the caller chose (a broadcast with acks shares one id
        across every socket it reaches, as Node does).

        Raises:
            LocalProtocolError: ``limit`` acks are already pending, or the id is.
        """
        if len(self._pending) >= self._limit:
            raise LocalProtocolError(f"too many pending acks (limit {self._limit})")
        if ack_id in self._pending:
            raise LocalProtocolError(f"ack id {ack_id} is already pending")
        self._pending[ack_id] = token

    def pop(self, ack_id: int) -> T | None:
        """Take the token of an answered (or abandoned) ack; None for an unknown id."""
        return self._pending.pop(ack_id, None)

    def clear(self) -> list[T]:
        """Remove and return every pending token, in id order (for a disconnect)."""
        tokens = list(self._pending.values())
        self._pending.clear()
        return tokens
