"""Hypothesis strategies shared by the fuzz properties.

Three families:

* **JSON values JavaScript can represent**: finite floats, integers within +-2**53, any
  string (non-ASCII and astral included; lone surrogates only where asked for), lists and
  dicts nested to a bounded depth, optionally with ``bytes`` anywhere (Socket.IO binary).
* **Valid packets** of both layers, to round-trip and to mutate.
* **Structured garbage**: valid wire strings with a few characters inserted, deleted or
  replaced, spliced with hostile tokens (out-of-range placeholders, huge digit runs, deep
  nesting, NaN spellings...). Pure random text almost never gets past the first character
  check; mutations of valid input reach the deep branches of the decoders.
"""

from __future__ import annotations

from typing import Any, Literal

from hypothesis import strategies as st

from thinkio.engineio import EnginePacket, EnginePacketType
from thinkio.socketio import RESERVED_EVENTS
from thinkio.socketio import Packet as SioPacket
from thinkio.socketio import PacketType as SioType

__all__ = (
    "MAX_SAFE_INT",
    "NO_SURROGATES",
    "eio_binary_packets",
    "eio_packets",
    "eio_text_packets",
    "garbage_bytes",
    "garbage_text",
    "json_values",
    "mutated_bytes",
    "mutated_text",
    "normal_json",
    "normal_packet",
    "sio_namespaces",
    "sio_packets",
)

#: For ``st.characters(exclude_categories=...)``: no lone surrogates (UTF-8 can't carry them).
NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)

#: JavaScript's Number.MAX_SAFE_INTEGER + 1: the integers a JS peer can hold exactly.
MAX_SAFE_INT = 2**53

# ------------------------------------------------------------------------------- JSON values

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
safe_ints = st.integers(-MAX_SAFE_INT, MAX_SAFE_INT)
#: Any text without lone surrogates (what arrives over UTF-8): non-ASCII and astral included.
texts = st.text(max_size=24)
#: Text that may hold lone surrogates, which JS strings allow and UTF-8 cannot carry.
texts_with_surrogates = st.lists(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF) | st.characters(), max_size=16
).map("".join)
json_scalars = st.one_of(st.none(), st.booleans(), safe_ints, finite_floats, texts)
#: Dict keys; ``_placeholder`` is reserved by the binary encoding (a user object holding it
#: is ambiguous on the wire, in Node too).
json_keys = st.text(max_size=8).filter(lambda k: k != "_placeholder")


def json_values(
    *,
    max_depth: int = 4,
    with_bytes: bool = False,
    surrogates: bool = False,
    max_size: int = 4,
) -> st.SearchStrategy[Any]:
    """JSON values JS can represent, nested at most ``max_depth`` containers deep.

    Args:
        max_depth: the deepest list/dict nesting produced.
        with_bytes: put ``bytes`` leaves anywhere (Socket.IO binary attachments).
        surrogates: let strings hold lone surrogates.
        max_size: the most items in one list or dict.
    """
    leaves: st.SearchStrategy[Any] = json_scalars
    if surrogates:
        leaves = leaves | texts_with_surrogates
    if with_bytes:
        leaves = leaves | st.binary(max_size=12)
    strategy = leaves
    for _ in range(max_depth):
        strategy = (
            leaves
            | st.lists(strategy, max_size=max_size)
            | st.dictionaries(json_keys, strategy, max_size=max_size)
        )
    return strategy


