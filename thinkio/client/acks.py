"""Acks in both directions, on the I/O side (PROTOCOL.md 2.5).

* Client to server: :class:`AckWaiters` holds one :class:`Waiter` per ``call()``. The reader
  task resolves it from :class:`~thinkio.socketio.client.ServerAck` (or fails it from
  :class:`~thinkio.socketio.client.AckFailed`); the caller waits on it in a cancel scope,
  which is the timeout. Resolving happens in the reader, not in the handler queue, so
  a handler may ``await client.call(...)``.
* Server to client: :func:`answerer` sends a handler's return value as the ack the server
  asked for, on the connection that asked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ..errors import Disconnected, LocalProtocolError
from ..socketio import NamespaceState
from ..socketio.client import AckFailed, ClientConnection, ServerAck
from .engine import EngineClient

__all__ = ("AckWaiters", "Waiter", "answerer")

log = logging.getLogger("thinkio.client")


class Waiter:
    """One ``call()`` waiting for its ack."""

    __slots__ = ("error", "event", "result")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.result: list[Any] = []
        self.error: Exception | None = None

    async def wait(self, timeout: float) -> list[Any] | None:
        """The ack's values, or None if ``timeout`` passed first.

        Raises:
            Disconnected: the namespace (or the connection) went away first.
        """
        with anyio.move_on_after(timeout):
            await self.event.wait()
        if not self.event.is_set():
            return None
        if self.error is not None:
            raise self.error
        return self.result


class AckWaiters:
    """The pending ``call()`` waiters of one client, by (namespace, ack id)."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, int], Waiter] = {}

    def expect(self, namespace: str, ack_id: int) -> Waiter:
        """Register a waiter for ``ack_id``."""
        waiter = self._waiting[namespace, ack_id] = Waiter()
        return waiter

    def forget(self, namespace: str, ack_id: int) -> None:
        """Drop a waiter (its call returned or gave up)."""
        self._waiting.pop((namespace, ack_id), None)

    def resolve(self, event: ServerAck | AckFailed) -> None:
        """Wake the waiter of an answered (or failed) ack."""
        waiter = self._waiting.pop((event.namespace, event.ack_id), None)
        if waiter is None:
            return
        if isinstance(event, ServerAck):
            waiter.result = event.args
        else:
            waiter.error = Disconnected(event.reason)
        waiter.event.set()

    def fail_all(self, reason: str) -> None:
        """Wake every waiter with :class:`~thinkio.errors.Disconnected` (``reason``)."""
        waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            waiter.error = Disconnected(reason)
            waiter.event.set()


def answerer(
    sio: ClientConnection, engine: EngineClient, namespace: str, ack_id: int
) -> Callable[[list[Any]], Awaitable[None]]:
    """A coroutine function that answers the server's ack ``ack_id`` with its argument."""

    async def answer(values: list[Any]) -> None:
        if sio.closed or sio.state_of(namespace) is not NamespaceState.CONNECTED:
            return  # the connection that asked is gone; the answer has nowhere to go
        try:
            sio.ack(namespace, ack_id, values)
            await engine.send(sio.data_to_send())
        except (LocalProtocolError, Disconnected) as exc:
            log.warning("could not answer ack %d on %r: %s", ack_id, namespace, exc)

    return answer
