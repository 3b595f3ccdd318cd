"""The msgpack parser: Socket.IO packets as MessagePack maps, wire-compatible with npm's
``socket.io-msgpack-parser`` (3.x, protocol 5).

Each packet is one Engine.IO *binary* message holding one MessagePack map::

    {"type": 2, "data": ["chat", {"text": "hi"}, <bin>], "nsp": "/", "id": 7}

``type`` is 0..4 (CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR): there are no BINARY_*
types and no attachments, since MessagePack carries bytes itself (``bin``). ``id`` is left
out when there is no ack id; ``data`` is left out when the packet has none (CONNECT without
auth, DISCONNECT). Node's parser writes with notepack.io 2, so the reading side is
:func:`thinkio._msgpack.unpackb` (notepack's ``undefined``, ``Date`` and ``ArrayBuffer``
extensions; see that module for why it is hand-written); writing goes through the
``msgpack`` package's C packer (:func:`thinkio._msgpack.packb`). Other keys in the map are
ignored: the JS client adds ``options`` (``{"compress": true}``) to every packet it sends.

What the decoder checks (socket.io-msgpack-parser's ``checkPacket``, plus the stricter rules
of :mod:`.packets` where the two differ):

* the message is binary and one MessagePack map; ``type`` an integer 0..4; ``nsp`` a string
  no longer than ``limits.max_namespace_length``;
* ``data``: absent (or nil) or a map on CONNECT; absent (or nil) on DISCONNECT; a string or
  a map on CONNECT_ERROR; a non-empty array whose first item is a string or number and not
  a reserved name on EVENT; an array on ACK. (Node refuses nil where it wants
  ``undefined``; notepack 3 writes ``undefined`` as nil, so thinkio accepts both.)
* ``id``: absent/nil, or a non-negative integer of at most ``limits.max_ack_id_digits``
  digits; required on ACK, refused on CONNECT, DISCONNECT and CONNECT_ERROR.

Anything else raises :class:`~thinkio.errors.RemoteProtocolError` ("parse error"), which
closes the Engine.IO session as Node's ``Client.ondata`` does on a decoder error.
"""

from __future__ import annotations

from typing import Any, Final

from .._msgpack import packb, unpackb
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from ._binary import BYTES_TYPES
from .packets import Packet, PacketType, check_data_payload, check_event_args

__all__ = ("MsgpackDecoder", "encode_msgpack", "encode_msgpack_ack")

_PLAIN_OF: Final = {
    PacketType.BINARY_EVENT: PacketType.EVENT,
    PacketType.BINARY_ACK: PacketType.ACK,
}
_TYPES: Final = {t.value: t for t in PacketType if t.value <= PacketType.CONNECT_ERROR}


# --------------------------------------------------------------------------- encoding


def _check_namespace(namespace: Any) -> None:
    if not isinstance(namespace, str) or not namespace.startswith("/"):
        raise LocalProtocolError(f"invalid namespace {namespace!r}")


def _check_id(ack_id: Any) -> None:
    if isinstance(ack_id, bool) or not isinstance(ack_id, int) or ack_id < 0:
        raise LocalProtocolError(f"invalid ack id {ack_id!r}")


def encode_msgpack(packet: Packet, *, protocol: int = 5) -> list[str | bytes]:
    """Encode a packet as one binary Engine.IO message (a MessagePack map).

    BINARY_EVENT / BINARY_ACK are written as EVENT / ACK: bytes need no attachments here.

    Args:
        packet: the packet to encode.
        protocol: accepted for the parser interface; the map is the same in both revisions.

    Raises:
        LocalProtocolError: the packet breaks the rules :func:`.packets.encode` enforces
            (namespace, event name, ack id, payload shape), or a value MessagePack cannot
            hold.
    """
    ptype, namespace, data, ack_id = packet.type, packet.namespace, packet.data, packet.id
    _check_namespace(namespace)
    ptype = _PLAIN_OF.get(ptype, ptype)
    if ptype is PacketType.ACK:
        return encode_msgpack_ack(namespace, ack_id, data)
    fields: dict[str, Any] = {"type": int(ptype)}
    if ptype is PacketType.EVENT:
        check_event_args(data)
        fields["data"] = data
        if ack_id is not None:
            _check_id(ack_id)
            fields["id"] = ack_id
    else:
        if ack_id is not None:
            raise LocalProtocolError(f"a {PacketType(ptype).name} packet has no ack id")
        if ptype is PacketType.CONNECT:
            if data is not None and not isinstance(data, dict):
                raise LocalProtocolError("CONNECT data must be a dict or None")
        elif ptype is PacketType.DISCONNECT:
            if data is not None:
                raise LocalProtocolError("a DISCONNECT packet has no payload")
        elif not isinstance(data, dict | str):
            raise LocalProtocolError("CONNECT_ERROR data must be a dict or a str")
        if data is not None:
            fields["data"] = data
    fields["nsp"] = namespace
    return [packb(fields)]


