"""The messages of Node's ``@socket.io/redis-adapter`` (classic adapter), sans-IO.

REDIS-INTEROP.md C1 is the spec. Per namespace ``nsp`` and key prefix ``key``:

* broadcasts: ``msgpack([uid, packet, opts])`` on ``{key}#{nsp}#`` (or
  ``{key}#{nsp}#{room}#`` when ``opts.rooms`` holds exactly one room);
* requests: JSON (or msgpack, for type 7) on ``{key}-request#{nsp}#``;
* responses: JSON (msgpack for broadcast acks) on ``{key}-response#{nsp}#`` (or the
  requester's own ``{key}-response#{nsp}#{uid}#``).

On the request and response channels, a body starting with ``{`` is JSON, anything else
msgpack. Every decoder here returns a frozen, validated message or raises
:class:`~thinkio.errors.RemoteProtocolError`; the adapter never handles raw dicts.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final

from .. import _json
from ..errors import RemoteProtocolError
from ..server.adapter import BroadcastOptions
from ..socketio import Packet
from .msgpack import DEFAULT_MAX_DEPTH, packb, unpackb

__all__ = (
    "BroadcastMessage",
    "Channels",
    "Request",
    "RequestType",
    "Response",
    "decode_broadcast",
    "decode_request",
    "decode_response",
    "encode_broadcast",
    "encode_json",
    "js_iso_date",
    "js_room",
    "new_uid",
    "opts_from_wire",
    "opts_to_wire",
    "request_body",
)

_UID_ALPHABET: Final = string.ascii_letters + string.digits


def new_uid(length: int = 6) -> str:
    """A random id like Node's ``uid2(6)`` (server uids and request ids)."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(length))


class RequestType(IntEnum):
    """Request types on the request channel (redis-adapter's ``RequestType``)."""

    SOCKETS = 0  #: old ``allSockets``: answered, never sent
    ALL_ROOMS = 1  #: every room of the namespace, cluster-wide
    REMOTE_JOIN = 2  #: ``socketsJoin``
    REMOTE_LEAVE = 3  #: ``socketsLeave``
    REMOTE_DISCONNECT = 4  #: ``disconnectSockets``
    REMOTE_FETCH = 5  #: ``fetchSockets``
    SERVER_SIDE_EMIT = 6  #: ``serverSideEmit``, with or without ack
    BROADCAST = 7  #: emit with acks (msgpack): answered, never sent
    BROADCAST_CLIENT_COUNT = 8  #: reply to 7
    BROADCAST_ACK = 9  #: reply to 7


@dataclass(frozen=True, slots=True)
class Channels:
    """The Redis channels of one namespace, as Node names them."""

    key: str
    namespace: str
    uid: str

    @property
    def broadcast(self) -> str:
        return f"{self.key}#{self.namespace}#"

    def room(self, room: str) -> str:
        return f"{self.key}#{self.namespace}#{room}#"

    @property
    def pattern(self) -> str:
        """PSUBSCRIBE pattern for every broadcast channel; glob characters are escaped, so
        a namespace like ``/a*`` does not also catch ``/abc``'s channels."""
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self.broadcast)
        return escaped + "*"

    @property
    def request(self) -> str:
        return f"{self.key}-request#{self.namespace}#"

    @property
    def response(self) -> str:
        return f"{self.key}-response#{self.namespace}#"

    def specific_response(self, uid: str | None = None) -> str:
        return f"{self.key}-response#{self.namespace}#{uid or self.uid}#"


