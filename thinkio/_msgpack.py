"""MessagePack as notepack.io writes and reads it: the codec of Node's Redis adapter and of
npm ``socket.io-msgpack-parser``.

Node's ``@socket.io/redis-adapter`` sends every broadcast as ``msgpack([uid, packet, opts])``
encoded by notepack.io (REDIS-INTEROP.md C1), and ``socket.io-msgpack-parser`` writes every
packet with it (:mod:`thinkio.socketio.msgpack_parser`). This module is the codec for that
dialect, shared by the adapters, the worker bus and the parser (so it sits at the package's
root, where the sans-IO core may import it). Writing goes through the ``msgpack`` package, whose output is byte for
byte notepack's for every value a Socket.IO payload holds (the golden vectors in
``tests/adapters/vectors.py`` check it). Reading is written here: telling notepack 2's
``undefined`` and ``Date`` from a one- or eight-byte ``ArrayBuffer`` takes the format byte,
which the package's ``ext_hook`` does not see.

* ``bytes`` (and ``bytearray``, ``memoryview``) are written as ``bin``, ``str`` as ``str``:
  Node sees a ``Buffer`` and a string, never one for the other.
* Integers take the smallest format that holds them, from fixint to (u)int64; floats are
  always float64 (notepack writes no float32, but reads it).
* Maps have string keys. An ``int`` key is written as an integer (the only place the bytes
  differ from notepack's); notepack reads it as the same JS object key, its decimal
  string, and so does :func:`unpackb`.
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

import msgpack

from .errors import LocalProtocolError, RemoteProtocolError

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


def _default(value: Any) -> Any:
    if isinstance(value, datetime):  # a naive one counts as UTC
        return msgpack.Timestamp.from_datetime(value.replace(tzinfo=UTC))
    if isinstance(value, memoryview):
        return bytes(value)
    raise TypeError(f"cannot encode {type(value).__name__} as MessagePack")


def packb(value: Any) -> bytes:
    """Encode a value as notepack.io would, with the ``msgpack`` package's C packer.

    Args:
        value: None, bool, int, float, str, bytes-like, list/tuple, dict, or datetime.

    Returns:
        The MessagePack bytes.

    Raises:
        LocalProtocolError: a value of another type, an int outside [-2**63, 2**64), a str
            that is not valid Unicode (a lone surrogate), or nesting deeper than the packer's
            limit.
    """
    try:
        packed: bytes = msgpack.packb(value, use_bin_type=True, datetime=True, default=_default)
    except (TypeError, ValueError, OverflowError) as exc:  # UnicodeEncodeError is a ValueError
        raise LocalProtocolError(f"cannot encode as MessagePack: {exc}") from None
    return packed


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
