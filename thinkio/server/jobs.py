"""A socket's unit of work: the handlers one event (or connect, disconnect, error) runs.

A :class:`Job` calls its handlers in order, in the callback that received the event, until
one returns an awaitable; the socket then awaits it in a task and steps the job on. Jobs of
one socket never overlap: :class:`thinkio.server.Socket` queues the next behind a job that
waits, so a socket's events run in the order they came.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from .acks import Ack, ack_args
from .handlers import Handler, is_awaitable, takes_ack

__all__ = ("Job", "JobOwner")

log = logging.getLogger("thinkio.socketio")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class JobOwner(Protocol):
    """The socket a job runs for (named in the log line of a handler that failed)."""

    @property
    def id(self) -> str: ...

    @property
    def namespace(self) -> _Named: ...


class Job:
    """One unit of a socket's work: handlers called in order, any of which may await.

    :meth:`step` calls handlers until one returns an awaitable (returned to the caller, who
    awaits it in a task and calls :meth:`resumed`) or all have run.
    """

    __slots__ = ("_counts", "_i", "_steps", "ack", "event", "owned", "result", "socket")

    def __init__(
        self,
        socket: JobOwner,
        event: str,
        steps: list[tuple[Handler, tuple[Any, ...], bool]],
        ack: Ack | None = None,
    ) -> None:
        self.socket = socket
        self.event = event
        #: (handler, arguments, whether its return value counts for the ack)
        self._steps = steps
        self._i = 0
        self.ack = ack
        #: A handler took the ack: no automatic one.
        self.owned = False
        self.result: Any = None
        #: Whether the step being awaited counts for the ack.
        self._counts = False

    def step(self) -> Awaitable[Any] | None:
        """Run handlers until one must be awaited (returned) or the job is done (None)."""
        steps = self._steps
        while self._i < len(steps):
            handler, args, counts = steps[self._i]
            self._i += 1
            if counts and self.ack is not None and takes_ack(handler):
                self.owned = True
                result = handler(*args, ack=self.ack)
            else:
                result = handler(*args)
            if is_awaitable(result):
                self._counts = counts
                return result
            if counts:
                self.result = result
        self.finish()
        return None

    def resumed(self, result: Any) -> None:
        """The awaitable :meth:`step` returned gave ``result``."""
        if self._counts:
            self.result = result

    def started(self) -> None:
        """The first step already ran (inline) and returned what will be awaited."""
        self._i = 1
        self._counts = self._steps[0][2]

    def finish(self) -> None:
        """Every handler ran: the automatic ack, unless a handler owns it (see :mod:`.acks`)."""
        ack = self.ack
        if ack is None or self.owned or ack.sent:
            return
        if not any(counts for _, _, counts in self._steps):
            return  # nobody handled the event: no ack, as in Node
        args = ack_args(self.result)
        if args is not None:
            ack(*args)

    def failed(self) -> None:
        """Log the exception being handled: a handler of this job raised it."""
        socket = self.socket
        namespace = socket.namespace.name
        log.exception(
            "handler for %r failed on socket %s (%s)",
            self.event,
            socket.id,
            namespace,
            extra={"socket": socket.id, "namespace": namespace, "event": self.event},
        )
