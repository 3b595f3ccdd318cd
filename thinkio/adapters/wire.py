"""The codec of Node's ``@socket.io/redis-adapter`` (classic adapter), sans-IO.

It turns the cluster messages of :mod:`.messages` into the bytes Node's classic adapter
publishes, and those bytes back into messages. REDIS-INTEROP.md C1 is the spec. Per
namespace ``nsp`` and key prefix ``key``:

* broadcasts: ``msgpack([uid, packet, opts])`` on ``{key}#{nsp}#`` (or
  ``{key}#{nsp}#{room}#`` when ``opts.rooms`` holds exactly one room);
* requests: JSON (or msgpack, for type 7) on ``{key}-request#{nsp}#``;
* responses: JSON (msgpack for broadcast acks) on ``{key}-response#{nsp}#`` (or the
  requester's own ``{key}-response#{nsp}#{uid}#``).

On the request and response channels, a body starting with ``{`` is JSON, anything else
msgpack. Every decoder here returns a frozen, validated message or raises
:class:`~thinkio.errors.RemoteProtocolError`; the adapter never handles raw dicts.

Node's legacy single-socket forms of requests 2-4 (``{sid, room}``, sent by adapters older
than 7) and the old ``allSockets`` request (type 0) are refused as malformed: no Node
version that speaks the rest of this format sends them.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final

from .. import _json
from ..errors import LocalProtocolError, RemoteProtocolError
from ..server.adapter import BroadcastOptions
from .messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    Message,
    Response,
    RestoreSession,
    RestoreSessionResponse,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from .msgpack import DEFAULT_MAX_DEPTH, packb, unpackb

__all__ = (
    "Channels",
    "RequestType",
    "decode_broadcast",
    "decode_request",
    "decode_response",
    "encode_json",
    "encode_message",
    "encode_response",
    "js_iso_date",
    "js_room",
    "new_uid",
    "opts_from_wire",
    "opts_to_wire",
)

_UID_ALPHABET: Final = string.ascii_letters + string.digits


def new_uid(length: int = 6) -> str:
    """A random id like Node's ``uid2(6)`` (server uids and request ids)."""
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(length))


class RequestType(IntEnum):
    """Request types on the request channel (redis-adapter's ``RequestType``)."""

    SOCKETS = 0  #: old ``allSockets``: neither sent nor answered
    ALL_ROOMS = 1  #: every room of the namespace, cluster-wide
    REMOTE_JOIN = 2  #: ``socketsJoin``
    REMOTE_LEAVE = 3  #: ``socketsLeave``
    REMOTE_DISCONNECT = 4  #: ``disconnectSockets``
    REMOTE_FETCH = 5  #: ``fetchSockets``
    SERVER_SIDE_EMIT = 6  #: ``serverSideEmit``, with or without ack
    BROADCAST = 7  #: emit with acks (msgpack)
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


def opts_to_wire(opts: BroadcastOptions, *, flags: bool = False) -> dict[str, Any]:
    """``{rooms, except}``, the shape requests 2-5 carry; with ``flags``, also the flags
    (``volatile`` among them), as broadcasts carry them."""
    wire: dict[str, Any] = {"rooms": sorted(opts.rooms), "except": sorted(opts.except_rooms)}
    if flags:
        wire["flags"] = {**opts.flags, "volatile": True} if opts.volatile else dict(opts.flags)
    return wire


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


# --------------------------------------------------------------------------- encoding


def _wire_packet(data: list[Any], namespace: str) -> dict[str, Any]:
    return {"type": 2, "data": data, "nsp": namespace}


