"""Pending acknowledgements: ack ids, their tokens and their deadlines (PROTOCOL.md 2.5).

A server emit that wants an answer takes the next id of a per-namespace counter starting at
0; the client's ``3[nsp,]<id>[...]`` answers it. An ACK whose id is unknown (already answered,
timed out, or never sent) is ignored, as Node does.

The registry is sans-IO: deadlines are absolute times on the caller's clock, ``expire(now)``
hands back what timed out, and ``next_deadline()`` says when to call it next. Deadlines sit in
a heap with lazy deletion, so register, pop and expire cost O(log n) each.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Generic, TypeVar

from ..errors import LocalProtocolError

__all__ = ("AckRegistry",)

T = TypeVar("T")


class AckRegistry(Generic[T]):
    """Ack ids handed out by one socket, mapped to the caller's tokens.

    A token is whatever the caller needs to resume when the answer comes (a future, a
    callback, an event). The registry never calls it.

    Args:
        limit: the most acks that may be pending at once (``Limits.max_pending_acks``).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise LocalProtocolError(f"ack limit must be positive, got {limit!r}")
        self._limit = limit
        self._ids = itertools.count()
        # ack id -> (token, deadline or None)
        self._pending: dict[int, tuple[T, float | None]] = {}
        # (deadline, ack id); entries whose id is gone or re-timed are skipped when popped.
        self._heap: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self._pending)

    def register(self, token: T, *, now: float, timeout: float | None) -> int:
        """Take the next ack id for ``token``.

        Args:
            token: what :meth:`pop` / :meth:`expire` / :meth:`clear` hand back.
            now: the current time, in seconds.
            timeout: seconds to wait for the answer, or None to wait until :meth:`clear`.

        Returns:
            The ack id to put in the EVENT packet.

        Raises:
            LocalProtocolError: ``limit`` acks are already pending, or ``timeout`` is negative.
        """
        if len(self._pending) >= self._limit:
            raise LocalProtocolError(f"too many pending acks (limit {self._limit})")
        if timeout is not None and not timeout >= 0:
            raise LocalProtocolError(f"ack timeout must be >= 0, got {timeout!r}")
        ack_id = next(self._ids)
        deadline = None if timeout is None else now + timeout
        self._pending[ack_id] = (token, deadline)
        if deadline is not None:
            heapq.heappush(self._heap, (deadline, ack_id))
            self._compact()
        return ack_id

    def pop(self, ack_id: int) -> T | None:
        """Take the token of an answered ack.

        Returns:
            The token, or None for an unknown id (PROTOCOL.md 2.5: ignored).
        """
        entry = self._pending.pop(ack_id, None)
        return None if entry is None else entry[0]

    def expire(self, now: float) -> list[T]:
        """Remove and return the tokens whose deadline is at or before ``now``, oldest first."""
        expired: list[T] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, ack_id = heapq.heappop(heap)
            entry = self._pending.pop(ack_id, None)
            if entry is not None:
                expired.append(entry[0])
        return expired

    def next_deadline(self) -> float | None:
        """The earliest deadline still pending, or None."""
        heap = self._heap
        while heap and heap[0][1] not in self._pending:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def clear(self) -> list[T]:
        """Remove and return every pending token, in id order (for a disconnect)."""
        tokens = [token for token, _ in self._pending.values()]
        self._pending.clear()
        self._heap.clear()
        return tokens

    def _compact(self) -> None:
        # Answered acks leave stale heap entries; rebuild before they outnumber live ones.
        if len(self._heap) > 2 * len(self._pending) + 64:
            self._heap = [(d, i) for i, (_, d) in self._pending.items() if d is not None]
            heapq.heapify(self._heap)
