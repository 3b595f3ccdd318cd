"""Golden Socket.IO wire vectors: one table for both encode and decode.

Wire messages are Engine.IO message payloads (no Engine.IO ``4`` prefix). Sources:
PROTOCOL.md 2.1 examples (``2.1``), the socket.io-protocol suite as listed in PROTOCOL.md 6
(``suite``), the polling walk-through in PROTOCOL.md 3 (``3``) and the protocol-4 notes in
PROTOCOL.md 4 (``4``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thinkio.socketio.packets import Packet, PacketType

CONNECT = PacketType.CONNECT
DISCONNECT = PacketType.DISCONNECT
EVENT = PacketType.EVENT
ACK = PacketType.ACK
CONNECT_ERROR = PacketType.CONNECT_ERROR
BINARY_EVENT = PacketType.BINARY_EVENT
BINARY_ACK = PacketType.BINARY_ACK


def ph(num: int) -> str:
    """A placeholder as the wire writes it."""
    return f'{{"_placeholder":true,"num":{num}}}'


@dataclass(frozen=True)
class Vector:
    """One wire exchange.

    Attributes:
        source: where it comes from (PROTOCOL.md section, or "suite").
        wire: the Engine.IO message payloads, header first.
        packet: the decoded packet.
        protocol: Socket.IO protocol revision (5, or 4 for socket.io 2.x).
        encodes_to: the canonical wire form when ``wire`` is an accepted non-canonical one
            (e.g. ``0/random`` without the comma); None when ``wire`` is canonical.
    """

    source: str
    wire: tuple[str | bytes, ...]
    packet: Packet
    protocol: int = 5
    encodes_to: tuple[str | bytes, ...] | None = field(default=None)

    @property
    def id(self) -> str:
        head = self.wire[0]
        assert isinstance(head, str)
        return f"v{self.protocol}:{head[:60]}"


def v(source: str, wire: str | tuple[str | bytes, ...], packet: Packet, **kw: Any) -> Vector:
    return Vector(source, (wire,) if isinstance(wire, str) else wire, packet, **kw)


VECTORS: list[Vector] = [
    # --- PROTOCOL.md 2.1 examples
    v("2.1", "0", Packet(CONNECT)),
    v("2.1", '0{"token":"123"}', Packet(CONNECT, "/", {"token": "123"})),
    v("2.1", '0/admin,{"token":"123"}', Packet(CONNECT, "/admin", {"token": "123"})),
    v(
        "2.1",
        '0{"sid":"wZX3oN0bSVIhsaknAAAI"}',
        Packet(CONNECT, "/", {"sid": "wZX3oN0bSVIhsaknAAAI"}),
    ),
    v(
        "2.1",
        '0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',
        Packet(CONNECT, "/admin", {"sid": "oSO0OpakMV_3jnilAAAA"}),
    ),
    v("2.1", '2["hey","Jude"]', Packet(EVENT, "/", ["hey", "Jude"])),
    v("2.1", '2/admin,["bar"]', Packet(EVENT, "/admin", ["bar"])),
    v("2.1", '212["foo"]', Packet(EVENT, "/", ["foo"], 12)),
    v("2.1", '312["bar"]', Packet(ACK, "/", ["bar"], 12)),
    v("2.1", '3/admin,13["bar"]', Packet(ACK, "/admin", ["bar"], 13)),
    v("2.1", "1", Packet(DISCONNECT)),
    v("2.1", "1/admin,", Packet(DISCONNECT, "/admin")),
    v(
        "2.1",
        '4{"message":"Not authorized"}',
        Packet(CONNECT_ERROR, "/", {"message": "Not authorized"}),
    ),
    v(
        "2.1",
        '4/random,{"message":"Invalid namespace"}',
        Packet(CONNECT_ERROR, "/random", {"message": "Invalid namespace"}),
    ),
    v(
        "2.1",
        (f'51-["baz",{ph(0)}]', b"\x01\x02\x03\x04"),
        Packet(BINARY_EVENT, "/", ["baz", b"\x01\x02\x03\x04"]),
    ),
    v(
        "2.1",
        (f'52-/admin,["baz",{ph(0)},{ph(1)}]', b"\x01\x02", b"\x03\x04"),
        Packet(BINARY_EVENT, "/admin", ["baz", b"\x01\x02", b"\x03\x04"]),
    ),
    v(
        "2.1",
        (f'61-15["bar",{ph(0)}]', b"\xff\x00"),
        Packet(BINARY_ACK, "/", ["bar", b"\xff\x00"], 15),
    ),
    # --- socket.io-protocol suite (PROTOCOL.md 6), client and server sides
    v("suite", "0/custom,", Packet(CONNECT, "/custom")),
    v("suite", '0/custom,{"token":"abc"}', Packet(CONNECT, "/custom", {"token": "abc"})),
    v("suite", "0/random", Packet(CONNECT, "/random"), encodes_to=("0/random,",)),
    v("suite", "0/custom", Packet(CONNECT, "/custom"), encodes_to=("0/custom,",)),
    v("suite", '0/custom,{"sid":"abc"}', Packet(CONNECT, "/custom", {"sid": "abc"})),
    v("suite", '2["auth",{}]', Packet(EVENT, "/", ["auth", {}])),
    v("suite", '2["auth",{"token":"123"}]', Packet(EVENT, "/", ["auth", {"token": "123"}])),
    v("suite", '2/custom,["auth",{}]', Packet(EVENT, "/custom", ["auth", {}])),
    v(
        "suite",
        '2/custom,["auth",{"token":"abc"}]',
        Packet(EVENT, "/custom", ["auth", {"token": "abc"}]),
    ),
    v("suite", "1/custom", Packet(DISCONNECT, "/custom"), encodes_to=("1/custom,",)),
    v(
        "suite",
        '2["message","message to main namespace"]',
        Packet(EVENT, "/", ["message", "message to main namespace"]),
    ),
    v(
        "suite",
        '2["message-back","message to main namespace"]',
        Packet(EVENT, "/", ["message-back", "message to main namespace"]),
    ),
    v(
        "suite",
        '2["message",1,"2",{"3":[true]}]',
        Packet(EVENT, "/", ["message", 1, "2", {"3": [True]}]),
    ),
    v(
        "suite",
        '2["message-back",1,"2",{"3":[true]}]',
        Packet(EVENT, "/", ["message-back", 1, "2", {"3": [True]}]),
    ),
    v(
        "suite",
        (f'52-["message",{ph(0)},{ph(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"),
        Packet(BINARY_EVENT, "/", ["message", b"\x01\x02\x03", b"\x04\x05\x06"]),
    ),
    v(
        "suite",
        (f'52-["message-back",{ph(0)},{ph(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"),
        Packet(BINARY_EVENT, "/", ["message-back", b"\x01\x02\x03", b"\x04\x05\x06"]),
    ),
    v(
        "suite",
        '2456["message-with-ack",1,"2",{"3":[false]}]',
        Packet(EVENT, "/", ["message-with-ack", 1, "2", {"3": [False]}], 456),
    ),
    v("suite", '3456[1,"2",{"3":[false]}]', Packet(ACK, "/", [1, "2", {"3": [False]}], 456)),
    v(
        "suite",
        (f'52-789["message-with-ack",{ph(0)},{ph(1)}]', b"\x01\x02\x03", b"\x04\x05\x06"),
        Packet(BINARY_EVENT, "/", ["message-with-ack", b"\x01\x02\x03", b"\x04\x05\x06"], 789),
    ),
    v(
        "suite",
        (f"62-789[{ph(0)},{ph(1)}]", b"\x01\x02\x03", b"\x04\x05\x06"),
        Packet(BINARY_ACK, "/", [b"\x01\x02\x03", b"\x04\x05\x06"], 789),
    ),
    # --- PROTOCOL.md 3 (a polling session)
    v("3", '0{"sid":"X"}', Packet(CONNECT, "/", {"sid": "X"})),
    v("3", '2["message","x"]', Packet(EVENT, "/", ["message", "x"])),
    v("3", '21["message-with-ack","y"]', Packet(EVENT, "/", ["message-with-ack", "y"], 1)),
    v("3", '2["message-back","x"]', Packet(EVENT, "/", ["message-back", "x"])),
    v("3", '31["y"]', Packet(ACK, "/", ["y"], 1)),
    # --- JSON as JS writes it (PROTOCOL.md 2.1), and less common shapes
    v(
        "2.1",
        '2["n",1,0.5,1e-7,1e+21,-0.25,"wörld ☃"]',
        Packet(EVENT, "/", ["n", 1, 0.5, 1e-7, 1e21, -0.25, "wörld ☃"]),
    ),
    v("2.2", '2[42,"numeric event name"]', Packet(EVENT, "/", [42, "numeric event name"])),
    v("2.2", "30[]", Packet(ACK, "/", [], 0)),
    v("2.2", '4"Not authorized"', Packet(CONNECT_ERROR, "/", "Not authorized")),
    v(
        "2.2",
        (f'61-/admin,7[{{"file":{ph(0)},"again":[{ph(0)}]}}]', b"ab"),
        Packet(BINARY_ACK, "/admin", [{"file": b"ab", "again": [b"ab"]}], 7),
        # One attachment referenced twice decodes fine; encode writes each bytes once.
        encodes_to=(f'62-/admin,7[{{"file":{ph(0)},"again":[{ph(1)}]}}]', b"ab", b"ab"),
    ),
    v(
        "2.2",
        ('52-["unused second attachment",' + ph(0) + "]", b"a", b"b"),
        Packet(BINARY_EVENT, "/", ["unused second attachment", b"a"]),
        encodes_to=('51-["unused second attachment",' + ph(0) + "]", b"a"),
    ),
    # --- protocol 4 (socket.io 2.x), PROTOCOL.md 4
    v("4", "0", Packet(CONNECT), protocol=4),
    v("4", "0/admin,", Packet(CONNECT, "/admin"), protocol=4),
    v("4", "0/admin?token=abc,", Packet(CONNECT, "/admin", {"token": "abc"}), protocol=4),
    v(
        "4",
        '4/admin,"Not authorized"',
        Packet(CONNECT_ERROR, "/admin", "Not authorized"),
        protocol=4,
    ),
    v(
        "4",
        '4/admin,{"message":"Invalid namespace"}',
        Packet(CONNECT_ERROR, "/admin", {"message": "Invalid namespace"}),
        protocol=4,
    ),
    v(
        "4",
        (f'51-["hello","wörld",{ph(0)}]', b"\x01\x02\x03"),
        Packet(BINARY_EVENT, "/", ["hello", "wörld", b"\x01\x02\x03"]),
        protocol=4,
    ),
]


def _nest(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth


#: (description, messages, protocol): feeding the messages in order must raise
#: RemoteProtocolError at some point (PROTOCOL.md 2.2; suite cases minus the EIO prefix).
INVALID: list[tuple[str, tuple[str | bytes, ...], int]] = [
    ("empty message", ("",), 5),
    ("unknown type (suite 4abc)", ("abc",), 5),
    ("type 7", ('7["a"]',), 5),
    ("type not a digit", ("x",), 5),
    ("event object payload (suite 42{})", ("2{}",), 5),
    ("invalid ack id (suite 42abc)", ('2abc["message-with-ack",1,"2",{"3":[false]}]',), 5),
    ("event without payload", ("2",), 5),
    ("event without payload, id", ("212",), 5),
    ("event empty array", ("2[]",), 5),
    ("event name null", ("2[null]",), 5),
    ("event name bool", ("2[true]",), 5),
    ("event name object", ('2[{"a":1}]',), 5),
    ("event name array", ("2[[]]",), 5),
    ("reserved connect", ('2["connect"]',), 5),
    ("reserved connect_error", ('2["connect_error"]',), 5),
    ("reserved disconnect", ('2["disconnect"]',), 5),
    ("reserved disconnecting", ('2["disconnecting"]',), 5),
    ("reserved newListener", ('2["newListener"]',), 5),
    ("reserved removeListener", ('2["removeListener"]',), 5),
    ("event string payload", ('2"hi"',), 5),
    ("truncated JSON", ('2["a"',), 5),
    ("trailing garbage", ('2["a"]x',), 5),
    ("NaN", ('2["a",NaN]',), 5),
    ("Infinity", ('2["a",Infinity]',), 5),
    ("-Infinity", ('2["a",-Infinity]',), 5),
    ("number overflowing to Infinity", ('2["a",1e400]',), 5),
    ("single quotes", ("2['a']",), 5),
    ("ack without id", ('3["a"]',), 5),
    ("ack object payload", ("31{}",), 5),
    ("ack without payload", ("31",), 5),
    ("ack id too long (17 digits)", ('212345678901234567["a"]',), 5),
    ("connect array payload", ("0[]",), 5),
    ("connect string payload", ('0"x"',), 5),
    ("connect with ack id", ("01{}",), 5),
    ("disconnect with payload", ("1{}",), 5),
    ("disconnect nsp with payload", ('1/admin,{"a":1}',), 5),
    ("disconnect with id", ("11",), 5),
    ("connect_error array", ("4[]",), 5),
    ("connect_error without payload", ("4",), 5),
    ("connect_error number", ("412",), 5),
    ("namespace too long", ("0/" + "a" * 256 + ",",), 5),
    ("namespace too long, no comma", ("1/" + "a" * 300,), 5),
    ("JSON too deep", ("2" + _nest(33, '"a"'),), 5),
    ("JSON far too deep", ("2" + _nest(100_000, ""),), 5),
    ("object too deep", ('2["a",' + '{"a":' * 40 + "1" + "}" * 40 + "]",), 5),
    # binary headers
    ("binary without count", ('5["a"]',), 5),
    ("binary count without dash", ('51["a"]',), 5),
    ("binary count zero", ('50-["a"]',), 5),
    ("binary count over max", ('511-["a"]',), 5),
    ("binary count huge", ('599999999999-["a"]',), 5),
    ("binary count not digits", ('5x-["a"]',), 5),
    ("binary count negative", ('5-1-["a"]',), 5),
    ("binary count unicode digit", ('5\u0661-["a"]',), 5),
    ("binary event bad name", (f"51-[{ph(0)}]", b"x"), 5),
    ("binary ack without id", (f"61-[{ph(0)}]", b"x"), 5),
    # placeholder attacks
    ("placeholder num out of range", (f'51-["a",{ph(1)}]', b"x"), 5),
    ("placeholder num negative", ('51-["a",{"_placeholder":true,"num":-1}]', b"x"), 5),
    ("placeholder num huge", ('51-["a",{"_placeholder":true,"num":1' + "0" * 30 + "}]", b"x"), 5),
    ("placeholder num string", ('51-["a",{"_placeholder":true,"num":"0"}]', b"x"), 5),
    ("placeholder num float", ('51-["a",{"_placeholder":true,"num":0.5}]', b"x"), 5),
    ("placeholder num whole float", ('51-["a",{"_placeholder":true,"num":0.0}]', b"x"), 5),
    ("placeholder num bool", ('51-["a",{"_placeholder":true,"num":false}]', b"x"), 5),
    ("placeholder num null", ('51-["a",{"_placeholder":true,"num":null}]', b"x"), 5),
    ("placeholder num missing", ('51-["a",{"_placeholder":true}]', b"x"), 5),
    ("placeholder extra key", ('51-["a",{"_placeholder":true,"num":0,"x":1}]', b"x"), 5),
    ("placeholder false", ('51-["a",{"_placeholder":false,"num":0}]', b"x"), 5),
    ("placeholder 1 not true", ('51-["a",{"_placeholder":1,"num":0}]', b"x"), 5),
    ("placeholder wrong key", ('51-["a",{"_placeholder":true,"nun":0}]', b"x"), 5),
    ("placeholder nested in object", ('51-["a",{"k":[{"_placeholder":true}]}]', b"x"), 5),
    ("placeholder nested too deep", ('51-["a",' + _nest(40, ph(0)) + "]", b"x"), 5),
    # attachment counts
    ("missing attachments, text arrives", (f'52-["a",{ph(0)},{ph(1)}]', b"x", '2["b"]'), 5),
    ("too many attachments", (f'51-["a",{ph(0)}]', b"x", b"y"), 5),
    ("binary with no header", (b"\x01\x02",), 5),
    ("empty binary with no header", (b"",), 5),
    # protocol 4
    ("v4 connect with JSON payload", ('0/admin?token=abc,{"a":1}',), 4),
    ("v4 connect plain JSON payload", ('0/admin,{"a":1}',), 4),
    ("v4 query on an event", ('2/admin?x=1,["a"]',), 4),
    ("v4 unknown type", ("abc",), 4),
]