def encode_message(message: Message, uid: str, channels: Channels) -> tuple[str, bytes]:
    """The channel and body Node's classic adapter would publish for ``message``.

    Raises:
        LocalProtocolError: a value msgpack or JSON cannot hold.
    """
    ns = channels.namespace
    if isinstance(message, Broadcast):
        opts = opts_to_wire(message.opts, flags=True)
        packet = _wire_packet(message.data, ns)
        if message.request_id is None:
            rooms = message.opts.rooms
            channel = channels.room(next(iter(rooms))) if len(rooms) == 1 else channels.broadcast
            return channel, packb([uid, packet, opts])
        body = {"uid": uid, "requestId": message.request_id, "type": int(RequestType.BROADCAST)}
        return channels.request, packb({**body, "packet": packet, "opts": opts})
    fields: dict[str, Any]
    if isinstance(message, SocketsJoin | SocketsLeave):
        rtype = (
            RequestType.REMOTE_JOIN
            if isinstance(message, SocketsJoin)
            else RequestType.REMOTE_LEAVE
        )
        fields = {"opts": opts_to_wire(message.opts), "rooms": list(message.rooms)}
    elif isinstance(message, DisconnectSockets):
        rtype = RequestType.REMOTE_DISCONNECT
        fields = {"opts": opts_to_wire(message.opts), "close": message.close}
    elif isinstance(message, FetchSockets):
        rtype = RequestType.REMOTE_FETCH
        fields = {"requestId": message.request_id, "opts": opts_to_wire(message.opts)}
    elif isinstance(message, AllRooms):
        rtype, fields = RequestType.ALL_ROOMS, {"requestId": message.request_id}
    elif isinstance(message, RestoreSession):
        raise LocalProtocolError("Node's classic Redis adapter has no session hand-over")
    else:
        rtype, fields = RequestType.SERVER_SIDE_EMIT, {"data": message.data}
        if message.request_id is not None:
            fields["requestId"] = message.request_id
    body = {"uid": uid}
    if "requestId" in fields:
        body["requestId"] = fields.pop("requestId")
    body["type"] = int(rtype)
    return channels.request, encode_json({**body, **fields})


def encode_response(response: Response) -> bytes:
    """A response as Node's classic adapter writes it (JSON; msgpack for client acks).

    Raises:
        LocalProtocolError: a value JSON or msgpack cannot hold.
    """
    rid = response.request_id
    if isinstance(response, BroadcastAck):
        return packb(
            {"type": int(RequestType.BROADCAST_ACK), "requestId": rid, "packet": response.value}
        )
    if isinstance(response, BroadcastClientCount):
        count = {"type": int(RequestType.BROADCAST_CLIENT_COUNT), "requestId": rid}
        return encode_json({**count, "clientCount": response.count})
    if isinstance(response, ServerSideEmitResponse):
        sse = {"type": int(RequestType.SERVER_SIDE_EMIT), "requestId": rid}
        return encode_json({**sse, "data": response.value})
    if isinstance(response, AllRoomsResponse):
        return encode_json({"requestId": rid, "rooms": sorted(response.rooms)})
    if isinstance(response, RestoreSessionResponse):
        raise LocalProtocolError("Node's classic Redis adapter has no session hand-over")
    parts = [_socket_json(s) for s in response.sockets]
    head = encode_json({"requestId": rid})[:-1]
    return head + b',"sockets":[' + b",".join(parts) + b"]}"


def _socket_json(description: dict[str, Any]) -> bytes:
    """One socket's JSON description; ``data`` JSON cannot hold is sent as null."""
    try:
        return encode_json(description)
    except LocalProtocolError:
        return encode_json({**description, "data": None})


# --------------------------------------------------------------------------- decoding


def decode_broadcast(data: bytes, *, on_date: Callable[[int], Any]) -> tuple[str, str, Broadcast]:
    """Read a broadcast message: ``(uid, namespace, message)``.

    Only EVENT packets (type 2, or 5 from a sender that marks binary) are accepted: that is
    all Node's ``broadcast`` sends. A missing ``nsp`` means ``/``.

    Raises:
        RemoteProtocolError: not msgpack, or not ``[str, {type, data, nsp?}, {rooms, ...}]``.
    """
    value = unpackb(data, on_date=on_date)
    if not isinstance(value, list) or len(value) < 3:
        raise RemoteProtocolError("broadcast must be [uid, packet, opts]")
    uid, packet, opts = value[0], value[1], value[2]
    if not isinstance(uid, str):
        raise RemoteProtocolError("broadcast must be [uid, packet, opts]")
    nsp, args = _packet(packet)
    return uid, nsp, Broadcast(opts_from_wire(opts), args)


def _packet(packet: Any) -> tuple[str, list[Any]]:
    if not isinstance(packet, dict):
        raise RemoteProtocolError("a broadcast needs a packet")
    if packet.get("type") not in (2, 5):
        raise RemoteProtocolError(f"broadcast packet type {packet.get('type')!r} is not EVENT")
    nsp, args = packet.get("nsp", "/"), packet.get("data")
    if not isinstance(nsp, str) or not isinstance(args, list) or not args:
        raise RemoteProtocolError("a broadcast packet needs nsp and data [event, ...]")
    if not isinstance(args[0], str):
        raise RemoteProtocolError("a broadcast's event name must be a string")
    return nsp, args


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


