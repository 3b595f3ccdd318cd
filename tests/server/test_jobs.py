"""A socket's job (thinkio/server/jobs.py): handlers in order, a stop at the first one that
must be awaited, and Node's ack rules at the end."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from thinkio.server.acks import NO_ACK, Ack
from thinkio.server.jobs import Job


@dataclass
class _Namespace:
    name: str = "/chat"


@dataclass
class Owner:
    """A socket as a job and its ack see it: it records the acks it sends."""

    id: str = "s1"
    connected: bool = True
    namespace: _Namespace = field(default_factory=_Namespace)
    acks: list[tuple[int, list[Any]]] = field(default_factory=list)

    def send_ack(self, ack_id: int, args: list[Any]) -> None:
        self.acks.append((ack_id, args))


def test_handlers_run_in_order_and_the_last_counted_value_is_the_ack() -> None:
    owner = Owner()
    calls: list[str] = []

    def first(value: int) -> int:
        calls.append("first")
        return value + 1

    def last(value: int) -> tuple[int, str]:
        calls.append("last")
        return value * 10, "ok"

    job = Job(owner, "e", [(first, (1,), True), (last, (2,), True)], Ack(owner, 7))
    assert job.step() is None
    assert calls == ["first", "last"]
    assert owner.acks == [(7, [20, "ok"])]


def test_an_awaitable_stops_the_job_until_it_is_resumed() -> None:
    owner = Owner()
    later: list[str] = []

    async def slow() -> str:
        return "late"

    def after() -> None:
        later.append("after")

    job = Job(owner, "e", [(slow, (), True), (after, (), False)], Ack(owner, 3))
    pending = job.step()
    assert pending is not None and not later and not owner.acks
    pending.close()  # type: ignore[attr-defined]  # (a coroutine: not awaited here)
    job.resumed("late")
    assert job.step() is None
    # The awaited value counts; the step after it does not (it was not an event handler).
    assert later == ["after"] and owner.acks == [(3, ["late"])]


def test_a_handler_that_takes_the_ack_owns_it() -> None:
    owner = Owner()

    def handler(value: int, ack: Ack) -> str:
        return "ignored"

    job = Job(owner, "e", [(handler, (1,), True)], Ack(owner, 5))
    assert job.step() is None
    assert owner.acks == []  # sent only when, and if, the handler calls it


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([(lambda: 1, (), False)], []),  # nobody handled the event: no ack, as in Node
        ([(lambda: NO_ACK, (), True)], []),
        ([(lambda: None, (), True)], [(9, [])]),  # None: an empty ack
    ],
)
def test_when_no_ack_goes_out(steps: list[Any], expected: list[Any]) -> None:
    owner = Owner()
    Job(owner, "e", steps, Ack(owner, 9)).step()
    assert owner.acks == expected


def test_a_failed_handler_is_logged_with_its_socket(caplog: pytest.LogCaptureFixture) -> None:
    job = Job(Owner(), "say", [])
    with caplog.at_level(logging.ERROR, logger="thinkio.socketio"):
        try:
            raise ValueError("boom")
        except ValueError:
            job.failed()
    (record,) = caplog.records
    assert record.getMessage() == "handler for 'say' failed on socket s1 (/chat)"
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    assert (record.socket, record.namespace, record.event) == ("s1", "/chat", "say")  # type: ignore[attr-defined]
