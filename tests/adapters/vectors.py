"""Golden MessagePack vectors, written by Node's notepack.io 3.0.1 (the codec of
@socket.io/redis-adapter 8.3.0), used for both encoding and decoding.

Regenerate a row with ``node -e 'console.log(require("notepack.io").encode(v).toString("hex"))'``
in ``tests/adapters/node``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)


#: (name, Python value, notepack's encoding in hex). Both directions must match.
MSGPACK: list[tuple[str, Any, str]] = [
    ("nil", None, "c0"),
    ("true", True, "c3"),
    ("false", False, "c2"),
    ("zero", 0, "00"),
    ("fixint max", 127, "7f"),
    ("uint8", 128, "cc80"),
    ("uint8 max", 255, "ccff"),
    ("uint16", 256, "cd0100"),
    ("uint16 max", 65535, "cdffff"),
    ("uint32", 65536, "ce00010000"),
    ("uint32 max", 4294967295, "ceffffffff"),
    ("uint64", 4294967296, "cf0000000100000000"),
    ("max safe integer", 9007199254740991, "cf001fffffffffffff"),
    ("-1", -1, "ff"),
    ("negative fixint min", -32, "e0"),
    ("int8", -33, "d0df"),
    ("int8 min", -128, "d080"),
    ("int16", -129, "d1ff7f"),
    ("int16 min", -32768, "d18000"),
    ("int32", -32769, "d2ffff7fff"),
    ("int32 min", -2147483648, "d280000000"),
    ("int64", -2147483649, "d3ffffffff7fffffff"),
    ("float64", 1.5, "cb3ff8000000000000"),
    ("negative float64", -0.25, "cbbfd0000000000000"),
    ("empty str", "", "a0"),
    ("utf-8 str", "héllo", "a668c3a96c6c6f"),
    ("fixstr max", "a" * 31, "bf" + "61" * 31),
    ("str8", "a" * 32, "d920" + "61" * 32),
    ("str16", "b" * 256, "da0100" + "62" * 256),
    ("Buffer is bin", b"\x00\x01\xff", "c4030001ff"),
    ("array", [1, "a", []], "9301a16190"),
    ("map", {"a": 1, "b": [True, None]}, "82a16101a16292c3c0"),
    ("timestamp 32", ms(1700000000000), "d6ff6553f100"),
    ("timestamp 64", ms(1700000000123), "d7ff1d5353006553f100"),
    ("timestamp 96 (before 1970)", ms(-1500), "c70cff1dcd6500fffffffffffffffe"),
    ("timestamp 96 (after 2514)", ms(19880899200000), "c70cff0000000000000004a0fe7280"),
    (
        "a broadcast message",
        [
            "AbC123",
            {"type": 2, "data": ["chat", "hi", b"\x01\x02", {"n": 1.5}], "nsp": "/"},
            {"rooms": ["room1"], "except": ["sid1"], "flags": {"volatile": True}},
        ],
        "93a641624331323383a47479706502a46461746194a463686174a26869c402010281a16ecb3ff8"
        "000000000000a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707491a473696431"
        "a5666c61677381a8766f6c6174696c65c3",
    ),
]

#: (name, hex, decoded value): what notepack 2 (extension type 0) and other extensions
#: read as. Decoding only: thinkio writes the notepack 3 forms above.
MSGPACK_DECODE_ONLY: list[tuple[str, str, Any]] = [
    ("notepack 2 undefined", "d40000", None),
    ("notepack 2 Date", "d7000000018bcfe568fb", ms(1700000000251)),
    ("notepack 2 ArrayBuffer, 1 byte (ext8, not fixext1)", "c7010007", b"\x07"),
    (
        "notepack 2 ArrayBuffer, 8 bytes (ext8, not fixext8)",
        "c708000102030405060708",
        b"\x01\x02\x03\x04\x05\x06\x07\x08",
    ),
    ("ArrayBuffer ext16", "c8000200abcd", b"\xab\xcd"),
    ("other extension", "d50501ff", [5, b"\x01\xff"]),
    ("fixext2 type 0 has no meaning", "d5000102", [0, b"\x01\x02"]),
    ("float32", "ca3fc00000", 1.5),
    ("int key becomes a string", "810102", {"1": 2}),
    ("repeated key: the last wins", "82a16101a16102", {"a": 2}),
    ("uint8 for a small value", "cc05", 5),
    ("str32", "db00000001" + "61", "a"),
    ("array16", "dc000101", [1]),
    ("map16", "de0001a16101", {"a": 1}),
    ("bin16", "c50001ff", b"\xff"),
]

#: (name, hex): bytes that must raise RemoteProtocolError.
MSGPACK_INVALID: list[tuple[str, str]] = [
    ("empty", ""),
    ("unused format byte", "c1"),
    ("truncated uint16", "cd01"),
    ("truncated str", "a3616263"[:6]),
    ("trailing bytes", "c0c0"),
    ("array longer than the input", "dd ffffffff".replace(" ", "")),
    ("bad utf-8", "a2c328"),
    ("bytes as a map key", "81c40161 01".replace(" ", "")),
    ("array as a map key", "819001"),
    ("timestamp of 5 bytes", "c705ff0000000000"),
]
