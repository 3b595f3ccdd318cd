"""The worker bus: broadcasts, room operations and socket queries across the workers.

Every namespace of a worker gets a :class:`BusAdapter`. It does what the in-memory adapter
does for the worker's own sockets, then publishes the operation on the :class:`WorkerBus`,
the worker's end of its channel to the supervisor (:mod:`.channel`). The supervisor relays a
publication to every other worker, whose bus applies it to *its* local sockets. No external
service, no pickle: headers are JSON, and a broadcast travels as the Socket.IO payloads the
sender already encoded (text, then binary attachments as raw blobs), so every worker queues
the same bytes it would have produced itself.

Publications (``"t": "pub"``), fire and forget, in order per sender::

    {"t":"pub","op":"broadcast","nsp":"/","opts":{...},"kinds":"sb"}  + one blob per payload
    {"t":"pub","op":"join"|"leave","nsp":"/","opts":{...},"rooms":[...]}
    {"t":"pub","op":"disconnect","nsp":"/","opts":{...},"close":false}

Requests (``"t": "req"``) are answered by every other worker (``"t": "res"``); the supervisor
counts the answers and ends the request with ``{"t":"done","id":n,"servers":k}``, also when a
worker dies meanwhile. ``fetch`` returns socket descriptions; ``count`` is answered by the
supervisor alone (the number of workers serving).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from ..engine import Handshake
from ..errors import ThinkioError
from ..server.adapter import Adapter, AdapterHome, BroadcastOptions, RemoteSocketActions
from ..socketio import Packet, encode
from ..socketio._binary import deconstruct, find_placeholders, reconstruct
from .channel import Channel, Message

if TYPE_CHECKING:
    from ..server.namespace import Namespace
    from ..server.server import Server

__all__ = ("BusAdapter", "BusTimeout", "RemoteSocket", "WorkerBus")

log = logging.getLogger("thinkio.cluster")


class BusTimeout(ThinkioError):
    """Not every worker answered a cluster-wide request in time."""


def _opts_to_json(opts: BroadcastOptions) -> dict[str, Any]:
    out: dict[str, Any] = {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms)}
    if opts.volatile:
        out["volatile"] = True
    if opts.flags:
        try:
            json.dumps(opts.flags)
            out["flags"] = opts.flags
        except (TypeError, ValueError):
            pass  # flags a peer could not read anyway
    return out


def _str_list(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return frozenset(value)


def _opts_from_json(value: Any) -> BroadcastOptions:
    if not isinstance(value, dict):
        raise ValueError("opts: expected an object")
    flags = value.get("flags", {})
    return BroadcastOptions(
        rooms=_str_list(value.get("rooms", [])),
        except_rooms=_str_list(value.get("except", [])),
        volatile=bool(value.get("volatile", False)),
        local=True,  # applied here only: never published again
        flags=flags if isinstance(flags, dict) else {},
    )


@dataclass(frozen=True, slots=True)
class RemoteSocket(RemoteSocketActions):
    """A socket served by another worker, as :meth:`BusAdapter.fetch_sockets` reports it.

    Node's ``RemoteSocket``: a snapshot of the socket's id, handshake, rooms and data, and
    the operations that can reach it through the bus. Unlike :meth:`Socket.join` and
    :meth:`Socket.leave`, :meth:`join` and :meth:`leave` are coroutines: awaiting them puts
    the operation on the bus before anything the caller sends next.
    """

    id: str
    namespace: AdapterHome
    handshake: Handshake
    rooms: frozenset[str]
    #: A copy of ``socket.data`` (JSON values and bytes) at the time of the query.
    data: Any = None


@dataclass(slots=True)
class _Request:
    replies: list[Message] = field(default_factory=list)
    done: anyio.Event = field(default_factory=anyio.Event)
    servers: int = 1


class WorkerBus:
    """One worker's end of the bus, shared by the adapters of all its namespaces.

    Args:
        channel: the channel to the supervisor.
        server: the worker's server (its namespaces receive what peers publish).
        request_timeout: seconds a cluster-wide request waits for every worker's answer.
    """

    def __init__(self, channel: Channel, server: Server, *, request_timeout: float = 5.0):
        self.channel = channel
        self.server = server
        self.request_timeout = request_timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, _Request] = {}

    # -- out -----------------------------------------------------------------------------------

    async def publish(self, header: dict[str, Any], blobs: list[bytes] | None = None) -> None:
        """Send a publication to every other worker (through the supervisor)."""
        await self.channel.send({"t": "pub", **header}, blobs or [])

    async def request(self, header: dict[str, Any]) -> tuple[list[Message], int]:
        """Ask every other worker; returns their answers and how many workers serve.

        Raises:
            BusTimeout: the answers did not all arrive within ``request_timeout``.
        """
        req_id = next(self._ids)
        req = self._pending[req_id] = _Request()
        try:
            await self.channel.send({"t": "req", "id": req_id, **header})
            with anyio.move_on_after(self.request_timeout):
                await req.done.wait()
        finally:
            del self._pending[req_id]
        if not req.done.is_set():
            raise BusTimeout(
                f"{header.get('op')!r} request: {len(req.replies)} answers after "
                f"{self.request_timeout} s, not every worker answered"
            )
        return req.replies, req.servers

    async def server_count(self) -> int:
        """How many workers are serving (this one included)."""
        _, servers = await self.request({"op": "count"})
        return servers

    # -- in ------------------------------------------------------------------------------------

    async def handle(self, message: Message) -> None:
        """Apply a bus message from the supervisor.

        Called by the worker's channel reader, in arrival order. It never waits on the
        channel itself (answers are sent from a task of their own), so the reader always
        keeps reading and the bus cannot deadlock.
        """
        header = message.header
        try:
            kind = message.type
            if kind == "pub":
                adapter = self._adapter(header.get("nsp"))
                if adapter is not None:
                    await adapter.apply(header, message.blobs)
            elif kind == "req":
                self._answer(header)
            elif kind == "res":
                req = self._pending.get(header["id"])
                if req is not None:
                    req.replies.append(message)
            elif kind == "done":
                req = self._pending.get(header["id"])
                if req is not None:
                    req.servers = int(header.get("servers", 1))
                    req.done.set()
            else:
                log.warning("bus: ignoring a message of unknown type %r", kind)
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            log.warning("bus: ignoring a malformed %r message: %s", message.type, exc)

    def _adapter(self, nsp: Any) -> BusAdapter | None:
        ns = self.server.namespaces.get(nsp) if isinstance(nsp, str) else None
        adapter = ns.adapter if ns is not None else None
        return adapter if isinstance(adapter, BusAdapter) else None

    def _answer(self, header: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"t": "res", "id": header["id"], "to": header["from"]}
        blobs: list[bytes] = []
        if header.get("op") == "fetch":
            adapter = self._adapter(header.get("nsp"))
            if adapter is not None:
                reply["sockets"], blobs = adapter.describe(_opts_from_json(header.get("opts")))
            else:
                reply["sockets"] = []

        async def send() -> None:
            # If the supervisor is gone, the worker is about to stop anyway.
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self.channel.send(reply, blobs)

        self.server.spawn(send)


class BusAdapter(Adapter):
    """An adapter whose every operation also reaches the sockets of the other workers.

    ``opts.local`` (``io.local.emit(...)``) keeps an operation on this worker.
    """

    def __init__(self, namespace: Namespace, bus: WorkerBus) -> None:
        super().__init__(namespace)
        self.bus = bus

    def _header(self, op: str, opts: BroadcastOptions) -> dict[str, Any]:
        return {"op": op, "nsp": self.namespace.name, "opts": _opts_to_json(opts)}

    async def broadcast(self, packet: Packet, opts: BroadcastOptions) -> None:
        payloads = encode(packet)
        self.namespace.deliver(self.local_targets(opts), payloads, volatile=opts.volatile)
        if opts.local:
            return
        header = self._header("broadcast", opts)
        header["kinds"] = "".join("s" if isinstance(p, str) else "b" for p in payloads)
        blobs = [p.encode() if isinstance(p, str) else p for p in payloads]
        await self.bus.publish(header, blobs)

    async def add_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        await super().add_sockets(opts, rooms)
        if not opts.local:
            await self.bus.publish({**self._header("join", opts), "rooms": rooms})

    async def del_sockets(self, opts: BroadcastOptions, rooms: Iterable[str]) -> None:
        rooms = list(rooms)
        await super().del_sockets(opts, rooms)
        if not opts.local:
            await self.bus.publish({**self._header("leave", opts), "rooms": rooms})

    async def disconnect_sockets(self, opts: BroadcastOptions, close: bool) -> None:
        await super().disconnect_sockets(opts, close)
        if not opts.local:
            await self.bus.publish({**self._header("disconnect", opts), "close": close})

    async def fetch_sockets(self, opts: BroadcastOptions) -> list[Any]:
        """Local sockets as :class:`~thinkio.server.Socket`, remote ones as
        :class:`RemoteSocket`.

        Raises:
            BusTimeout: a worker did not answer in time.
        """
        found: list[Any] = await super().fetch_sockets(opts)
        if opts.local:
            return found
        replies, _ = await self.bus.request(self._header("fetch", opts))
        for reply in replies:
            found += self._remote_sockets(reply)
        return found

    async def server_count(self) -> int:
        return await self.bus.server_count()

    # -- what peers ask of this worker ---------------------------------------------------------

    async def apply(self, header: dict[str, Any], blobs: list[bytes]) -> None:
        """Apply a peer's publication to this worker's sockets.

        Raises:
            ValueError: the publication is malformed.
        """
        op, opts = header.get("op"), _opts_from_json(header.get("opts"))
        if op == "broadcast":
            kinds = header.get("kinds")
            if not isinstance(kinds, str) or len(kinds) != len(blobs) or not blobs:
                raise ValueError("broadcast: payload kinds do not match the blobs")
            payloads: list[str | bytes] = [
                b.decode() if k == "s" else b for k, b in zip(kinds, blobs, strict=True)
            ]
            self.namespace.deliver(self.local_targets(opts), payloads, volatile=opts.volatile)
        elif op == "join":
            await super().add_sockets(opts, _str_list(header.get("rooms")))
        elif op == "leave":
            await super().del_sockets(opts, _str_list(header.get("rooms")))
        elif op == "disconnect":
            await super().disconnect_sockets(opts, bool(header.get("close", False)))
        else:
            raise ValueError(f"unknown operation {op!r}")

    def describe(self, opts: BroadcastOptions) -> tuple[list[Any], list[bytes]]:
        """This worker's target sockets as JSON, with bytes in ``data`` as blobs."""
        described = []
        for sid in self.local_targets(opts):
            socket = self.namespace.sockets.get(sid)
            if socket is None:
                continue
            data: Any = socket.data
            try:
                json.dumps(deconstruct(data)[0])
            except (TypeError, ValueError, ThinkioError):
                log.warning("socket %s: data is not JSON, reported as null to peers", sid)
                data = None
            described.append(
                {
                    "id": sid,
                    "handshake": dataclasses.asdict(socket.handshake),
                    "rooms": sorted(socket.rooms),
                    "data": data,
                }
            )
        return deconstruct(described)

    def _remote_sockets(self, reply: Message) -> list[RemoteSocket]:
        described = reply.header.get("sockets")
        if not isinstance(described, list):
            return []
        try:
            reconstruct(find_placeholders(described, len(reply.blobs)), reply.blobs)
            return [
                RemoteSocket(
                    id=str(d["id"]),
                    namespace=self.namespace,
                    handshake=Handshake(**d["handshake"]),
                    rooms=_str_list(d["rooms"]),
                    data=d.get("data"),
                )
                for d in described
            ]
        except (KeyError, TypeError, ValueError, ThinkioError) as exc:
            log.warning("bus: ignoring a malformed fetch answer: %s", exc)
            return []
