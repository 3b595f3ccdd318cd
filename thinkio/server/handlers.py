"""Calling user handlers: sync or async, with or without the ack, the one way thinkio does it.

A handler is called in the callback that received its event. A plain function runs to the
end there; an ``async def`` (or any callable returning an awaitable) gives back its
coroutine, which the caller awaits in a task. So the common handler that does not need to
wait costs a function call, and the others a task, never both.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

__all__ = ("PLAIN_RESULTS", "Handler", "call_handler", "is_awaitable", "takes_ack")

#: An event handler: a plain function or a coroutine function, called with the event's arguments.
Handler = Callable[..., Any]


#: What plain handlers return: never awaitable, and cheaper to rule out than with
#: :func:`inspect.isawaitable`, which asks the ``Awaitable`` ABC for anything not a coroutine.
PLAIN_RESULTS = frozenset({type(None), tuple, list, dict, str, bytes, int, float, bool})


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """Whether a handler's result must be awaited (:func:`inspect.isawaitable`, faster)."""
    return type(value) not in PLAIN_RESULTS and inspect.isawaitable(value)


async def call_handler(handler: Handler, *args: Any, **kwargs: Any) -> Any:
    """Call a sync or async handler and return its result (awaited if it is awaitable)."""
    result = handler(*args, **kwargs)
    if is_awaitable(result):
        result = await result
    return result


def _takes_ack(handler: Handler) -> bool:
    try:
        return "ack" in inspect.signature(handler).parameters
    except (TypeError, ValueError):
        return False


_takes_ack_cached = functools.lru_cache(maxsize=1024)(_takes_ack)


def takes_ack(handler: Handler) -> bool:
    """Whether a handler takes the ack callback itself (a parameter named ``ack``).

    Such a handler owns the ack: it is sent when, and only when, the handler calls it.
    Cached: handlers are registered once and called for every event.
    """
    try:
        return _takes_ack_cached(handler)
    except TypeError:  # an unhashable callable
        return _takes_ack(handler)