def _need(value: str | None, what: str) -> str:
    if value is None:
        raise RemoteProtocolError(f"{what} is missing")
    return value


def decode_request(
    data: bytes, *, on_date: Callable[[int], Any]
) -> tuple[str | None, str | None, Message]:
    """Read a request: ``(uid, namespace, message)``; the uid is None from an emitter, the
    namespace None unless the request names one (an acked broadcast's packet does).

    Raises:
        RemoteProtocolError: not JSON/msgpack, an unknown or legacy type, or fields of the
            wrong type.
    """
    body = _decode_body(data, on_date)
    rtype = body.get("type")
    if isinstance(rtype, bool) or not isinstance(rtype, int):
        raise RemoteProtocolError("request type must be an integer")
    uid, rid = _opt_str(body, "uid"), _opt_str(body, "requestId")
    raw_opts = body.get("opts")
    opts = opts_from_wire(raw_opts) if raw_opts is not None else None
    nsp: str | None = None
    message: Message
    if (
        rtype
        in (
            RequestType.REMOTE_JOIN,
            RequestType.REMOTE_LEAVE,
            RequestType.REMOTE_DISCONNECT,
            RequestType.REMOTE_FETCH,
        )
        and opts is None
    ):
        raise RemoteProtocolError(f"request type {rtype} needs opts (the legacy form is not read)")
    if rtype == RequestType.REMOTE_JOIN:
        assert opts is not None
        message = SocketsJoin(opts, tuple(sorted(_rooms(body.get("rooms"), "rooms"))))
    elif rtype == RequestType.REMOTE_LEAVE:
        assert opts is not None
        message = SocketsLeave(opts, tuple(sorted(_rooms(body.get("rooms"), "rooms"))))
    elif rtype == RequestType.REMOTE_DISCONNECT:
        assert opts is not None
        message = DisconnectSockets(opts, bool(body.get("close")))
    elif rtype == RequestType.REMOTE_FETCH:
        assert opts is not None
        message = FetchSockets(opts, _need(rid, "requestId"))
    elif rtype == RequestType.ALL_ROOMS:
        message = AllRooms(_need(rid, "requestId"))
    elif rtype == RequestType.SERVER_SIDE_EMIT:
        sse = body.get("data")
        if not isinstance(sse, list) or not sse or not isinstance(sse[0], str):
            raise RemoteProtocolError("serverSideEmit data must be [event, ...]")
        message = ServerSideEmit(sse, rid)
    elif rtype == RequestType.BROADCAST:
        nsp, args = _packet(body.get("packet"))
        message = Broadcast(opts or opts_from_wire({}), args, _need(rid, "requestId"))
    else:
        raise RemoteProtocolError(f"request type {rtype} is not read")
    return uid, nsp, message


def decode_response(data: bytes, *, on_date: Callable[[int], Any]) -> Response:
    """Read a response.

    Raises:
        RemoteProtocolError: not JSON/msgpack, no ``requestId``, or fields of the wrong type.
    """
    body = _decode_body(data, on_date)
    rid = _need(_opt_str(body, "requestId"), "requestId")
    rtype = body.get("type")
    if rtype == RequestType.BROADCAST_ACK:
        return BroadcastAck(rid, body.get("packet"))
    if rtype == RequestType.BROADCAST_CLIENT_COUNT:
        count = body.get("clientCount")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise RemoteProtocolError("clientCount must be a count")
        return BroadcastClientCount(rid, count)
    if rtype == RequestType.SERVER_SIDE_EMIT:
        return ServerSideEmitResponse(rid, body.get("data"))
    if "sockets" in body:
        sockets = body["sockets"]
        if not isinstance(sockets, list) or not all(isinstance(s, dict) for s in sockets):
            raise RemoteProtocolError("response sockets must be a list of objects")
        return FetchSocketsResponse(rid, tuple(sockets))
    if "rooms" in body:
        return AllRoomsResponse(rid, _rooms(body["rooms"], "rooms"))
    raise RemoteProtocolError("a response of no known kind")


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
