"""MessagePack as notepack.io writes and reads it: the codec of Node's Redis adapter.

Node's ``@socket.io/redis-adapter`` sends every broadcast as ``msgpack([uid, packet, opts])``
encoded by notepack.io (REDIS-INTEROP.md C1). This module is a small, dependency-free codec
for that dialect, so thinkio needs no third-party msgpack package:

* ``bytes`` (and ``bytearray``, ``memoryview``) are written as ``bin``, ``str`` as ``str``:
  Node sees a ``Buffer`` and a string, never one for the other.
* Integers take the smallest format that holds them, from fixint to (u)int64; floats are
  always float64 (notepack writes no float32, but reads it).
* Maps have string keys. An ``int`` key is written as its decimal string, as a JS object
  would hold it; any other key type is refused.
* Dates. notepack.io 3 (what redis-adapter 8.3 installs) writes a JS ``Date`` as the
  standard MessagePack timestamp, extension type -1 (timestamp 32, 64 or 96), and so does
  :func:`packb` for a :class:`datetime.datetime` (a naive one counts as UTC). Both are
  read, and so is notepack 2's extension type 0 (REDIS-INTEROP.md C1): ``fixext1`` is
  ``undefined`` (read as ``None``), ``fixext8`` a Date in milliseconds (an int32 high and
  a uint32 low word), ``ext8/16/32`` an ``ArrayBuffer`` (read as ``bytes``). The format
  byte, not only the length, tells them apart: a one-byte ArrayBuffer is ``ext8``, never
  ``fixext1``. Any other extension is read as ``[type, bytes]``, as notepack does. Dates
  are handed to ``on_date`` as whole milliseconds since the epoch, as JS holds them.
* JS ``undefined`` is written by notepack 3 as nil, and keys holding it are left out.

:func:`unpackb` is the peer-facing side: whatever bytes it is given, it returns a value or
raises :class:`~thinkio.errors.RemoteProtocolError`, and nothing else (the property tests in
``tests/adapters/test_msgpack.py`` hold it to that). :func:`packb` raises
:class:`~thinkio.errors.LocalProtocolError` for a value it cannot write.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ("DEFAULT_MAX_DEPTH", "date_from_ms", "packb", "unpackb")

#: Deepest array/map nesting either direction accepts: keeps the recursion bounded.
DEFAULT_MAX_DEPTH: Final = 64

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_F32 = struct.Struct(">f")
_F64 = struct.Struct(">d")


# --------------------------------------------------------------------------- encoding


def packb(value: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> bytes:
    """Encode a value as notepack.io would.

    Args:
        value: None, bool, int, float, str, bytes-like, list/tuple, dict (str or int keys),
            or datetime, nested to any depth up to ``max_depth``.
        max_depth: the deepest array/map nesting written.

    Returns:
        The MessagePack bytes.

    Raises:
        LocalProtocolError: a value of another type, an int outside [-2**63, 2**64), a map
            key that is not a str or int, a str that is not valid Unicode (a lone
            surrogate), a length beyond 2**32 - 1, or nesting deeper than ``max_depth``.
    """
    out = bytearray()
    _pack(value, out, max_depth)
    return bytes(out)


def _pack_len(
    out: bytearray, n: int, fix: int | None, fix_max: int, codes: tuple[int, ...]
) -> None:
    """Write a length header: the fix form if it fits, else the 8/16/32-bit form."""
    if fix is not None and n <= fix_max:
        out.append(fix | n)
    elif codes[0] and n < 0x100:
        out += bytes((codes[0], n))
    elif n < 0x10000:
        out.append(codes[1])
        out += _U16.pack(n)
    elif n < 0x100000000:
        out.append(codes[2])
        out += _U32.pack(n)
    else:
        raise LocalProtocolError(f"MessagePack cannot hold a length of {n}")


def _pack_int(value: int, out: bytearray) -> None:
    if 0 <= value < 0x80:
        out.append(value)
    elif -0x20 <= value < 0:
        out.append(value & 0xFF)
    elif value >= 0:
        if value < 0x100:
            out += bytes((0xCC, value))
        elif value < 0x10000:
            out.append(0xCD)
            out += _U16.pack(value)
        elif value < 0x100000000:
            out.append(0xCE)
            out += _U32.pack(value)
        elif value < 0x10000000000000000:
            out.append(0xCF)
            out += _U64.pack(value)
        else:
            raise LocalProtocolError(f"integer {value} does not fit in MessagePack's uint64")
    elif value >= -0x80:
        out.append(0xD0)
        out += _I8.pack(value)
    elif value >= -0x8000:
        out.append(0xD1)
        out += _I16.pack(value)
    elif value >= -0x80000000:
        out.append(0xD2)
        out += _I32.pack(value)
    elif value >= -0x8000000000000000:
        out.append(0xD3)
        out += _I64.pack(value)
    else:
        raise LocalProtocolError(f"integer {value} does not fit in MessagePack's int64")


def _pack_str(value: str, out: bytearray) -> None:
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"string is not valid Unicode: {exc}") from None
    _pack_len(out, len(raw), 0xA0, 31, (0xD9, 0xDA, 0xDB))
    out += raw


def _pack_timestamp(value: datetime, out: bytearray) -> None:
    """The MessagePack timestamp extension (type -1) in its shortest form."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    micros = (aware - _EPOCH) // timedelta(microseconds=1)
    seconds, nanos = divmod(micros, 1_000_000)
    nanos *= 1000
    if 0 <= seconds < 1 << 34:
        if nanos == 0 and seconds < 1 << 32:
            out += b"\xd6\xff" + _U32.pack(seconds)
        else:
            out += b"\xd7\xff" + _U64.pack(nanos << 34 | seconds)
    else:
        out += b"\xc7\x0c\xff" + _U32.pack(nanos) + _I64.pack(seconds)


