"""Sockets of other servers, as ``fetch_sockets`` returns them (Node's ``RemoteSocket``).

A peer describes each of its sockets as ``{id, handshake, rooms, data}`` (REDIS-INTEROP.md
C1, request 5; the same shape in every cluster adapter). :class:`RemoteSocket` holds that
description and acts on the socket through the cluster: its ``emit`` is a broadcast to the
room named by its id, its ``join`` a ``sockets_join`` aimed at that room, and so on.
:func:`describe` is the other direction: what thinkio answers about its own sockets, shaped
as Node's ``socket.handshake`` is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import RemoteProtocolError

if TYPE_CHECKING:
    from ..server.namespace import Namespace
    from ..server.socket import Socket

__all__ = ("RemoteSocket", "describe", "js_date_string")


def js_date_string(ms: int) -> str:
    """``new Date(ms).toString()`` on a UTC machine (Node's ``handshake.time``)."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


def describe(socket: Socket) -> dict[str, Any]:
    """A local socket as Node's adapter describes one in a ``fetchSockets`` reply."""
    hs = socket.handshake
    return {
        "id": socket.id,
        "handshake": {
            "headers": hs.headers,
            "time": js_date_string(hs.issued),
            "address": hs.address,
            "xdomain": hs.xdomain,
            "secure": hs.secure,
            "issued": hs.issued,
            "url": hs.url,
            "query": hs.query,
            "auth": socket.auth,
        },
        "rooms": sorted(socket.rooms),
        "data": socket.data,
    }


@dataclass(frozen=True, slots=True)
class RemoteSocket:
    """A socket connected to another server of the cluster (``emit``, ``join``, ``leave``,
    ``disconnect`` act on it through the adapter). The one remote-socket type of every
    cluster adapter.

    Attributes:
        id: the socket id.
        handshake: the peer's description of the handshake (``headers``, ``query``,
            ``auth``, ``address``, ``time``, ``issued``, ``url``, ``secure``, ``xdomain``).
        rooms: the rooms it was in when fetched.
        data: its ``socket.data`` when fetched.
        namespace: the local namespace it was fetched through.
    """

    id: str
    handshake: dict[str, Any]
    rooms: frozenset[str]
    data: Any
    namespace: Namespace = field(repr=False, compare=False)

    @classmethod
    def from_wire(cls, namespace: Namespace, value: Any) -> RemoteSocket:
        """Read one ``{id, handshake, rooms, data}``.

        Raises:
            RemoteProtocolError: not a map, or ``id``/``rooms``/``handshake`` of the wrong type.
        """
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise RemoteProtocolError("a fetched socket needs a string id")
        rooms = value.get("rooms", [])
        handshake = value.get("handshake", {})
        if not isinstance(rooms, list) or not all(isinstance(r, str | int) for r in rooms):
            raise RemoteProtocolError("a fetched socket's rooms must be a list")
        if not isinstance(handshake, dict):
            raise RemoteProtocolError("a fetched socket's handshake must be an object")
        return cls(
            id=value["id"],
            handshake=handshake,
            rooms=frozenset(str(r) for r in rooms),
            data=value.get("data"),
            namespace=namespace,
        )

    async def emit(self, event: str, *args: Any) -> None:
        """Send an event to this socket, wherever it is connected."""
        await self.namespace.to(self.id).emit(event, *args)

    async def join(self, *rooms: str) -> None:
        """Put this socket in rooms (on its server)."""
        await self.namespace.to(self.id).sockets_join(*rooms)

    async def leave(self, *rooms: str) -> None:
        """Take this socket out of rooms (on its server)."""
        await self.namespace.to(self.id).sockets_leave(*rooms)

    async def disconnect(self, close: bool = False) -> None:
        """Disconnect this socket; with ``close``, end its whole Engine.IO session."""
        await self.namespace.to(self.id).disconnect_sockets(close)
