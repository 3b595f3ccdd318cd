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
    queue = HandlerQueue(handlers, timeout=10)

    def answerer(name: str) -> Any:
        async def answer(args: list[Any]) -> None:
            answers.append((name, args))

        return answer

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
            ]:
                await queue.queue(HandlerCall("/", event, [name], answerer(name)))
            await queue.stop()

    assert ran == ["a", "b", "none", "skip", "c", "e"]
    # A tuple answers with several values, None with none; NO_ACK, a handler that raised and
    # an event without a handler do not answer.
    assert answers == [("a", ["a", 2]), ("b", ["b"]), ("none", []), ("e", ["e"])]
