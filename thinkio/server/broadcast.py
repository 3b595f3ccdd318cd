"""Broadcasts (Node's ``BroadcastOperator``): ``io.to("room").except_("other").emit(...)``.

A broadcast is encoded once — one Socket.IO packet, one list of Engine.IO packets, one
WebSocket frame per packet — and the same bytes are queued on every recipient session, with
no task per recipient. The namespace's adapter decides who the recipients are, here and on
the other servers of a cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import anyio

from ..errors import AckTimeout
from ..socketio import Packet, PacketType
from .adapter import Adapter, BroadcastOptions

__all__ = ("BroadcastHome", "BroadcastOperator")


class BroadcastHome(Protocol):
    """What a broadcast needs from its namespace (:class:`.namespace.Namespace`)."""

    @property
    def name(self) -> str: ...

    @property
    def adapter(self) -> Adapter: ...

    @property
    def sockets(self) -> Mapping[str, Any]: ...

    async def cooperate(self) -> None: ...


def _flatten(rooms: tuple[str | Iterable[str], ...]) -> frozenset[str]:
    out: set[str] = set()
    for room in rooms:
        if isinstance(room, str):
            out.add(room)
        else:
            out.update(room)
    return frozenset(out)


class BroadcastOperator:
    """A broadcast target being built; each method returns a new operator."""

    __slots__ = ("_namespace", "_opts")

    def __init__(self, namespace: BroadcastHome, opts: BroadcastOptions | None = None) -> None:
        self._namespace = namespace
        self._opts = opts or BroadcastOptions()

    @property
    def options(self) -> BroadcastOptions:
        """Who the broadcast goes to, and its flags (what the adapter receives)."""
        return self._opts

    def _with(self, **changes: Any) -> BroadcastOperator:
        return BroadcastOperator(self._namespace, dataclasses.replace(self._opts, **changes))

    def to(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Also target these rooms."""
        return self._with(rooms=self._opts.rooms | _flatten(rooms))

    in_ = to

    def except_(self, *rooms: str | Iterable[str]) -> BroadcastOperator:
        """Leave out every socket in these rooms."""
        return self._with(except_rooms=self._opts.except_rooms | _flatten(rooms))

    @property
    def volatile(self) -> BroadcastOperator:
        """Drop the packet for sockets that cannot take it right now."""
        return self._with(volatile=True)

    @property
    def local(self) -> BroadcastOperator:
        """This server only (no cluster fan-out)."""
        return self._with(local=True)

    def compress(self, value: bool = True) -> BroadcastOperator:
        """Node's ``compress(flag)``: whether the packet may be compressed. With
        ``per_message_deflate`` on, ``compress(False)`` sends it uncompressed whatever its
        size; True (the default) leaves it to the threshold. Carried in the broadcast's flags,
        so cluster peers honour it too."""
        return self._with(flags={**self._opts.flags, "compress": bool(value)})

    def timeout(self, seconds: float) -> BroadcastOperator:
        """Wait at most ``seconds`` for the clients' acks of :meth:`emit_with_ack` (Node's
        ``io.timeout(ms)``): ``await io.timeout(0.5).emit_with_ack("question")``."""
        if not seconds >= 0:
            raise ValueError(f"timeout: expected seconds >= 0, got {seconds!r}")
        return self._with(flags={**self._opts.flags, "timeout": round(seconds * 1000)})

    def _packet(self, event: str, args: tuple[Any, ...]) -> Packet:
        return Packet(PacketType.EVENT, self._namespace.name, [event, *args])

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to every target socket, on every server of the cluster.

        The frames are written when the caller next lets the event loop run (a burst of
        emits goes out as one write per socket), and at least every few milliseconds of a
        long burst.
        """
        namespace = self._namespace
        await namespace.adapter.broadcast(self._packet(event, args), self._opts)
        await namespace.cooperate()

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`emit` from sync code: local sockets get it now; a cluster adapter
        publishes it to the other servers in a task."""
        self._namespace.adapter.broadcast_nowait(self._packet(event, args), self._opts)

    async def emit_with_ack(
        self, event: str, *args: Any, timeout: float | None = None
    ) -> list[Any]:
        """Send an event to every target socket, on every server, and wait for every
        client's ack (Node's ``io.timeout(ms).emitWithAck``).

        Args:
            timeout: seconds to wait; default: the operator's :meth:`timeout`, else 5.

        Returns:
            The first argument of each client's ack, in arrival order (one per recipient).

        Raises:
            AckTimeout: not every server reported, or not every client acked, in time; its
                ``responses`` holds the acks that did arrive (what Node's callback gets).
        """
        ns = self._namespace
        if timeout is None:
            ms = self._opts.flags.get("timeout")
            timeout = ms / 1000 if isinstance(ms, int | float) else 5.0
        opts = dataclasses.replace(
            self._opts, flags={**self._opts.flags, "timeout": round(timeout * 1000)}
        )
        responses: list[Any] = []
        tally = {"servers": 0, "clients": 0, "expected": -1}
        done = anyio.Event()

        def check() -> None:
            servers, expected = tally["servers"], tally["expected"]
            if 0 <= expected <= servers and len(responses) >= tally["clients"]:
                done.set()

        def on_count(clients: int) -> None:
            tally["servers"] += 1
            tally["clients"] += clients
            check()

        def on_ack(args: list[Any]) -> None:
            responses.append(args[0] if args else None)
            check()

        packet = Packet(PacketType.EVENT, ns.name, [event, *args])
        with anyio.move_on_after(timeout):
            await ns.adapter.broadcast_with_ack(packet, opts, on_count, on_ack)
            tally["expected"] = 1 if opts.local else await ns.adapter.server_count()
            check()
            await done.wait()
        if not done.is_set():
            error = AckTimeout(
                f"{event!r}: {len(responses)} acks from {tally['servers']} servers within "
                f"{timeout} s (expected {tally['clients']} from {tally['expected']})"
            )
            error.responses = list(responses)
            raise error
        return responses

    def sockets(self) -> list[Any]:
        """The target sockets on this server (:class:`~.socket.Socket` objects)."""
        ns = self._namespace
        return [ns.sockets[sid] for sid in ns.adapter.local_targets(self._opts)]

    async def fetch_sockets(self) -> list[Any]:
        """The target sockets on every server (remote ones as the adapter describes them)."""
        return await self._namespace.adapter.fetch_sockets(self._opts)

    async def sockets_join(self, *rooms: str) -> None:
        """Put every target socket in rooms, on every server."""
        await self._namespace.adapter.add_sockets(self._opts, rooms)

    async def sockets_leave(self, *rooms: str) -> None:
        """Take every target socket out of rooms, on every server."""
        await self._namespace.adapter.del_sockets(self._opts, rooms)

    async def disconnect_sockets(self, close: bool = False) -> None:
        """Disconnect every target socket, on every server."""
        await self._namespace.adapter.disconnect_sockets(self._opts, close)
