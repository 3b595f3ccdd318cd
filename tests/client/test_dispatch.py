"""The client's HandlerQueue alone: order, sync and async handlers, and what a handler's
return value answers (the server's rule, NO_ACK included)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio.client.dispatch import HandlerCall, HandlerQueue
from thinkio.server import NO_ACK

pytestmark = pytest.mark.anyio


async def test_handlers_run_in_order_and_their_return_values_answer() -> None:
    ran: list[str] = []
    answers: list[tuple[str, list[Any]]] = []

    async def slow(name: str) -> Any:
        await anyio.lowlevel.checkpoint()
        ran.append(name)
        return name, 2

    def fast(name: str) -> Any:
        ran.append(name)
        return {"none": None, "skip": NO_ACK}.get(name, name)

    def failing(name: str) -> Any:
        ran.append(name)
        raise ValueError(name)

    handlers: dict[tuple[str, object], Any] = {("/", "slow"): slow, ("/", "fast"): fast}
    handlers[("/", "failing")] = failing
    held: list[Any] = []

    def owner(name: str, ack: Any) -> None:
        # Takes the ack: no automatic answer, whatever it returns; it answers when it calls.
        ran.append(name)
        if name == "now":
            ack("called", 1)
        else:
            held.append(ack)

    handlers[("/", "owner")] = owner
    queue = HandlerQueue(handlers, timeout=10)

    class Answer:
        def __init__(self, name: str) -> None:
            self.name = name

        def __call__(self, *values: Any) -> None:
            answers.append((self.name, list(values)))

        async def send(self, values: list[Any]) -> None:
            answers.append((self.name, values))

    def answerer(name: str) -> Any:
        return Answer(name)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(queue.run)
            for event, name in [
                ("slow", "a"),
                ("fast", "b"),
                ("fast", "none"),
                ("fast", "skip"),
                ("failing", "c"),
                ("unknown", "d"),
                ("fast", "e"),
                ("owner", "now"),
                ("owner", "later"),
            ]:
                await queue.queue(HandlerCall("/", event, [name], answerer(name)))
            await queue.stop()

    assert ran == ["a", "b", "none", "skip", "c", "e", "now", "later"]
    # A tuple answers with several values, None with none; NO_ACK, a handler that raised and
    # an event without a handler do not answer; a handler that took the ack answers itself.
    assert answers == [
        ("a", ["a", 2]),
        ("b", ["b"]),
        ("none", []),
        ("e", ["e"]),
        ("now", ["called", 1]),
    ]
    held[0]("late")
    assert answers[-1] == ("later", ["late"])