def js_string(text: str) -> str:
    """``text`` as JavaScript sees it: a surrogate pair held as two code points is the same
    string as the astral character it encodes (both are the same UTF-16 units)."""
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def normal_json(value: Any) -> Any:
    """A comparable form of a JSON value, as strict as JavaScript can tell values apart.

    Types are tagged (so ``True`` never equals ``1``), dict key order counts (JSON.stringify
    keeps it), and numbers compare as JS doubles (``1.0`` is written ``1`` and read back as
    an int; ``-0.0`` is written ``0``; ``4.669450403930623e16`` is written
    ``46694504039306230``, which Python reads as a different int but JS as the same
    double). Strings compare as
    UTF-16 code units (:func:`js_string`).
    """
    if value is None:
        return value
    if isinstance(value, str):
        return js_string(value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        # JS has one number type, a double: compare as doubles. An int too large for one
        # (JSON.parse would make it Infinity) compares exactly.
        try:
            return ("num", float(value))
        except OverflowError:
            return ("bignum", value)
    if isinstance(value, bytes | bytearray | memoryview):
        return ("bytes", bytes(value))
    if isinstance(value, list | tuple):
        return ("list", tuple(normal_json(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((js_string(k), normal_json(v)) for k, v in value.items()))
    raise TypeError(f"not a JSON value: {value!r}")


_PLAIN = {SioType.BINARY_EVENT: SioType.EVENT, SioType.BINARY_ACK: SioType.ACK}


def normal_packet(packet: SioPacket) -> tuple[object, ...]:
    """A comparable form of a packet: BINARY_* and plain types are the same kind (the wire
    type follows from whether the data holds bytes), data compares as JS sees it."""
    return (
        _PLAIN.get(packet.type, packet.type),
        packet.namespace,
        normal_json(packet.data),
        packet.id,
    )


def count_bytes(value: Any) -> int:
    """How many ``bytes`` leaves a value holds (the attachments it encodes to)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return 1
    if isinstance(value, list | tuple):
        return sum(count_bytes(v) for v in value)
    if isinstance(value, dict):
        return sum(count_bytes(v) for v in value.values())
    return 0


# -------------------------------------------------------------------------- Engine.IO packets


def eio_text_packets(*, exclude: str = "") -> st.SearchStrategy[EnginePacket]:
    """Engine.IO packets of any type with text data (not holding the characters ``exclude``)."""
    data = st.text(max_size=24)
    if exclude:
        data = st.text(
            alphabet=st.characters(exclude_characters=exclude, exclude_categories=NO_SURROGATES),
            max_size=24,
        )
    return st.builds(EnginePacket, st.sampled_from(list(EnginePacketType)), data)


eio_binary_packets = st.binary(max_size=24).map(lambda b: EnginePacket(EnginePacketType.MESSAGE, b))


def eio_packets(*, exclude: str = "") -> st.SearchStrategy[EnginePacket]:
    """Any Engine.IO packet, text or binary."""
    return eio_text_packets(exclude=exclude) | eio_binary_packets


# -------------------------------------------------------------------------- Socket.IO packets


def sio_namespaces(protocol: int = 5) -> st.SearchStrategy[str]:
    """Namespaces the encoder accepts and the decoder reads back unchanged.

    No ``,`` (it ends the namespace) and, in protocol 4, no ``?`` (it starts the CONNECT
    query); at most 255 characters after the ``/`` (``Limits.max_namespace_length``).
    """
    banned = "," if protocol == 5 else ",?"
    rest = st.text(
        alphabet=st.characters(exclude_characters=banned, exclude_categories=NO_SURROGATES),
        max_size=12,
    )
    long_rest = st.text(alphabet="ab/", min_size=240, max_size=255)
    return st.just("/") | rest.map(lambda s: "/" + s) | long_rest.map(lambda s: "/" + s)


ack_ids = st.integers(0, 10**15 - 1)  # Limits.max_ack_id_digits = 15
event_names = (
    st.text(max_size=12).filter(lambda s: s not in RESERVED_EVENTS)
    | st.sampled_from(["message", "message-with-ack", "auth", "\u00e9v\u00e9nement", "\U0001f600"])
    | safe_ints
    | finite_floats
)


@st.composite
def sio_packets(draw: st.DrawFn, protocol: int = 5, binary: bool | None = None) -> SioPacket:
    """A Socket.IO packet that ``encode`` accepts, of any of the seven types.

    Args:
        protocol: 5, or 4 (socket.io 2.x: CONNECT data is a query dict of strings).
        binary: True to force bytes into an EVENT/ACK, False to forbid them, None for either.
    """
    namespace = draw(sio_namespaces(protocol))
    kinds = ["event", "ack"] if binary else list(SioType)
    kind = draw(st.sampled_from(kinds))
    with_bytes = binary is not False
    value = json_values(max_depth=3, with_bytes=with_bytes, max_size=3)
    if kind in ("event", SioType.EVENT, SioType.BINARY_EVENT):
        args = draw(st.lists(value, max_size=4))
        if binary:
            args.insert(draw(st.integers(0, len(args))), draw(st.binary(max_size=12)))
        data = [draw(event_names), *args]
        if count_bytes(data) > 10:  # Limits.max_attachments
            data = [data[0]]
            if binary:
                data.append(b"\x00")
        ptype = SioType.EVENT if count_bytes(data) == 0 else SioType.BINARY_EVENT
        return SioPacket(ptype, namespace, data, draw(st.none() | ack_ids))
    if kind in ("ack", SioType.ACK, SioType.BINARY_ACK):
        data = draw(st.lists(value, max_size=4))
        if binary:
            data.insert(draw(st.integers(0, len(data))), draw(st.binary(max_size=12)))
        if count_bytes(data) > 10:
            data = [b"\x00"] if binary else []
        ptype = SioType.ACK if count_bytes(data) == 0 else SioType.BINARY_ACK
        return SioPacket(ptype, namespace, data, draw(ack_ids))
    if kind is SioType.CONNECT:
        if protocol == 4:
            query = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
            return SioPacket(SioType.CONNECT, namespace, query or None)
        plain = json_values(max_depth=2)
        auth = draw(st.none() | st.dictionaries(json_keys, plain, max_size=4))
        return SioPacket(SioType.CONNECT, namespace, auth)
    if kind is SioType.DISCONNECT:
        return SioPacket(SioType.DISCONNECT, namespace)
    # CONNECT_ERROR: an object in protocol 5, a string in protocol 4 (both accepted in both).
    plain = json_values(max_depth=2)
    error = draw(st.fixed_dictionaries({"message": texts}, optional={"data": plain}) | texts)
    return SioPacket(SioType.CONNECT_ERROR, namespace, error)


# --------------------------------------------------------------------- structured garbage

#: Fragments that sit on the edges of the decoders: separators, type digits, base64 marks,
#: placeholders out of range or of the wrong type, number spellings JSON.parse refuses,
#: digit runs that overflow, deep nesting, non-ASCII digits, lone surrogates.
HOSTILE_TOKENS = (
    "\x1e",
    ":",
    "-",
    ",",
    "/",
    "?",
    "b",
    "b4",
    "0",
    "9",
    "[",
    "]",
    "{",
    "}",
    '"',
    "\\",
    "\\u",
    "\ud800",
    "\U0001f600",
    "\u0663",  # ARABIC-INDIC DIGIT THREE: isdigit() but not ASCII
    "\uff11",  # FULLWIDTH DIGIT ONE
    "\x00",
    "é",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "true",
    "null",
    "[]",
    "{}",
    "-0",
    "9" * 20,
    "9" * 400,
    "1" * 5000,
    "[" * 40,
    "[" * 3000,
    '{"a":' * 40,
    '{"_placeholder":true,"num":0}',
    '{"_placeholder":true,"num":1}',
    '{"_placeholder":true,"num":-1}',
    '{"_placeholder":true,"num":1e400}',
    '{"_placeholder":true,"num":0.0}',
    '{"_placeholder":true,"num":"0"}',
    '{"_placeholder":true,"num":true}',
    '{"_placeholder":false,"num":0}',
    '{"_placeholder":true}',
    '{"_placeholder":true,"num":0,"x":1}',
    '{"_placeholder":1,"num":0}',
    '["connect"]',
    '["disconnect"]',
    '["newListener"]',
    "11-",
    "99-",
    "0-",
    "/admin,",
    "/admin?token=a&b=%zz,",
    "%ff",
    "AQID",
    "AQ==",
    "====",
    "18446744073709551616",
)
_MUTATION_ALPHABET = st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=3)


@st.composite
def mutated_text(draw: st.DrawFn, seeds: st.SearchStrategy[str], max_edits: int = 4) -> str:
    """A valid wire string from ``seeds`` with a few edits applied."""
    text = draw(seeds)
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(("insert", "delete", "replace", "truncate", "duplicate")))
        pos = draw(st.integers(0, len(text)))
        if op == "insert":
            text = text[:pos] + draw(_MUTATION_ALPHABET) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 4)) :]
        elif op == "replace":
            text = text[:pos] + draw(_MUTATION_ALPHABET) + text[pos + 1 :]
        elif op == "truncate":
            text = text[:pos]
        else:
            end = draw(st.integers(pos, len(text)))
            text = text[:end] + text[pos:end] + text[end:]
    return text


_BYTE_TOKENS = st.sampled_from(
    (b"\x00", b"\x01", b"\x04", b"\xff", b"\x09", b"\x0a", b"\xc3", b"\xed\xa0\x80", b"\x1e")
) | st.binary(max_size=3)


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: st.SearchStrategy[bytes], max_edits: int = 4) -> bytes:
    """A valid binary body from ``seeds`` with a few edits applied."""
    data = draw(seeds)
    for _ in range(draw(st.integers(1, max_edits))):
        op = draw(st.sampled_from(("insert", "delete", "replace", "truncate")))
        pos = draw(st.integers(0, len(data)))
        if op == "insert":
            data = data[:pos] + draw(_BYTE_TOKENS) + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + draw(st.integers(1, 4)) :]
        elif op == "replace":
            data = data[:pos] + draw(_BYTE_TOKENS) + data[pos + 1 :]
        else:
            data = data[:pos]
    return data


def garbage_text(seeds: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Random text, hostile tokens glued together, and mutations of ``seeds``."""
    glued = st.lists(st.sampled_from(HOSTILE_TOKENS) | st.text(max_size=4), max_size=6).map("".join)
    return st.one_of(st.text(max_size=40), texts_with_surrogates, glued, mutated_text(seeds), seeds)


def garbage_bytes(seeds: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, UTF-8 of garbage text, and mutations of ``seeds``."""
    return st.one_of(
        st.binary(max_size=40),
        garbage_text(seeds.map(lambda b: b.decode("utf-8", "replace"))).map(
            lambda s: s.encode("utf-8", "surrogatepass")
        ),
        mutated_bytes(seeds),
        seeds,
    )
