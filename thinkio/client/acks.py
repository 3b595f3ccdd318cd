"""Acks in both directions, on the I/O side (PROTOCOL.md 2.5).

* Client to server: :class:`AckWaiters` holds one :class:`Waiter` per ``call()``. The reader
  task resolves it from :class:`~thinkio.socketio.client.ServerAck` (or fails it from
  :class:`~thinkio.socketio.client.AckFailed`); the caller waits on it in a cancel scope,
  which is the timeout. Resolving happens in the reader, not in the handler queue, so
  a handler may ``await client.call(...)``.
* Server to client: an :class:`AckReply` answers the ack the server asked for, on the
  connection that asked: with the handler's return value, or when a handler that takes the
  ``ack`` itself calls it (Node's rules, :mod:`thinkio.server.acks`). Only its first answer
  counts; a second one, or one after the connection went away, is a DEBUG line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from ..errors import Disconnected, LocalProtocolError
from ..socketio import NamespaceState
from ..socketio.client import AckFailed, ClientConnection, ServerAck
from .engine import EngineClient

__all__ = ("AckReply", "AckWaiters", "Waiter")

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


class AckReply:
    """The answer to one ack the server asked for (the ``ack`` a client handler may take).

    Args:
        sio: the connection the event came on.
        engine: its Engine.IO session.
        namespace: the event's namespace.
        ack_id: the id the server chose.
        spawn: runs ``await fn()`` in a task of the client (the write of a called ack).
    """

    __slots__ = ("_engine", "_id", "_namespace", "_sio", "_spawn", "sent")

    def __init__(
        self,
        sio: ClientConnection,
        engine: EngineClient,
        namespace: str,
        ack_id: int,
        spawn: Callable[[Callable[[], Coroutine[Any, Any, None]]], None],
    ) -> None:
        self._sio = sio
        self._engine = engine
        self._namespace = namespace
        self._id = ack_id
        self._spawn = spawn
        #: The answer went out (or was refused as a second one).
        self.sent = False

    @property
    def id(self) -> int:
        """The ack id the server chose."""
        return self._id

    def _queue(self, values: list[Any]) -> bool:
        """Queue the ACK packet on the connection; False if it must not (or cannot) go."""
        if self.sent:
            log.debug("ack %d on %r called again: ignored", self._id, self._namespace)
            return False
        self.sent = True
        sio = self._sio
        if sio.closed or sio.state_of(self._namespace) is not NamespaceState.CONNECTED:
            log.debug(
                "ack %d on %r called after the connection went away", self._id, self._namespace
            )
            return False
        try:
            sio.ack(self._namespace, self._id, values)
        except LocalProtocolError as exc:
            log.warning("could not answer ack %d on %r: %s", self._id, self._namespace, exc)
            return False
        return True

    async def _write(self) -> None:
        try:
            await self._engine.send(self._sio.data_to_send())
        except Disconnected as exc:
            log.debug("ack %d on %r not written: %s", self._id, self._namespace, exc)

    def __call__(self, *values: Any) -> None:
        """Answer with these values (from sync code: written in a task of the client)."""
        if self._queue(list(values)):
            self._spawn(self._write)

    async def send(self, values: list[Any]) -> None:
        """Answer with ``values`` and write it out (a handler's return value)."""
        if self._queue(values):
            await self._write()
