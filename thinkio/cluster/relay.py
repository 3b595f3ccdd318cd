"""The supervisor's half of the worker bus: pass messages on, answer server counts.

Workers never talk to each other directly; every bus frame passes through here (see
:mod:`.bus` for the frames). A publication goes to every other serving worker, a response
to the worker it names, and a ``count`` is answered at once with the number of serving
workers. The relay keeps no state: a request whose answerer dies is bounded by the
requester's own timeout, as in every cluster adapter.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .channel import Frame

__all__ = ("Relay",)

Send = Callable[[int, dict[str, Any], list[bytes]], Awaitable[None]]


class Relay:
    """Bus routing between workers.

    Args:
        send: ``send(worker_index, header, blobs)``; never raises for a dead worker.
        serving: the indexes of the workers currently serving.
    """

    def __init__(self, send: Send, serving: Callable[[], list[int]]) -> None:
        self._send = send
        self._serving = serving

    async def route(self, source: int, message: Frame) -> bool:
        """Pass a bus frame of worker ``source`` on; False if it is not a bus frame."""
        kind, header = message.type, message.header
        if kind == "pub":
            for index in self._serving():
                if index != source:
                    await self._send(index, header, message.blobs)
        elif kind == "res":
            to = header.get("to")
            if isinstance(to, int) and to in self._serving():
                await self._send(to, header, message.blobs)
        elif kind == "count":
            reply = {"t": "done", "id": header.get("id"), "servers": len(self._serving())}
            await self._send(source, reply, [])
        else:
            return False
        return True