def js_room(value: Any) -> str:
    """A room name as a string: Node rooms may be numbers (``io.to(42)``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RemoteProtocolError(f"room names are strings or numbers, got {value!r}")
    return _json.js_number(value) if isinstance(value, float) else str(value)


def _rooms(value: Any, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise RemoteProtocolError(f"{what} must be a list")
    return frozenset(js_room(v) for v in value)


def opts_to_wire(opts: BroadcastOptions) -> dict[str, Any]:
    """``{rooms, except}``, the shape requests 2-5 carry."""
    return {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms)}


def opts_from_wire(value: Any) -> BroadcastOptions:
    """Read ``{rooms, except, flags?}``; ``flags.volatile`` becomes ``volatile``.

    Raises:
        RemoteProtocolError: not a map, or rooms that are not lists of strings/numbers.
    """
    if not isinstance(value, dict):
        raise RemoteProtocolError("opts must be a map")
    flags = value.get("flags") or {}
    if not isinstance(flags, dict):
        raise RemoteProtocolError("opts.flags must be a map")
    return BroadcastOptions(
        rooms=_rooms(value.get("rooms"), "opts.rooms"),
        except_rooms=_rooms(value.get("except"), "opts.except"),
        volatile=bool(flags.get("volatile")),
        local=True,  # what a peer sent is delivered here only
        flags=flags,
    )


# --------------------------------------------------------------------------- broadcasts


@dataclass(frozen=True, slots=True)
class BroadcastMessage:
    """``[uid, packet, opts]`` from a broadcast channel."""

    uid: str
    namespace: str
    #: ``[event, *args]``: the EVENT packet's data.
    data: list[Any]
    opts: BroadcastOptions


def encode_broadcast(uid: str, packet: Packet, opts: BroadcastOptions) -> bytes:
    """``msgpack([uid, {type: 2, data, nsp}, {rooms, except, flags}])``.

    Raises:
        LocalProtocolError: the packet's data cannot be written as msgpack.
    """
    flags = dict(opts.flags)
    if opts.volatile:
        flags["volatile"] = True
    wire_opts = {**opts_to_wire(opts), "flags": flags}
    wire_packet = {"type": int(packet.type), "data": packet.data, "nsp": packet.namespace}
    return packb([uid, wire_packet, wire_opts])


def decode_broadcast(data: bytes, *, on_date: Callable[[int], Any]) -> BroadcastMessage:
    """Read a broadcast message.

    Only EVENT packets (type 2, or 5 from a sender that marks binary) are accepted: that is
    all Node's ``broadcast`` sends. A missing ``nsp`` means ``/``.

    Raises:
        RemoteProtocolError: not msgpack, or not ``[str, {type, data, nsp?}, {rooms, ...}]``.
    """
    value = unpackb(data, on_date=on_date)
    if not isinstance(value, list) or len(value) < 3:
        raise RemoteProtocolError("broadcast must be [uid, packet, opts]")
    uid, packet, opts = value[0], value[1], value[2]
    if not isinstance(uid, str) or not isinstance(packet, dict):
        raise RemoteProtocolError("broadcast must be [uid, packet, opts]")
    if packet.get("type") not in (2, 5):
        raise RemoteProtocolError(f"broadcast packet type {packet.get('type')!r} is not EVENT")
    nsp = packet.get("nsp", "/")
    args = packet.get("data")
    if not isinstance(nsp, str) or not isinstance(args, list) or not args:
        raise RemoteProtocolError("broadcast packet needs nsp and data [event, ...]")
    return BroadcastMessage(uid, nsp, args, opts_from_wire(opts))


# --------------------------------------------------------------------------- requests


def _decode_body(data: bytes, on_date: Callable[[int], Any]) -> dict[str, Any]:
    if data[:1] == b"{":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise RemoteProtocolError("request is not UTF-8") from None
        value = _json.loads(text, max_depth=DEFAULT_MAX_DEPTH)
    else:
        value = unpackb(data, on_date=on_date)
    if not isinstance(value, dict):
        raise RemoteProtocolError("request/response must be an object")
    return value


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return js_room(value)
    if not isinstance(value, str):
        raise RemoteProtocolError(f"{key} must be a string")
    return value


@dataclass(frozen=True, slots=True)
class Request:
    """A request from a peer (or from an emitter, which sends no ``uid``).

    Which fields are set depends on :attr:`type`; see REDIS-INTEROP.md C1.
    """

    type: int
    uid: str | None = None
    request_id: str | None = None
    #: Targets of 2/3/4/5 (modern form), ``None`` for the legacy single-socket form.
    opts: BroadcastOptions | None = None
    #: Rooms to join/leave (2/3), or the rooms of a SOCKETS (0) request.
    rooms: frozenset[str] = frozenset()
    #: Legacy 2/3/4: one socket, one room.
    sid: str | None = None
    room: str | None = None
    close: bool = False
    #: SERVER_SIDE_EMIT: ``[event, *args]``.
    data: list[Any] = field(default_factory=list)
    #: BROADCAST (7): the EVENT packet's ``[event, *args]`` and namespace.
    packet_data: list[Any] | None = None
    packet_namespace: str = "/"


def decode_request(data: bytes, *, on_date: Callable[[int], Any]) -> Request:
    """Read a request (JSON, or msgpack for type 7).

    Raises:
        RemoteProtocolError: not JSON/msgpack, or fields of the wrong type.
    """
    body = _decode_body(data, on_date)
    rtype = body.get("type")
    if isinstance(rtype, bool) or not isinstance(rtype, int):
        raise RemoteProtocolError("request type must be an integer")
    raw_opts = body.get("opts")
    sse = body.get("data") if rtype == RequestType.SERVER_SIDE_EMIT else None
    if sse is not None and (not isinstance(sse, list) or not sse or not isinstance(sse[0], str)):
        raise RemoteProtocolError("serverSideEmit data must be [event, ...]")
    packet_data, packet_nsp = None, "/"
    if rtype == RequestType.BROADCAST:
        packet = body.get("packet")
        if not isinstance(packet, dict):
            raise RemoteProtocolError("an acked broadcast needs a packet")
        packet_data, packet_nsp = packet.get("data"), packet.get("nsp", "/")
        if not isinstance(packet_data, list) or not packet_data or not isinstance(packet_nsp, str):
            raise RemoteProtocolError("an acked broadcast packet needs nsp and data [event, ...]")
    return Request(
        type=rtype,
        uid=_opt_str(body, "uid"),
        request_id=_opt_str(body, "requestId"),
        opts=opts_from_wire(raw_opts) if raw_opts is not None else None,
        rooms=_rooms(body.get("rooms"), "rooms"),
        sid=_opt_str(body, "sid"),
        room=_opt_str(body, "room"),
        close=bool(body.get("close")),
        data=list(sse or ()),
        packet_data=packet_data,
        packet_namespace=packet_nsp,
    )


@dataclass(frozen=True, slots=True)
class Response:
    """A response on a response channel; only ``request_id`` is always there."""

    request_id: str
    type: int | None = None
    #: REMOTE_FETCH: socket descriptions; SOCKETS: socket ids.
    sockets: list[Any] | None = None
    rooms: list[str] | None = None
    #: SERVER_SIDE_EMIT: the ack argument.
    data: Any = None


def decode_response(data: bytes, *, on_date: Callable[[int], Any]) -> Response:
    """Read a response.

    Raises:
        RemoteProtocolError: not JSON/msgpack, no ``requestId``, or lists of the wrong type.
    """
    body = _decode_body(data, on_date)
    request_id = _opt_str(body, "requestId")
    if request_id is None:
        raise RemoteProtocolError("response without requestId")
    rtype = body.get("type")
    sockets = body.get("sockets")
    rooms = body.get("rooms")
    if sockets is not None and not isinstance(sockets, list):
        raise RemoteProtocolError("response sockets must be a list")
    return Response(
        request_id=request_id,
        type=rtype if isinstance(rtype, int) and not isinstance(rtype, bool) else None,
        sockets=sockets,
        rooms=sorted(_rooms(rooms, "rooms")) if rooms is not None else None,
        data=body.get("data"),
    )


def _json_default(value: Any) -> Any:
    # What JSON.stringify makes of a Buffer, so Node reads the same thing.
    if isinstance(value, bytes | bytearray | memoryview):
        return {"type": "Buffer", "data": list(bytes(value))}
    if isinstance(value, frozenset | set):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(message: dict[str, Any]) -> bytes:
    """A request or response as JSON text, the way Node's ``JSON.stringify`` writes it.

    Raises:
        LocalProtocolError: a value JSON cannot hold.
    """
    return _json.dumps(message, default=_json_default).encode("utf-8")


def request_body(uid: str, rtype: RequestType, **fields: Any) -> dict[str, Any]:
    """``{uid, type, ...fields}`` with ``requestId`` spelled as Node spells it."""
    body: dict[str, Any] = {"uid": uid}
    if "request_id" in fields:
        body["requestId"] = fields.pop("request_id")
    body["type"] = int(rtype)
    body.update(fields)
    return body


def js_iso_date(ms: int) -> str | None:
    """A notepack Date as clients would get it from Node (``JSON.stringify(date)``)."""
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    except OverflowError:
        return None
    m = moment
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )
