"""AckRegistry: ids, answers, expiry, limits (PROTOCOL.md 2.5)."""

from __future__ import annotations

import pytest

from thinkio.errors import LocalProtocolError
from thinkio.socketio.acks import AckRegistry


def test_ids_count_up_from_zero_and_are_never_reused() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    assert [acks.register(t, now=0.0, timeout=None) for t in "abc"] == [0, 1, 2]
    assert acks.pop(1) == "b"
    assert acks.register("d", now=0.0, timeout=None) == 3
    assert len(acks) == 3


def test_pop_unknown_or_answered_id_returns_none() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    ack_id = acks.register("a", now=0.0, timeout=None)
    assert acks.pop(ack_id) == "a"
    assert acks.pop(ack_id) is None  # answered twice: ignored
    assert acks.pop(999) is None  # never sent: ignored
    assert len(acks) == 0


def test_expire_returns_timed_out_tokens_in_deadline_order() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    acks.register("slow", now=0.0, timeout=5.0)
    acks.register("fast", now=0.0, timeout=1.0)
    acks.register("forever", now=0.0, timeout=None)
    mid = acks.register("answered", now=0.0, timeout=2.0)
    assert acks.next_deadline() == 1.0
    assert acks.expire(0.999) == []
    assert acks.expire(1.0) == ["fast"]
    acks.pop(mid)
    assert acks.next_deadline() == 5.0  # the answered ack's deadline is gone
    assert acks.expire(100.0) == ["slow"]
    assert acks.next_deadline() is None
    assert len(acks) == 1
    assert acks.pop(2) == "forever"


def test_limit_counts_pending_acks_only() -> None:
    acks: AckRegistry[int] = AckRegistry(2)
    first = acks.register(1, now=0.0, timeout=1.0)
    acks.register(2, now=0.0, timeout=None)
    with pytest.raises(LocalProtocolError):
        acks.register(3, now=0.0, timeout=None)
    acks.pop(first)
    acks.register(3, now=0.0, timeout=None)
    with pytest.raises(LocalProtocolError):
        acks.register(4, now=0.0, timeout=None)
    acks.expire(10.0)  # nothing with a deadline left
    assert len(acks) == 2


def test_clear_returns_everything_pending_in_id_order() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    acks.register("a", now=0.0, timeout=3.0)
    acks.register("b", now=0.0, timeout=None)
    acks.register("c", now=0.0, timeout=1.0)
    assert acks.clear() == ["a", "b", "c"]
    assert len(acks) == 0
    assert acks.next_deadline() is None
    assert acks.expire(10.0) == []


def test_negative_timeout_and_bad_limit_are_caller_errors() -> None:
    with pytest.raises(LocalProtocolError):
        AckRegistry[str](0)
    acks: AckRegistry[str] = AckRegistry(1)
    with pytest.raises(LocalProtocolError):
        acks.register("a", now=0.0, timeout=-1.0)
    with pytest.raises(LocalProtocolError):
        acks.register("a", now=0.0, timeout=float("nan"))
    assert len(acks) == 0


def test_many_answered_acks_keep_deadlines_right() -> None:
    # Stale heap entries from answered acks must not leak into expire/next_deadline.
    acks: AckRegistry[int] = AckRegistry(10)
    for i in range(1000):
        acks.pop(acks.register(i, now=float(i), timeout=1.0))
    keep = acks.register(-1, now=0.0, timeout=50.0)
    assert acks.next_deadline() == 50.0
    assert acks.expire(49.0) == []
    assert acks.expire(50.0) == [-1]
    assert acks.pop(keep) is None