def _pack(value: Any, out: bytearray, depth: int) -> None:
    # Checked in order of frequency in Socket.IO payloads; bool before int (bool is an int).
    if isinstance(value, str):
        _pack_str(value, out)
    elif value is None:
        out.append(0xC0)
    elif value is True:
        out.append(0xC3)
    elif value is False:
        out.append(0xC2)
    elif isinstance(value, int):
        _pack_int(value, out)
    elif isinstance(value, float):
        out.append(0xCB)
        out += _F64.pack(value)
    elif isinstance(value, dict):
        if depth <= 0:
            raise LocalProtocolError("value nested too deeply for MessagePack")
        _pack_len(out, len(value), 0x80, 15, (0, 0xDE, 0xDF))
        for key, item in value.items():
            if isinstance(key, str):
                _pack_str(key, out)
            elif isinstance(key, int) and not isinstance(key, bool):
                _pack_str(str(key), out)  # a JS object's keys are strings
            else:
                raise LocalProtocolError(f"map keys must be str, got {type(key).__name__}")
            _pack(item, out, depth - 1)
    elif isinstance(value, list | tuple):
        if depth <= 0:
            raise LocalProtocolError("value nested too deeply for MessagePack")
        _pack_len(out, len(value), 0x90, 15, (0, 0xDC, 0xDD))
        for item in value:
            _pack(item, out, depth - 1)
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        _pack_len(out, len(raw), None, 0, (0xC4, 0xC5, 0xC6))
        out += raw
    elif isinstance(value, datetime):
        _pack_timestamp(value, out)
    else:
        raise LocalProtocolError(f"cannot encode {type(value).__name__} as MessagePack")


# --------------------------------------------------------------------------- decoding


def date_from_ms(ms: int) -> datetime:
    """The default reading of a notepack Date: an aware UTC datetime.

    Raises:
        RemoteProtocolError: the date is outside what :class:`datetime` can hold.
    """
    try:
        return _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        raise RemoteProtocolError(f"MessagePack date out of range: {ms} ms") from None


class _Truncated(Exception):
    """The input ended inside a value."""


