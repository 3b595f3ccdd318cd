"""The worker bus: the cluster adapter of ``thinkio run --workers N``, relayed by the supervisor.

Every namespace of a worker gets a :class:`BusAdapter`, a
:class:`~thinkio.adapters.ClusterAdapter` like the Redis ones: the same typed messages,
the same executor, the same :class:`~thinkio.adapters.RemoteSocket` and
:class:`~thinkio.adapters.ClusterTimeout`, so every operation the Redis adapter has (acked
broadcasts and server-side emits with acks included) works across workers. Only the
transport differs: the worker's channel to the supervisor (:mod:`.channel`), which relays
(:mod:`.relay`). No external service, no pickle: a message is Node's ``ClusterAdapter``
object (:mod:`thinkio.adapters.cluster_codec`) written as MessagePack, so binary arguments
travel as raw bytes.

Frames on the channel (JSON header, one MessagePack blob)::

    {"t":"pub"} + message             to every other serving worker
    {"t":"res","to":i} + response     to worker i (an adapter's uid starts with "i.")
    {"t":"count","id":n}              asked of the supervisor, answered
    {"t":"done","id":n,"servers":k}   with the number of serving workers
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
from typing import TYPE_CHECKING, Any

import anyio

from ..adapters import ClusterAdapter, ClusterTimeout
from ..adapters.cluster_codec import from_dict, to_dict
from ..adapters.messages import Message, Response
from ..adapters.msgpack import date_from_ms, packb, unpackb
from ..errors import RemoteProtocolError
from .channel import Channel, ChannelError, Frame

if TYPE_CHECKING:
    from ..server.namespace import Namespace
    from ..server.server import Server

__all__ = ("BusAdapter", "WorkerBus")

log = logging.getLogger("thinkio.cluster")


class WorkerBus:
    """One worker's end of the bus, shared by the adapters of all its namespaces.

    Args:
        channel: the channel to the supervisor.
        server: the worker's server (its namespaces receive what peers publish).
        index: this worker's index (responses are routed by it).
        request_timeout: seconds a cluster-wide request waits for every worker's answer.
    """

    def __init__(
        self, channel: Channel, server: Server, *, index: int = 0, request_timeout: float = 5.0
    ) -> None:
        self.channel = channel
        self.server = server
        self.index = index
        self.request_timeout = request_timeout
        self._ids = itertools.count(1)
        self._counts: dict[int, tuple[anyio.Event, list[int]]] = {}

    # -- out -----------------------------------------------------------------------------------

    async def _send(self, header: dict[str, Any], body: dict[str, Any]) -> None:
        blob = packb(body)
        try:
            await self.channel.send(header, [blob])
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, ChannelError) as exc:
            raise ClusterTimeout("bus", 1, 0) from exc

    async def publish(self, body: dict[str, Any]) -> None:
        """Send a message to every other worker (through the supervisor).

        Raises:
            LocalProtocolError: the message holds a value MessagePack cannot.
            ClusterTimeout: the supervisor is gone.
        """
        await self._send({"t": "pub"}, body)

    async def respond(self, worker: int, body: dict[str, Any]) -> None:
        """Send a response to one worker.

        Raises:
            LocalProtocolError: the response holds a value MessagePack cannot.
            ClusterTimeout: the supervisor is gone.
        """
        await self._send({"t": "res", "to": worker}, body)

    async def server_count(self) -> int:
        """How many workers are serving (this one included).

        Raises:
            ClusterTimeout: the supervisor did not answer within ``request_timeout``.
        """
        req_id = next(self._ids)
        done, answer = self._counts[req_id] = (anyio.Event(), [])
        try:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self.channel.send({"t": "count", "id": req_id})
            with anyio.move_on_after(self.request_timeout):
                await done.wait()
        finally:
            del self._counts[req_id]
        if not answer:
            raise ClusterTimeout("serverCount", 1, 0)
        return answer[0]

    # -- in ------------------------------------------------------------------------------------

    def handle(self, frame: Frame) -> None:
        """Hand a bus frame from the supervisor to its namespace's adapter.

        Called by the worker's channel reader, in arrival order; it never waits (the adapter
        spawns what must), so the reader keeps reading and the bus cannot deadlock.
        """
        kind = frame.type
        if kind == "done":
            req_id, servers = frame.header.get("id"), frame.header.get("servers")
            waiting = self._counts.get(req_id) if isinstance(req_id, int) else None
            if waiting is not None and isinstance(servers, int):
                waiting[1].append(servers)
                waiting[0].set()
            return
        if kind not in ("pub", "res") or len(frame.blobs) != 1:
            log.warning("bus: ignoring a %r frame", kind)
            return
        try:
            uid, nsp, item = from_dict(unpackb(frame.blobs[0], on_date=date_from_ms))
        except RemoteProtocolError as exc:
            log.warning("bus: ignoring a malformed message: %s", exc)
            return
        ns = self.server.namespaces.get(nsp)
        adapter = ns.adapter if ns is not None else None
        if isinstance(adapter, BusAdapter):
            adapter.receive_any(uid, item)


class BusAdapter(ClusterAdapter):
    """A namespace's adapter on the worker bus (see the module docstring).

    With connection state recovery, a client that comes back to another worker gets its
    session from the worker that kept it (every worker answers a
    :class:`~thinkio.adapters.messages.RestoreSession`; see :mod:`thinkio.adapters.cluster`).
    """

    hands_over_sessions = True

    def __init__(self, namespace: Namespace, bus: WorkerBus) -> None:
        uid = f"{bus.index}.{secrets.token_hex(6)}"
        super().__init__(namespace, uid=uid, requests_timeout=bus.request_timeout)
        self.bus = bus

    async def publish(self, message: Message) -> None:
        await self.bus.publish(to_dict(self.uid, self.namespace.name, message))

    async def publish_response(self, requester: str, response: Response) -> None:
        worker, _, _ = requester.partition(".")
        if worker.isdigit():
            await self.bus.respond(int(worker), to_dict(self.uid, self.namespace.name, response))

    async def server_count(self) -> int:
        return await self.bus.server_count()