def encode_msgpack_event(namespace: str, args: Any, ack_id: int | None) -> list[str | bytes]:
    """Encode an EVENT as one binary message (see :func:`encode_msgpack`)."""
    return encode_msgpack(Packet(PacketType.EVENT, namespace, args, ack_id))


def encode_msgpack_ack(namespace: str, ack_id: int | None, args: Any) -> list[str | bytes]:
    """Encode an ACK as one binary message (:func:`encode_msgpack` without the Packet).

    Raises:
        LocalProtocolError: see :func:`encode_msgpack`.
    """
    if ack_id is None:
        raise LocalProtocolError("an ACK needs an id")
    _check_id(ack_id)
    _check_namespace(namespace)
    if not isinstance(args, list | tuple):
        raise LocalProtocolError("ACK data must be a list")
    return [packb({"type": 3, "data": args, "nsp": namespace, "id": ack_id})]


# --------------------------------------------------------------------------- decoding


def _bad(why: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"invalid msgpack Socket.IO packet: {why}")


def _keep_date_as_ms(ms: int) -> int:
    # A JS Date arrives as its milliseconds since the epoch: no range to overflow, and the
    # same value JSON-minded handlers would get from Date.prototype.getTime().
    return ms


class MsgpackDecoder:
    """Turns binary Engine.IO messages into :class:`.packets.Packet` objects.

    The same interface as :class:`.packets.Decoder`, so a connection picks one of the two
    once, when it is made. Stateless between messages: every packet is one message.

    Args:
        limits: the bounds to enforce (namespace length, ack id digits, nesting depth).
        protocol: the Socket.IO protocol revision (the map is the same in both).
    """

    __slots__ = ("_limits",)

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, protocol: int = 5) -> None:
        if protocol not in (4, 5):
            raise LocalProtocolError(f"unsupported Socket.IO protocol {protocol!r}")
        self._limits = limits

    @property
    def awaiting_attachments(self) -> int:
        """Always 0: this parser has no attachments."""
        return 0

    def decode_common(self, text: str) -> None:
        """None: text is never a msgpack packet (:meth:`feed` says why)."""
        return None

    def feed(self, message: str | bytes) -> Packet:
        """Decode one Engine.IO message payload.

        Returns:
            The packet (never None: there are no attachments to wait for).

        Raises:
            RemoteProtocolError: the message is text, not exactly one MessagePack map, or the
                map is not a valid packet (see the module docstring).
        """
        if isinstance(message, str):
            raise _bad("a text message (the msgpack parser reads binary messages only)")
        if not isinstance(message, BYTES_TYPES):
            raise LocalProtocolError(f"expected str or bytes, got {type(message).__name__}")
        limits = self._limits
        # One level for the packet map itself, then JSON's depth for the data.
        fields = unpackb(message, max_depth=limits.max_json_depth + 1, on_date=_keep_date_as_ms)
        if not isinstance(fields, dict):
            raise _bad(f"expected a map, got {type(fields).__name__}")
        raw_type = fields.get("type")
        # An int, not a bool (an int subclass) and not a list (unhashable: fuzz-found).
        ptype = _TYPES.get(raw_type) if type(raw_type) is int else None
        if ptype is None:
            raise _bad("invalid packet type")
        namespace = fields.get("nsp")
        if not isinstance(namespace, str):
            raise _bad("invalid namespace")
        if len(namespace) > limits.max_namespace_length:
            raise _bad("namespace too long")
        ack_id = fields.get("id")
        if ack_id is not None and (
            isinstance(ack_id, bool)
            or not isinstance(ack_id, int)
            or ack_id < 0
            or len(str(ack_id)) > limits.max_ack_id_digits
        ):
            raise _bad("invalid packet id")
        data = fields.get("data")
        _check_payload(ptype, data, ack_id)
        return Packet(ptype, namespace, data, ack_id)


def _check_payload(ptype: PacketType, data: Any, ack_id: int | None) -> None:
    if ptype is PacketType.EVENT or ptype is PacketType.ACK:
        check_data_payload(ptype is PacketType.EVENT, data, ack_id)
        return
    if ptype is PacketType.CONNECT:
        if data is not None and not isinstance(data, dict):
            raise _bad("CONNECT payload must be a map")
    elif ptype is PacketType.DISCONNECT:
        if data is not None:
            raise _bad("DISCONNECT carries no payload")
    elif not isinstance(data, dict | str):
        raise _bad("CONNECT_ERROR payload must be a map or a string")
    if ack_id is not None:
        raise _bad(f"{ptype.name} carries no ack id")
