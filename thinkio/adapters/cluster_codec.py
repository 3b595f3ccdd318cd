"""Node's ``ClusterAdapter`` message model (socket.io-adapter 2.5), sans-IO.

The messages of :mod:`.messages` as the plain objects ``{uid, nsp, type, data}`` that Node's
``ClusterAdapter`` publishes (REDIS-INTEROP.md C2): the sharded Redis adapter and the
Redis Streams adapter put these on their wire (as JSON, MessagePack, or a stream entry),
and thinkio's worker bus does too (as MessagePack), so one codec serves the three.

:func:`from_dict` returns a frozen, validated message or raises
:class:`~thinkio.errors.RemoteProtocolError`; nothing else leaves it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from ..errors import RemoteProtocolError
from .messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    HandedSession,
    Message,
    Response,
    RestoreSession,
    RestoreSessionResponse,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from .wire import js_room, opts_from_wire, opts_to_wire

__all__ = ("MAY_CARRY_BINARY", "MessageType", "from_dict", "has_binary", "to_dict")


class MessageType(IntEnum):
    """socket.io-adapter's ``MessageType``; those from 100 on are thinkio's own."""

    INITIAL_HEARTBEAT = 1
    HEARTBEAT = 2
    BROADCAST = 3
    SOCKETS_JOIN = 4
    SOCKETS_LEAVE = 5
    DISCONNECT_SOCKETS = 6
    FETCH_SOCKETS = 7
    FETCH_SOCKETS_RESPONSE = 8
    SERVER_SIDE_EMIT = 9
    SERVER_SIDE_EMIT_RESPONSE = 10
    BROADCAST_CLIENT_COUNT = 11
    BROADCAST_ACK = 12
    ADAPTER_CLOSE = 13
    #: thinkio only (Node's model has no ``allRooms``); Node ignores unknown types.
    ALL_ROOMS = 100
    ALL_ROOMS_RESPONSE = 101
    #: thinkio only: connection state recovery across servers (the worker bus).
    RESTORE_SESSION = 102
    RESTORE_SESSION_RESPONSE = 103


#: Types whose ``data`` may hold binary (Node then sends the message as MessagePack).
MAY_CARRY_BINARY = frozenset(
    {
        MessageType.BROADCAST,
        MessageType.BROADCAST_ACK,
        MessageType.FETCH_SOCKETS_RESPONSE,
        MessageType.SERVER_SIDE_EMIT,
        MessageType.SERVER_SIDE_EMIT_RESPONSE,
        MessageType.RESTORE_SESSION_RESPONSE,
    }
)


def has_binary(value: Any) -> bool:
    """Whether a value holds bytes anywhere (Node's ``hasBinary``)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if isinstance(value, list | tuple):
        return any(has_binary(v) for v in value)
    if isinstance(value, dict):
        return any(has_binary(v) for v in value.values())
    return False


def to_dict(uid: str, namespace: str, message: Message | Response) -> dict[str, Any]:
    """``{uid, nsp, type, data}`` for a message or response."""
    mtype: MessageType
    data: dict[str, Any]
    if isinstance(message, Broadcast):
        mtype = MessageType.BROADCAST
        packet = {"type": 2, "data": message.data, "nsp": namespace}
        data = {"opts": opts_to_wire(message.opts, flags=True), "packet": packet}
        if message.request_id is not None:
            data["requestId"] = message.request_id
    elif isinstance(message, SocketsJoin | SocketsLeave):
        join = isinstance(message, SocketsJoin)
        mtype = MessageType.SOCKETS_JOIN if join else MessageType.SOCKETS_LEAVE
        data = {"opts": opts_to_wire(message.opts, flags=True), "rooms": list(message.rooms)}
    elif isinstance(message, DisconnectSockets):
        mtype = MessageType.DISCONNECT_SOCKETS
        data = {"opts": opts_to_wire(message.opts, flags=True), "close": message.close}
    elif isinstance(message, FetchSockets):
        mtype = MessageType.FETCH_SOCKETS
        data = {"opts": opts_to_wire(message.opts, flags=True), "requestId": message.request_id}
    elif isinstance(message, ServerSideEmit):
        mtype, data = MessageType.SERVER_SIDE_EMIT, {"packet": message.data}
        if message.request_id is not None:
            data["requestId"] = message.request_id
    elif isinstance(message, AllRooms):
        mtype, data = MessageType.ALL_ROOMS, {"requestId": message.request_id}
    elif isinstance(message, RestoreSession):
        mtype = MessageType.RESTORE_SESSION
        data = {"requestId": message.request_id, "pid": message.pid, "offset": message.offset}
    elif isinstance(message, RestoreSessionResponse):
        mtype = MessageType.RESTORE_SESSION_RESPONSE
        data = {"requestId": message.request_id, "session": _handed(message.session)}
    elif isinstance(message, FetchSocketsResponse):
        mtype = MessageType.FETCH_SOCKETS_RESPONSE
        data = {"requestId": message.request_id, "sockets": list(message.sockets)}
    elif isinstance(message, ServerSideEmitResponse):
        mtype = MessageType.SERVER_SIDE_EMIT_RESPONSE
        data = {"requestId": message.request_id, "packet": message.value}
    elif isinstance(message, BroadcastClientCount):
        mtype = MessageType.BROADCAST_CLIENT_COUNT
        data = {"requestId": message.request_id, "clientCount": message.count}
    elif isinstance(message, BroadcastAck):
        mtype = MessageType.BROADCAST_ACK
        data = {"requestId": message.request_id, "packet": message.value}
    else:
        mtype = MessageType.ALL_ROOMS_RESPONSE
        data = {"requestId": message.request_id, "rooms": sorted(message.rooms)}
    return {"uid": uid, "nsp": namespace, "type": int(mtype), "data": data}


def _handed(session: HandedSession | None) -> dict[str, Any] | None:
    if session is None:
        return None
    return {
        "sid": session.sid,
        "pid": session.pid,
        "rooms": list(session.rooms),
        "data": session.data,
        "missed": list(session.missed),
        "heard": session.heard,
    }


def _handed_from(value: Any) -> HandedSession | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RemoteProtocolError("session must be an object or null")
    missed, heard = value.get("missed"), value.get("heard")
    if not isinstance(missed, list) or not all(
        isinstance(m, list) and m and isinstance(m[0], str) for m in missed
    ):
        raise RemoteProtocolError("missed must be a list of [event, ...]")
    if not isinstance(heard, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in heard.items()
    ):
        raise RemoteProtocolError("heard must map server prefixes to counters")
    return HandedSession(
        _str(value, "sid"),
        _str(value, "pid"),
        _rooms(value.get("rooms")),
        value.get("data"),
        tuple(missed),
        heard,
    )


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise RemoteProtocolError(f"{key} must be a string")
    return value


def _rooms(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RemoteProtocolError("rooms must be a list")
    return tuple(js_room(v) for v in value)


def from_dict(value: Any) -> tuple[str | None, str, Message | Response | None]:
    """Read ``{uid, nsp, type, data}``: ``(uid, namespace, message)``.

    The message is None for heartbeats and other types that carry no operation.

    Raises:
        RemoteProtocolError: not such an object, or fields of the wrong type.
    """
    if not isinstance(value, dict):
        raise RemoteProtocolError("a cluster message must be an object")
    uid, nsp, mtype = value.get("uid"), value.get("nsp", "/"), value.get("type")
    if uid is not None and not isinstance(uid, str):
        raise RemoteProtocolError("uid must be a string")
    if not isinstance(nsp, str):
        raise RemoteProtocolError("nsp must be a string")
    if isinstance(mtype, bool) or not isinstance(mtype, int):
        raise RemoteProtocolError("type must be an integer")
    data = value.get("data")
    if mtype in (MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE):
        return uid, nsp, None
    if not isinstance(data, dict):
        raise RemoteProtocolError(f"message type {mtype} needs a data object")
    return uid, nsp, _message(mtype, data)


def _message(mtype: int, data: dict[str, Any]) -> Message | Response | None:
    if mtype not in _KNOWN:
        return None  # a type this version does not know: ignored, as Node does
    if mtype == MessageType.BROADCAST:
        packet = data.get("packet")
        if not isinstance(packet, dict) or packet.get("type") not in (2, 5):
            raise RemoteProtocolError("a broadcast needs an EVENT packet")
        args = packet.get("data")
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            raise RemoteProtocolError("a broadcast packet needs data [event, ...]")
        rid = data.get("requestId")
        return Broadcast(
            opts_from_wire(data.get("opts")),
            args,
            _str(data, "requestId") if rid is not None else None,
        )
    if mtype in (MessageType.SOCKETS_JOIN, MessageType.SOCKETS_LEAVE):
        opts, rooms = opts_from_wire(data.get("opts")), _rooms(data.get("rooms"))
        return (
            SocketsJoin(opts, rooms)
            if mtype == MessageType.SOCKETS_JOIN
            else SocketsLeave(opts, rooms)
        )
    if mtype == MessageType.DISCONNECT_SOCKETS:
        return DisconnectSockets(opts_from_wire(data.get("opts")), bool(data.get("close")))
    if mtype == MessageType.FETCH_SOCKETS:
        return FetchSockets(opts_from_wire(data.get("opts")), _str(data, "requestId"))
    if mtype == MessageType.SERVER_SIDE_EMIT:
        packet = data.get("packet")
        if not isinstance(packet, list) or not packet or not isinstance(packet[0], str):
            raise RemoteProtocolError("a server-side emit needs packet [event, ...]")
        rid = data.get("requestId")
        return ServerSideEmit(packet, _str(data, "requestId") if rid is not None else None)
    if mtype == MessageType.ALL_ROOMS:
        return AllRooms(_str(data, "requestId"))
    if mtype == MessageType.RESTORE_SESSION:
        return RestoreSession(_str(data, "pid"), _str(data, "offset"), _str(data, "requestId"))
    rid = _str(data, "requestId")
    if mtype == MessageType.FETCH_SOCKETS_RESPONSE:
        sockets = data.get("sockets")
        if not isinstance(sockets, list) or not all(isinstance(s, dict) for s in sockets):
            raise RemoteProtocolError("sockets must be a list of objects")
        return FetchSocketsResponse(rid, tuple(sockets))
    if mtype == MessageType.SERVER_SIDE_EMIT_RESPONSE:
        return ServerSideEmitResponse(rid, data.get("packet"))
    if mtype == MessageType.BROADCAST_CLIENT_COUNT:
        count = data.get("clientCount")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise RemoteProtocolError("clientCount must be a count")
        return BroadcastClientCount(rid, count)
    if mtype == MessageType.BROADCAST_ACK:
        return BroadcastAck(rid, data.get("packet"))
    if mtype == MessageType.RESTORE_SESSION_RESPONSE:
        return RestoreSessionResponse(rid, _handed_from(data.get("session")))
    return AllRoomsResponse(rid, frozenset(_rooms(data.get("rooms"))))


_KNOWN = frozenset(int(t) for t in MessageType)
