"""Golden Engine.IO wire vectors: every example of PROTOCOL.md 1-4 and the official suites.

One table feeds both the encode and the decode tests.
"""

from __future__ import annotations

from thinkio.engineio import EnginePacket, EnginePacketType

P = EnginePacketType

#: (text form, packet) for single packets, v4 (PROTOCOL.md 1.2).
PACKETS_V4: list[tuple[str, EnginePacket]] = [
    ("4hello", EnginePacket(P.MESSAGE, "hello")),
    ("4", EnginePacket(P.MESSAGE, "")),
    ("2", EnginePacket(P.PING)),
    ("3", EnginePacket(P.PONG)),
    ("2probe", EnginePacket(P.PING, "probe")),
    ("3probe", EnginePacket(P.PONG, "probe")),
    ("5", EnginePacket(P.UPGRADE)),
    ("6", EnginePacket(P.NOOP)),
    ("1", EnginePacket(P.CLOSE)),
    ("bAQIDBA==", EnginePacket(P.MESSAGE, b"\x01\x02\x03\x04")),
    ("b", EnginePacket(P.MESSAGE, b"")),
    ('42["hey","Jude"]', EnginePacket(P.MESSAGE, '42["hey","Jude"]'[1:])),
    ("4wörld ✓ 😀", EnginePacket(P.MESSAGE, "wörld ✓ 😀")),
]

#: (polling body, packets), v4: ``\x1e`` separated (PROTOCOL.md 1.2, 3, 6).
PAYLOADS_V4: list[tuple[str, list[EnginePacket]]] = [
    (
        "4hello\x1e2\x1e4world",
        [EnginePacket(P.MESSAGE, "hello"), EnginePacket(P.PING), EnginePacket(P.MESSAGE, "world")],
    ),
    ("4test1\x1e4test2\x1e4test3", [EnginePacket(P.MESSAGE, f"test{i}") for i in (1, 2, 3)]),
    (
        "4hello\x1ebAQIDBA==",
        [EnginePacket(P.MESSAGE, "hello"), EnginePacket(P.MESSAGE, b"\x01\x02\x03\x04")],
    ),
    (
        '451-["baz",{"_placeholder":true,"num":0}]\x1ebAQIDBA==',
        [
            EnginePacket(P.MESSAGE, '51-["baz",{"_placeholder":true,"num":0}]'),
            EnginePacket(P.MESSAGE, b"\x01\x02\x03\x04"),
        ],
    ),
    (
        '40{"sid":"X"}\x1e42["auth",{}]',
        [EnginePacket(P.MESSAGE, '0{"sid":"X"}'), EnginePacket(P.MESSAGE, '2["auth",{}]')],
    ),
    ("6", [EnginePacket(P.NOOP)]),
    ("1", [EnginePacket(P.CLOSE)]),
]

#: (websocket message, packet, protocol) (PROTOCOL.md 1.2 and 4).
WS_FRAMES: list[tuple[str | bytes, EnginePacket, int]] = [
    ("4hello", EnginePacket(P.MESSAGE, "hello"), 4),
    (b"\x01\x02\x03\x04", EnginePacket(P.MESSAGE, b"\x01\x02\x03\x04"), 4),
    ("2probe", EnginePacket(P.PING, "probe"), 4),
    ("5", EnginePacket(P.UPGRADE), 4),
    (b"\x04\x01\x02\x03", EnginePacket(P.MESSAGE, b"\x01\x02\x03"), 3),
    ("4hello", EnginePacket(P.MESSAGE, "hello"), 3),
]

#: (v3 text body, packets): ``<len>:<packet>``, len in UTF-16 code units (PROTOCOL.md 4).
PAYLOADS_V3_TEXT: list[tuple[str, list[EnginePacket]]] = [
    ("6:4hello", [EnginePacket(P.MESSAGE, "hello")]),
    ("2:401:2", [EnginePacket(P.MESSAGE, "0"), EnginePacket(P.PING)]),
    (
        '2:4051:451-["hello","wörld",{"_placeholder":true,"num":0}]6:b4AQID',
        [
            EnginePacket(P.MESSAGE, "0"),
            EnginePacket(P.MESSAGE, '51-["hello","wörld",{"_placeholder":true,"num":0}]'),
            EnginePacket(P.MESSAGE, b"\x01\x02\x03"),
        ],
    ),
    ("3:4😀", [EnginePacket(P.MESSAGE, "😀")]),  # one astral character counts as two units
]

#: (v3 binary body, packets): the octet-stream framing (PROTOCOL.md 4).
PAYLOADS_V3_BINARY: list[tuple[bytes, list[EnginePacket]]] = [
    (
        b"\x00\x02\xff40\x01\x04\xff\x04\x01\x02\x03",
        [EnginePacket(P.MESSAGE, "0"), EnginePacket(P.MESSAGE, b"\x01\x02\x03")],
    ),
    (
        b"\x00\x01\x00\x00\xff4" + b"x" * 99 + b"\x01\x01\xff\x04",
        [EnginePacket(P.MESSAGE, "x" * 99), EnginePacket(P.MESSAGE, b"")],
    ),
]

#: Bodies every v4 payload decoder must refuse (PROTOCOL.md 1.2; suite "invalid packet format").
BAD_PAYLOADS_V4 = ["", "abc", "4hello\x1e", "\x1e", "7", "9x", "bnot base64!", "b=", "4a\x1e\x1e4b"]

#: v3 bodies that must be refused.
BAD_PAYLOADS_V3_TEXT = ["", "abc", "6:4hell", "0:", "x:4", "3:4h", "2:4hello", "9999999999:4"]
