"""Socket.IO packets: the text encoding, binary attachments, and a strict decoder.

Wire form (PROTOCOL.md 2.1)::

    <type>[<attachments>-][<nsp>,][<ack id>][<JSON payload>]

followed, for BINARY_EVENT / BINARY_ACK, by one Engine.IO binary message per attachment. The
values handled here are Engine.IO *message payloads*: the Engine.IO ``4`` prefix is the
Engine.IO layer's business.

Decisions worth knowing (all enforced by :class:`Decoder`, PROTOCOL.md 2.2):

* Payload shapes are checked strictly, also where socket.io-parser is lax: EVENT and ACK need
  a payload, ACK needs an id, and CONNECT / DISCONNECT / CONNECT_ERROR must not carry one.
* In a binary packet, every object with a ``_placeholder`` key must be exactly
  ``{"_placeholder": true, "num": k}`` with an int ``0 <= k < attachments``. Like Node, an
  attachment may be referenced twice or not at all; the number of binary messages received
  must still equal the announced count. Plain (non-binary) packets are left untouched.
* Protocol 4 (socket.io 2.x, PROTOCOL.md 4): a CONNECT's namespace may carry a query
  (``0/admin?token=abc,``). The decoder strips it from ``namespace`` and puts the parsed
  query (a ``dict[str, str]``, last value wins) in ``data``; without a query ``data`` is None.
  A JSON payload on a protocol-4 CONNECT is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from .. import _json
from ..errors import LocalProtocolError, RemoteProtocolError
from ..limits import DEFAULT_LIMITS, Limits
from ._binary import BYTES_TYPES, Slot, deconstruct, find_placeholders, reconstruct

__all__ = (
    "RESERVED_EVENTS",
    "Decoder",
    "Packet",
    "PacketType",
    "encode",
    "encode_ack",
    "encode_connect",
    "encode_event",
)


class PacketType(IntEnum):
    """The Socket.IO packet types (PROTOCOL.md 2.1)."""

    CONNECT = 0
    DISCONNECT = 1
    EVENT = 2
    ACK = 3
    CONNECT_ERROR = 4
    BINARY_EVENT = 5
    BINARY_ACK = 6


#: Event names a peer may not use (socket.io-parser's RESERVED_EVENTS, PROTOCOL.md 2.2).
RESERVED_EVENTS: Final = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


@dataclass(frozen=True, slots=True)
class Packet:
    """One Socket.IO packet.

    Attributes:
        type: the packet type. Decoded binary packets keep BINARY_EVENT / BINARY_ACK.
        namespace: the namespace, always starting with ``/``.
        data: the JSON payload (``bytes`` in place of placeholders once decoded), or None.
        id: the ack id, or None.
    """

    type: PacketType
    namespace: str = "/"
    data: Any = None
    id: int | None = None


_TYPE_CHARS: Final = {str(t.value): t for t in PacketType}
#: The common packet is an EVENT or ACK on ``/``, an optional ack id, then the JSON array;
#: the longest ack id the fast head reads (longer ones take the general parse).
_MAX_FAST_DIGITS: Final = 16
#: Enum members the per-message path reads, as module constants: on Python 3.11 reading
#: ``PacketType.EVENT`` goes through the enum metaclass's ``__getattr__`` hook (~80 ns), a
#: global ~6 ns.
_EVENT: Final = PacketType.EVENT
_ACK: Final = PacketType.ACK
_CONNECT: Final = PacketType.CONNECT
#: A CONNECT to "/" without payload: one frozen packet is every client's.
_CONNECT_ROOT: Final = Packet(PacketType.CONNECT)
_BINARY_OF = {PacketType.EVENT: PacketType.BINARY_EVENT, PacketType.ACK: PacketType.BINARY_ACK}
_PLAIN_OF = {PacketType.BINARY_EVENT: PacketType.EVENT, PacketType.BINARY_ACK: PacketType.ACK}


# --------------------------------------------------------------------------- encoding


class _HasBinary(Exception):
    """Raised from the JSON ``default`` hook when the value holds bytes."""


def _no_binary(obj: Any) -> Any:
    if isinstance(obj, BYTES_TYPES):
        raise _HasBinary
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


#: JSON for a packet's data; raises _HasBinary at the first bytes (then it is a BINARY_*).
_dumps_no_binary: Final = _json.dumper(_no_binary)


def check_event_args(data: Any) -> None:
    """Refuse EVENT data that is not ``[name, *args]`` with a usable name (both parsers).

    Raises:
        LocalProtocolError: the data is empty or not a list, or the name is reserved or
            neither a string nor a number.
    """
    if not isinstance(data, (list, tuple)) or not data:
        raise LocalProtocolError("EVENT data must be a non-empty list [name, *args]")
    name = data[0]
    if isinstance(name, str):
        if name in RESERVED_EVENTS:
            raise LocalProtocolError(f"{name!r} is a reserved event name")
    elif isinstance(name, bool) or not isinstance(name, (int, float)):
        raise LocalProtocolError("an event name must be a string or a number")


_DIGIT: Final = tuple(str(t.value) for t in sorted(PacketType))


def _header(ptype: PacketType, namespace: str, ack_id: int | None) -> str:
    head = _DIGIT[ptype]
    if namespace != "/":
        head += namespace + ","
    if ack_id is not None:
        head += str(ack_id)
    return head


def _encode_binary(
    ptype: PacketType, namespace: str, data: Any, ack_id: int | None
) -> list[str | bytes]:
    data, attachments = deconstruct(data)
    payload = _json.dumps(data)
    head = f"{_BINARY_OF[ptype].value}{len(attachments)}-" + _header(ptype, namespace, ack_id)[1:]
    return [head + payload, *attachments]


def encode(packet: Packet, *, protocol: int = 5) -> list[str | bytes]:
    """Encode a packet into Engine.IO message payloads.

    The first item is the text header; each following item is one binary attachment. An
    EVENT/ACK whose data holds ``bytes``, ``bytearray`` or ``memoryview`` at any depth goes
    out as BINARY_EVENT/BINARY_ACK with ``{"_placeholder":true,"num":k}`` placeholders; a
    BINARY_* packet without bytes goes out as plain EVENT/ACK. The result holds no reference
    to the packet, so one encoding can be written to many sessions (broadcast).

    Protocol 4 (PROTOCOL.md 4): a CONNECT never has a JSON payload; a dict ``data`` is
    written as a query on the namespace (``0/admin?token=abc,``).

    Args:
        packet: the packet to encode.
        protocol: the Socket.IO protocol revision, 5 (default) or 4.

    Raises:
        LocalProtocolError: the packet breaks PROTOCOL.md 2.1/2.2 (namespace not starting
            with ``/`` or holding ``,``; EVENT data that is not ``[name, ...]`` or uses a
            reserved name; ACK without an id or with non-list data; an id on a type that has
            none; a payload on DISCONNECT; data JSON cannot hold).
    """
    ptype, namespace, data, ack_id = packet.type, packet.namespace, packet.data, packet.id
    # The hot path: an event to "/" with no ack and no bytes is one dumps and a concat.
    if ptype is _EVENT and namespace == "/" and ack_id is None:
        return encode_event(namespace, data, None)
    if ptype is _ACK and protocol != 4:
        # Protocol 4 goes the long way: its namespace may not hold "?" (see _encode_other).
        return encode_ack(namespace, ack_id, data)
    if ptype is _CONNECT and ack_id is None:
        return encode_connect(namespace, data, protocol)
    return _encode_other(packet, protocol)


def _encode_other(packet: Packet, protocol: int) -> list[str | bytes]:
    """:func:`encode` past its fast paths: every check, every type."""
    ptype, namespace, data, ack_id = packet.type, packet.namespace, packet.data, packet.id
    if not isinstance(namespace, str) or not namespace.startswith("/") or "," in namespace:
        raise LocalProtocolError(f"invalid namespace {namespace!r}")
    if protocol == 4 and "?" in namespace:
        # Protocol 4 reads "?" as the start of the handshake query (PROTOCOL.md 4).
        raise LocalProtocolError(f"a protocol 4 namespace cannot hold '?': {namespace!r}")
    if ack_id is not None and (
        isinstance(ack_id, bool) or not isinstance(ack_id, int) or ack_id < 0
    ):
        raise LocalProtocolError(f"invalid ack id {ack_id!r}")
    ptype = PacketType(ptype)
    ptype = _PLAIN_OF.get(ptype, ptype)
    if ptype is PacketType.EVENT or ptype is PacketType.ACK:
        if ptype is PacketType.EVENT:
            check_event_args(data)
        else:
            if ack_id is None:
                raise LocalProtocolError("an ACK needs an id")
            if not isinstance(data, (list, tuple)):
                raise LocalProtocolError("ACK data must be a list")
        try:
            return [_header(ptype, namespace, ack_id) + _dumps_no_binary(data)]
        except _HasBinary:
            return _encode_binary(ptype, namespace, data, ack_id)
    if ack_id is not None:
        raise LocalProtocolError(f"a {ptype.name} packet has no ack id")
    head = _header(ptype, namespace, None)
    if ptype is PacketType.CONNECT:
        if data is None:
            return [head]
        if not isinstance(data, dict):
            raise LocalProtocolError("CONNECT data must be a dict or None")
        if protocol == 4:
            # Protocol 4 carries the handshake as a query on the namespace (PROTOCOL.md 4).
            try:
                query = urlencode(data)
            except UnicodeEncodeError:
                raise LocalProtocolError("a CONNECT query must be valid Unicode text") from None
            return [f"0{namespace}?{query},"] if data else [head]
        return [head + _json.dumps(data)]
    if ptype is PacketType.DISCONNECT:
        if data is not None:
            raise LocalProtocolError("a DISCONNECT packet has no payload")
        return [head]
    # CONNECT_ERROR: {"message", "data"?} in protocol 5, a JSON string in protocol 4.
    if not isinstance(data, dict | str):
        raise LocalProtocolError("CONNECT_ERROR data must be a dict or a str")
    return [head + _json.dumps(data)]


def encode_connect(namespace: str, data: Any, protocol: int = 5) -> list[str | bytes]:
    """Encode a CONNECT: :func:`encode` without building a :class:`Packet` first (every
    connection's server sends one, ``0{"sid":...}``).

    Raises:
        LocalProtocolError: see :func:`encode`.
    """
    if namespace == "/" and type(data) is dict and protocol != 4:
        return ["0" + _json.dumps(data)]  # the usual reply: nothing else to check
    return _encode_other(Packet(_CONNECT, namespace, data), protocol)


def encode_event(namespace: str, args: Any, ack_id: int | None) -> list[str | bytes]:
    """Encode an EVENT (BINARY_EVENT when ``args`` holds bytes): :func:`encode` without
    building a :class:`Packet` first (what every emit sends).

    Raises:
        LocalProtocolError: see :func:`encode`.
    """
    if namespace == "/" and ack_id is None:
        check_event_args(args)
        try:
            return ["2" + _dumps_no_binary(args)]
        except _HasBinary:
            return _encode_binary(PacketType.EVENT, namespace, args, None)
    return encode(Packet(PacketType.EVENT, namespace, args, ack_id))


def encode_ack(namespace: str, ack_id: int | None, args: Any) -> list[str | bytes]:
    """Encode ``ACK`` (or ``BINARY_ACK`` when ``args`` holds bytes): :func:`encode` without
    building a :class:`Packet` first (an answer is the most common packet a server sends).

    Raises:
        LocalProtocolError: see :func:`encode`.
    """
    if namespace == "/" and type(ack_id) is int and ack_id >= 0 and type(args) is list:
        try:  # the usual answer: to "/", a list of values
            return ["3" + str(ack_id) + _dumps_no_binary(args)]
        except _HasBinary:
            return _encode_binary(PacketType.ACK, namespace, args, ack_id)
    if isinstance(ack_id, bool) or not isinstance(ack_id, int) or ack_id < 0:
        raise LocalProtocolError(
            "an ACK needs an id" if ack_id is None else f"invalid ack id {ack_id!r}"
        )
    if not isinstance(args, (list, tuple)):
        raise LocalProtocolError("ACK data must be a list")
    if namespace == "/":
        head = "3" + str(ack_id)
    elif isinstance(namespace, str) and namespace.startswith("/") and "," not in namespace:
        head = "3" + namespace + "," + str(ack_id)
    else:
        raise LocalProtocolError(f"invalid namespace {namespace!r}")
    try:
        return [head + _dumps_no_binary(args)]
    except _HasBinary:
        return _encode_binary(PacketType.ACK, namespace, args, ack_id)


# --------------------------------------------------------------------------- decoding


def _bad(why: str) -> RemoteProtocolError:
    return RemoteProtocolError(f"invalid Socket.IO packet: {why}")


def check_data_payload(is_event: bool, data: Any, ack_id: int | None) -> None:
    """The payload rules of an EVENT (``is_event``) or an ACK, whatever the parser
    (PROTOCOL.md 2.2 #5).

    Raises:
        RemoteProtocolError: the payload breaks them.
    """
    if is_event:
        if not isinstance(data, list) or not data:
            raise _bad("EVENT payload must be a non-empty array")
        name = data[0]
        if isinstance(name, str):
            if name in RESERVED_EVENTS:
                raise _bad(f"reserved event name {name!r}")
        elif isinstance(name, bool) or not isinstance(name, (int, float)):
            raise _bad("event name must be a string or a number")
        return
    if not isinstance(data, list):
        raise _bad("ACK payload must be an array")
    if ack_id is None:
        raise _bad("ACK without an id")


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


class Decoder:
    """Turns Engine.IO message payloads into :class:`Packet` objects (PROTOCOL.md 2.2).

    Feed every message payload of one Engine.IO session, text and binary, in order. After an
    error the decoder forgets any half-received binary packet; the session should be closed
    anyway (PROTOCOL.md 2.2: any decode error closes the whole Engine.IO session).

    Args:
        limits: the bounds to enforce (attachments, ack id digits, namespace length, depth).
        protocol: the Socket.IO protocol revision of the peer, 5 (default) or 4.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS, *, protocol: int = 5) -> None:
        if protocol not in (4, 5):
            raise LocalProtocolError(f"unsupported Socket.IO protocol {protocol!r}")
        self._limits = limits
        self._protocol = protocol
        self._pending: Packet | None = None
        self._expected = 0
        self._attachments: list[bytes] = []
        self._slots: list[Slot] = []

    @property
    def awaiting_attachments(self) -> int:
        """How many binary messages the current binary packet still waits for.

        For inspection: the I/O layer does not need it; tests and the fuzz harness check that
        it stays within ``Limits.max_attachments`` and drops to 0 after an error.
        """
        return self._expected - len(self._attachments)

    def feed(self, message: str | bytes) -> Packet | None:
        """Take one Engine.IO message payload.

        Args:
            message: a text message (a packet header) or a binary message (an attachment).

        Returns:
            The finished packet, or None while a binary packet waits for attachments.

        Raises:
            RemoteProtocolError: the message is invalid per PROTOCOL.md 2.2 (the only
                exception this method raises on peer input).
        """
        try:
            if isinstance(message, str):
                return self._feed_text(message)
            if isinstance(message, BYTES_TYPES):
                return self._feed_binary(bytes(message))
        except RemoteProtocolError:
            self._reset()
            raise
        raise LocalProtocolError(f"expected str or bytes, got {type(message).__name__}")

    def decode_common(self, text: str) -> tuple[PacketType, int | None, Any] | None:
        """The common packet, parsed the way :meth:`feed` parses it, minus the scanning and
        the :class:`Packet`: an EVENT or ACK on ``/`` with no attachments, as
        ``(type, ack id, data)``. None for any other text (give it to :meth:`feed`); never
        changes the decoder's state.

        Raises:
            RemoteProtocolError: it is an EVENT/ACK on ``/`` with a bad payload.
        """
        if self._pending is not None:
            return None
        # The heads "2[", "2<id>[" and "3<id>[", read without a regex (the decoder's hot path).
        head = text[:1]
        if head == "2":
            kind = _EVENT
        elif head == "3":
            kind = _ACK
        else:
            return None
        ack_id = None
        start = 1
        if text[1:2] != "[":
            start = text.find("[", 2, 2 + _MAX_FAST_DIGITS)
            if start == -1:
                return None
            digits = text[1:start]
            if not (digits.isascii() and digits.isdigit()):
                return None
            if len(digits) > self._limits.max_ack_id_digits:
                return None  # the general parse says why
            ack_id = int(digits)
        data = _json.loads(text[start:], max_depth=self._limits.max_json_depth)
        if kind is _EVENT and type(data) is list and data and type(data[0]) is str:
            if data[0] in RESERVED_EVENTS:
                raise _bad(f"reserved event name {data[0]!r}")
        else:
            check_data_payload(kind is _EVENT, data, ack_id)
        return kind, ack_id, data

    def _reset(self) -> None:
        self._pending = None
        self._expected = 0
        self._attachments = []
        self._slots = []

    def _feed_binary(self, message: bytes) -> Packet | None:
        if self._pending is None:
            raise _bad("binary message while no attachment is expected")
        self._attachments.append(message)
        if len(self._attachments) < self._expected:
            return None
        reconstruct(self._slots, self._attachments)
        packet = self._pending
        self._reset()
        return packet

    def _feed_text(self, text: str) -> Packet | None:
        limits = self._limits
        if self._pending is not None:
            raise _bad("text message while binary attachments are pending")
        if text == "0":
            return _CONNECT_ROOT  # the usual CONNECT: to "/", without auth
        common = self.decode_common(text)
        if common is not None:
            return Packet(common[0], "/", common[2], common[1])
        if not text:
            raise _bad("empty message")
        ptype = _TYPE_CHARS.get(text[0])
        if ptype is None:
            raise _bad(f"unknown packet type {text[0]!r}")
        i = 1
        n = len(text)
        count = 0
        if ptype is PacketType.BINARY_EVENT or ptype is PacketType.BINARY_ACK:
            dash = text.find("-", 1, 2 + len(str(limits.max_attachments)))
            if dash == -1 or not _is_ascii_digits(text[1:dash]):
                raise _bad("missing or malformed attachment count")
            count = int(text[1:dash])
            if not 1 <= count <= limits.max_attachments:
                raise _bad(f"attachment count {count} not in 1..{limits.max_attachments}")
            i = dash + 1
        # Namespace: from "/" to the first "," or the end of the text (PROTOCOL.md 2.2 #3).
        namespace = "/"
        query: dict[str, str] | None = None
        if i < n and text[i] == "/":
            # Protocol 4 may carry a handshake query after the name (a token can be long);
            # protocol 5 stops looking once the name would be too long.
            stop = n if self._protocol == 4 else i + limits.max_namespace_length + 1
            comma = text.find(",", i, stop)
            end = n if comma == -1 else comma
            namespace = text[i:end]
            i = end + 1 if comma != -1 else n
            if self._protocol == 4 and "?" in namespace:
                namespace, _, qs = namespace.partition("?")
                if ptype is not PacketType.CONNECT:
                    raise _bad("a query is only allowed on CONNECT")
                query = dict(parse_qsl(qs, keep_blank_values=True))
            if len(namespace) > limits.max_namespace_length:
                raise _bad("namespace too long")
        # Ack id: the longest run of digits (PROTOCOL.md 2.2 #4).
        ack_id: int | None = None
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
            if i - start > limits.max_ack_id_digits:
                raise _bad("ack id too long")
        if i > start:
            ack_id = int(text[start:i])
        data: Any = _json.loads(text[i:], max_depth=limits.max_json_depth) if i < n else None
        has_payload = i < n
        self._check_shape(ptype, data, has_payload, ack_id)
        if query is not None:
            data = query
        packet = Packet(ptype, namespace, data, ack_id)
        if count == 0:
            return packet
        self._slots = find_placeholders(data, count)
        self._pending = packet
        self._expected = count
        return None

    def _check_shape(
        self, ptype: PacketType, data: Any, has_payload: bool, ack_id: int | None
    ) -> None:
        # PROTOCOL.md 2.2 #5, stricter than socket.io-parser where noted in the module doc.
        if ptype is PacketType.CONNECT:
            if has_payload and (self._protocol == 4 or not isinstance(data, dict)):
                raise _bad("CONNECT payload must be an object")
        elif ptype is PacketType.DISCONNECT:
            if has_payload:
                raise _bad("DISCONNECT carries no payload")
        elif ptype is PacketType.CONNECT_ERROR:
            if not isinstance(data, dict | str):
                raise _bad("CONNECT_ERROR payload must be an object or a string")
        else:  # EVENT, ACK and their binary forms
            check_data_payload(
                ptype is PacketType.EVENT or ptype is PacketType.BINARY_EVENT, data, ack_id
            )
            return
        if ack_id is not None:
            raise _bad(f"{ptype.name} carries no ack id")