class _Reader:
    __slots__ = ("data", "on_date", "pos")

    def __init__(self, data: bytes, on_date: Callable[[int], Any]) -> None:
        self.data = data
        self.pos = 0
        self.on_date = on_date

    def take(self, n: int) -> bytes:
        start = self.pos
        end = start + n
        if end > len(self.data):
            raise _Truncated
        self.pos = end
        return self.data[start:end]

    def unpack(self, fmt: struct.Struct) -> Any:
        start = self.pos
        end = start + fmt.size
        if end > len(self.data):
            raise _Truncated
        self.pos = end
        return fmt.unpack_from(self.data, start)[0]

    def count(self, n: int) -> int:
        """A container length: every element takes at least one byte, so a length beyond
        the bytes left is refused before anything is allocated."""
        if n > len(self.data) - self.pos:
            raise _Truncated
        return n

    def text(self, n: int) -> str:
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError(f"MessagePack string is not UTF-8: {exc}") from None

    def array(self, n: int, depth: int) -> list[Any]:
        if depth <= 0:
            raise RemoteProtocolError("MessagePack nested too deeply")
        return [self.value(depth - 1) for _ in range(self.count(n))]

    def map(self, n: int, depth: int) -> dict[str, Any]:
        if depth <= 0:
            raise RemoteProtocolError("MessagePack nested too deeply")
        out: dict[str, Any] = {}
        for _ in range(self.count(n)):
            key = self.value(depth - 1)
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)  # what a JS object turns a numeric key into
            elif not isinstance(key, str):
                raise RemoteProtocolError(f"MessagePack map key of type {type(key).__name__}")
            out[key] = self.value(depth - 1)  # a repeated key: the last one wins, as in JS
        return out

    def ext(self, n: int, code: int) -> Any:
        ext_type = self.unpack(_I8)
        if ext_type == -1 and code in (0xD6, 0xD7, 0xC7):
            return self.timestamp(n)
        if ext_type != 0:
            return [ext_type, self.take(n)]
        if code == 0xD4:  # fixext1 type 0: undefined
            self.take(1)
            return None
        if code == 0xD7:  # fixext8 type 0: Date
            high = self.unpack(_I32)
            low = self.unpack(_U32)
            return self.on_date(high * 0x100000000 + low)
        if code in (0xC7, 0xC8, 0xC9):  # ext8/16/32 type 0: ArrayBuffer
            return self.take(n)
        return [0, self.take(n)]  # fixext2/4/16 type 0: notepack has no meaning for them

    def timestamp(self, n: int) -> Any:
        """The standard timestamp extension (32, 64 or 96 bits), as whole JS milliseconds."""
        if n == 4:
            return self.on_date(self.unpack(_U32) * 1000)
        if n == 8:
            word = self.unpack(_U64)
            seconds, nanos = word & 0x3FFFFFFFF, word >> 34
        elif n == 12:
            nanos = self.unpack(_U32)
            seconds = self.unpack(_I64)
        else:
            raise RemoteProtocolError(f"MessagePack timestamp of {n} bytes")
        # JS: new Date(s * 1e3 + ns / 1e6) keeps whole milliseconds, truncated toward zero.
        micros = seconds * 1_000_000 + nanos // 1000
        return self.on_date(-(-micros // 1000) if micros < 0 else micros // 1000)

    def value(self, depth: int) -> Any:
        code = self.take(1)[0]
        if code < 0x80:
            return code
        if code >= 0xE0:
            return code - 0x100
        if code < 0x90:
            return self.map(code & 0x0F, depth)
        if code < 0xA0:
            return self.array(code & 0x0F, depth)
        if code < 0xC0:
            return self.text(code & 0x1F)
        reader = _DISPATCH.get(code)
        if reader is None:
            raise RemoteProtocolError(f"MessagePack format byte 0x{code:02x} is not used")
        return reader(self, code, depth)


_FIXEXT_LEN: Final = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}

_DISPATCH: Final[dict[int, Callable[[_Reader, int, int], Any]]] = {
    0xC0: lambda r, c, d: None,
    0xC2: lambda r, c, d: False,
    0xC3: lambda r, c, d: True,
    0xC4: lambda r, c, d: r.take(r.take(1)[0]),
    0xC5: lambda r, c, d: r.take(r.unpack(_U16)),
    0xC6: lambda r, c, d: r.take(r.unpack(_U32)),
    0xC7: lambda r, c, d: r.ext(r.take(1)[0], c),
    0xC8: lambda r, c, d: r.ext(r.unpack(_U16), c),
    0xC9: lambda r, c, d: r.ext(r.unpack(_U32), c),
    0xCA: lambda r, c, d: r.unpack(_F32),
    0xCB: lambda r, c, d: r.unpack(_F64),
    0xCC: lambda r, c, d: r.take(1)[0],
    0xCD: lambda r, c, d: r.unpack(_U16),
    0xCE: lambda r, c, d: r.unpack(_U32),
    0xCF: lambda r, c, d: r.unpack(_U64),
    0xD0: lambda r, c, d: r.unpack(_I8),
    0xD1: lambda r, c, d: r.unpack(_I16),
    0xD2: lambda r, c, d: r.unpack(_I32),
    0xD3: lambda r, c, d: r.unpack(_I64),
    **{code: (lambda r, c, d: r.ext(_FIXEXT_LEN[c], c)) for code in _FIXEXT_LEN},
    0xD9: lambda r, c, d: r.text(r.take(1)[0]),
    0xDA: lambda r, c, d: r.text(r.unpack(_U16)),
    0xDB: lambda r, c, d: r.text(r.unpack(_U32)),
    0xDC: lambda r, c, d: r.array(r.unpack(_U16), d),
    0xDD: lambda r, c, d: r.array(r.unpack(_U32), d),
    0xDE: lambda r, c, d: r.map(r.unpack(_U16), d),
    0xDF: lambda r, c, d: r.map(r.unpack(_U32), d),
}


def unpackb(
    data: bytes | bytearray | memoryview,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    on_date: Callable[[int], Any] = date_from_ms,
) -> Any:
    """Decode one MessagePack value that fills ``data`` exactly.

    Args:
        data: the encoded value.
        max_depth: the deepest array/map nesting accepted.
        on_date: turns a notepack Date (ms since the epoch) into a value; the default gives
            an aware UTC :class:`datetime`. It may raise ``RemoteProtocolError``.

    Returns:
        None, bool, int, float, str, bytes, list, dict with str keys, or what ``on_date``
        returns; ``[type, bytes]`` for an extension notepack gives no meaning to.

    Raises:
        RemoteProtocolError: for any input that is not exactly one valid value (truncated,
            trailing bytes, unused format byte, bad UTF-8, non-string map key, too deep).
    """
    reader = _Reader(bytes(data), on_date)
    try:
        value = reader.value(max_depth)
    except _Truncated:
        raise RemoteProtocolError("MessagePack value is truncated") from None
    if reader.pos != len(reader.data):
        raise RemoteProtocolError(
            f"{len(reader.data) - reader.pos} trailing bytes after MessagePack value"
        )
    return value
