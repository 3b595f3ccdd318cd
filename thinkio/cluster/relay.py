"""The supervisor's half of the worker bus: relay publications, fan requests out, count answers.

Workers never talk to each other directly; every bus message passes through here (see
:mod:`.bus` for the messages). A publication goes to every other serving worker. A request
goes to every other serving worker too, and the relay remembers who still owes an answer:
each answer is forwarded to the requester, and once none is owed (answered, or the worker
died meanwhile) the requester gets ``done`` with the number of serving workers. ``count``
requests are answered here at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from .channel import Message

__all__ = ("Relay",)

#: Requests older than this are forgotten even if a (hung) worker never answered; the
#: requester gave up long before (``WorkerBus.request_timeout``).
REQUEST_EXPIRY = 60.0

Send = Callable[[int, dict[str, Any], list[bytes]], Awaitable[None]]


@dataclass(slots=True)
class _Pending:
    waiting: set[int]
    servers: int
    since: float


class Relay:
    """Bus routing between workers.

    Args:
        send: ``send(worker_index, header, blobs)``; never raises for a dead worker.
        serving: the indexes of the workers currently serving.
    """

    def __init__(self, send: Send, serving: Callable[[], list[int]]) -> None:
        self._send = send
        self._serving = serving
        self._pending: dict[tuple[int, int], _Pending] = {}

    @property
    def pending(self) -> int:
        """Requests still waiting for answers."""
        return len(self._pending)

    async def publish(self, source: int, message: Message) -> None:
        """Pass a publication on to every other serving worker."""
        for index in self._serving():
            if index != source:
                await self._send(index, message.header, message.blobs)

    async def request(self, source: int, message: Message) -> None:
        """Fan a request out (or answer ``count`` at once)."""
        header = message.header
        req_id = header.get("id")
        if not isinstance(req_id, int):
            return
        now = anyio.current_time()
        for key, pending in list(self._pending.items()):
            if now - pending.since > REQUEST_EXPIRY:
                del self._pending[key]
        peers = [i for i in self._serving() if i != source]
        if header.get("op") == "count" or not peers:
            await self._send(source, {"t": "done", "id": req_id, "servers": len(peers) + 1}, [])
            return
        key = (source, req_id)
        self._pending[key] = _Pending(set(peers), len(peers) + 1, now)
        forward = {**header, "from": source}
        for index in peers:
            await self._send(index, forward, message.blobs)
        await self._finish(key)

    async def answer(self, source: int, message: Message) -> None:
        """Forward one worker's answer to the requester."""
        to, req_id = message.header.get("to"), message.header.get("id")
        if not isinstance(to, int) or not isinstance(req_id, int):
            return
        key = (to, req_id)
        pending = self._pending.get(key)
        if pending is None or source not in pending.waiting:
            return  # late, or for a requester that died meanwhile
        await self._send(to, message.header, message.blobs)
        pending.waiting.discard(source)
        await self._finish(key)

    async def forget(self, index: int) -> None:
        """A worker died: drop its own requests, and stop waiting for its answers."""
        for key in list(self._pending):
            pending = self._pending.get(key)
            if pending is None:
                continue
            if key[0] == index:
                del self._pending[key]
            elif index in pending.waiting:
                pending.waiting.discard(index)
                await self._finish(key)

    async def _finish(self, key: tuple[int, int]) -> None:
        pending = self._pending.get(key)
        if pending is not None and not pending.waiting:
            del self._pending[key]
            await self._send(key[0], {"t": "done", "id": key[1], "servers": pending.servers}, [])
