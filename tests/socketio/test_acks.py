"""AckRegistry: ids, answers, chosen ids, limits (PROTOCOL.md 2.5)."""

from __future__ import annotations

import pytest

from thinkio.errors import LocalProtocolError
from thinkio.socketio.acks import AckRegistry


def test_ids_count_up_from_zero_and_are_never_reused() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    assert [acks.register(t) for t in "abc"] == [0, 1, 2]
    assert acks.pop(1) == "b"
    assert acks.register("d") == 3
    assert len(acks) == 3


def test_pop_unknown_or_answered_id_returns_none() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    ack_id = acks.register("a")
    assert acks.pop(ack_id) == "a"
    assert acks.pop(ack_id) is None  # answered twice: ignored
    assert acks.pop(999) is None  # never sent: ignored
    assert len(acks) == 0


def test_an_id_chosen_by_the_caller_is_answered_like_any() -> None:
    # A broadcast with acks shares one namespace-wide id across sockets (Node does).
    acks: AckRegistry[str] = AckRegistry(10)
    acks.add(41, "broadcast")
    with pytest.raises(LocalProtocolError):
        acks.add(41, "again")  # one answer per id
    assert acks.pop(41) == "broadcast"
    acks.add(41, "reused once answered")
    assert len(acks) == 1


def test_limit_counts_pending_acks_only() -> None:
    acks: AckRegistry[int] = AckRegistry(2)
    first = acks.register(1)
    acks.add(7, 2)
    with pytest.raises(LocalProtocolError):
        acks.register(3)
    with pytest.raises(LocalProtocolError):
        acks.add(8, 3)
    acks.pop(first)
    acks.register(3)
    assert len(acks) == 2


def test_clear_returns_everything_pending_in_order() -> None:
    acks: AckRegistry[str] = AckRegistry(10)
    acks.register("a")
    acks.register("b")
    acks.register("c")
    assert acks.clear() == ["a", "b", "c"]
    assert len(acks) == 0
    assert acks.pop(0) is None


def test_a_bad_limit_is_a_caller_error() -> None:
    with pytest.raises(LocalProtocolError):
        AckRegistry[str](0)
