"""The client's handlers: registered per (namespace, event), run one at a time, in order.

The reader task queues a :class:`HandlerCall` for every server event (and for ``connect``,
``disconnect`` and ``connect_error``); one :class:`HandlerQueue` task runs them in the order the
server's packets arrived, as socket.io-client delivers them. The queue is bounded
(:data:`DISPATCH_BUFFER`): a handler slower than the server's event rate makes the reader
wait, which is backpressure, not unbounded memory.

For an event that asked for an ack, Node's rules, as on the server (:mod:`thinkio.server.acks`):
a handler that takes a parameter named ``ack`` owns the ack (it is sent when, and only when,
the handler calls it); otherwise the handler's return value is the answer
(:func:`thinkio.server.acks.ack_args`): None sends no values, a tuple several,
:data:`~thinkio.server.NO_ACK` no ack at all, anything else one.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from ..server.acks import ack_args
from ..server.handlers import Handler, call_handler, takes_ack

__all__ = ("DISPATCH_BUFFER", "AckAnswer", "HandlerCall", "HandlerQueue")

log = logging.getLogger("thinkio.client")

#: Handler calls queued before the reader waits.
DISPATCH_BUFFER = 1024


class AckAnswer(Protocol):
    """How a handler call answers the server's ack (:class:`thinkio.client.acks.AckReply`)."""

    def __call__(self, *values: Any) -> None:
        """The handler's own answer (it took the ``ack``)."""

    async def send(self, values: list[Any]) -> None:
        """The automatic answer: the handler's return value."""


@dataclass(slots=True)
class HandlerCall:
    """One handler call for the :class:`HandlerQueue`.

    Attributes:
        namespace: the namespace of the event.
        event: the event name (``"connect"``, ``"disconnect"``, ``"connect_error"`` or a
            server event).
        args: the handler's arguments.
        answer: the ack, when the server asked for one: given to a handler that takes
            ``ack``, else sent with the handler's return value.
        barrier: not a call: set when the queue reaches it.
    """

    namespace: str
    event: object
    args: list[Any]
    answer: AckAnswer | None = None
    barrier: anyio.Event | None = None


class HandlerQueue:
    """Runs handler calls one at a time, in the order they were queued.

    Args:
        handlers: the (namespace, event) -> handler table; read at call time, so handlers
            registered later are seen.
        timeout: the longest :meth:`wait_idle` and :meth:`stop` wait, in seconds.
    """

    def __init__(self, handlers: dict[tuple[str, object], Handler], *, timeout: float) -> None:
        self._handlers = handlers
        self._timeout = timeout
        self._send, self._receive = anyio.create_memory_object_stream[HandlerCall](DISPATCH_BUFFER)
        self._stopped = anyio.Event()
        self._task: int | None = None

    async def queue(self, call: HandlerCall) -> None:
        """Queue a call (waits while the queue is full; dropped once stopping)."""
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            await self._send.send(call)

    async def wait_idle(self) -> None:
        """Wait (bounded) until every call queued so far has run."""
        if anyio.get_current_task().id == self._task:
            return  # a handler waiting for itself would wait forever
        reached = anyio.Event()
        await self.queue(HandlerCall("", None, [], barrier=reached))
        with anyio.move_on_after(self._timeout):
            await reached.wait()

    async def stop(self) -> None:
        """Stop taking calls, and wait (bounded) until the queued ones have run."""
        self._send.close()
        if anyio.get_current_task().id != self._task:
            with anyio.move_on_after(self._timeout):
                await self._stopped.wait()

    async def run(self) -> None:
        """The queue's task: run calls until :meth:`stop`."""
        self._task = anyio.get_current_task().id
        try:
            async with self._receive:
                async for call in self._receive:
                    if call.barrier is not None:
                        call.barrier.set()
                    else:
                        await self._run(call)
        finally:
            self._stopped.set()

    async def _run(self, call: HandlerCall) -> None:
        handler = self._handlers.get((call.namespace, call.event))
        if handler is None:
            return  # like Node: no listener, no ack
        answer = call.answer
        owned = answer is not None and takes_ack(handler)
        try:
            if owned:
                await call_handler(handler, *call.args, ack=answer)
                return  # the handler owns the ack: it answers, or not, itself
            result = await call_handler(handler, *call.args)
        except Exception:
            log.exception("handler for %r on %r failed", call.event, call.namespace)
            return
        if answer is not None:
            values = ack_args(result)
            if values is not None:
                await answer.send(values)
