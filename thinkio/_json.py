"""JSON the way JavaScript writes and reads it.

The official suites compare Socket.IO packets as strings, so what thinkio writes must match
JS ``JSON.stringify`` byte for byte (PROTOCOL.md 2.1): compact separators, key order kept,
non-ASCII written as is, whole-valued floats written as integers (``1``, not ``1.0``), and
numbers in JS notation (``1e-7``, ``10000000000000000``, not ``1e-07``, ``1e+16``). Lone
surrogates are escaped as ``\\udxxx`` the way ES2019 does, so the output always encodes to
UTF-8.

:func:`dumps` is on the broadcast hot path. It runs the C encoder of :mod:`json` once and
only rewrites the result when a cheap scan finds a float written the Python way or a
surrogate; those rewrites are regex passes over the text, never a second walk of the value.

:func:`loads` is the peer-facing side: whatever it is given, it returns a value or raises
:class:`~thinkio.errors.RemoteProtocolError`. When ``orjson`` is installed
(``thinkio[speed]``) it parses first — six times faster than :mod:`json` on a typical packet —
and the standard parser decides every case where the two could disagree: anything orjson
refuses (so the error is :mod:`json`'s, and lone surrogates are read the way JS reads them),
and any value where orjson may have rounded an integer beyond 64 bits to a float (as JS does;
thinkio keeps it exact, as it always has).

Writing is :mod:`json`'s C encoder, built once per ``default`` hook, except for the usual
Socket.IO payload: a list of strings, integers, booleans and None, and flat objects of them
(and such a flat object alone: a CONNECT reply). Such a value holds no float (orjson writes
floats the Python way and NaN as ``null``, where thinkio must write JS notation or refuse), so
orjson writes it three times faster and byte for byte as ``JSON.stringify``; whatever orjson
refuses (an integer beyond 64 bits, a lone surrogate, a key that is not a string) goes to the
standard encoder, which decides.
"""

from __future__ import annotations

import functools
import json
import json.encoder
import re
from collections.abc import Callable
from typing import Any

from .errors import LocalProtocolError, RemoteProtocolError

_orjson_loads: Callable[[str], Any] | None
_orjson_dumps: Callable[[Any], bytes] | None
try:  # the optional accelerator (thinkio[speed])
    import orjson

    _orjson_loads = orjson.loads
    _orjson_dumps = orjson.dumps
    _OrjsonError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - depends on the install
    _orjson_loads = None
    _orjson_dumps = None
    _OrjsonError = ValueError

__all__ = ("dumper", "dumps", "js_number", "loads")

# A float that Python writes differently from JS: whole-valued (``1.0``, ``-0.0``) or in
# exponent notation (``1e-05``, ``1e+16``). Other floats print the same shortest digits in
# the same fixed notation in both languages, because Python's fixed-notation range
# (1e-4 <= |x| < 1e16) lies inside JS's (1e-6 <= |x| < 1e21). Strings may trip this scan
# ("v1.0"); that only costs the slow path, which is exact.
_PY_FLOAT_HINT = re.compile(r"[0-9]\.0(?![0-9])|[0-9]e[-+]")
# In the encoder's output: a whole string token (skipped), or a float token (rewritten).
_STRING_OR_FLOAT = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|-?[0-9]+(?:\.[0-9]+)?e[-+][0-9]+|-?[0-9]+\.[0-9]+'
)
# Escapes for re, not surrogates in the literal: mypyc cannot compile those.
_SURROGATE = re.compile(r"[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


def js_number(value: float) -> str:
    """Format a finite float like JS ``Number.prototype.toString()`` (ECMA-262 Number::toString).

    Python's ``repr`` and JS both produce the shortest digit string that round-trips, so only
    the notation differs: JS writes fixed notation for 1e-6 <= |x| < 1e21 and drops ``.0``.

    Raises:
        LocalProtocolError: ``value`` is NaN or infinite (JSON has no spelling for them).
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise LocalProtocolError(f"cannot encode {value!r} as JSON")
    if value == 0:
        return "0"  # JSON.stringify(-0) is "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    # value = 0.<digits> * 10**n, as in the spec's (s, k, n) decomposition.
    n = len(int_part) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    exp_text = f"e+{e}" if e >= 0 else f"e-{-e}"
    if k == 1:
        return sign + digits + exp_text
    return sign + digits[0] + "." + digits[1:] + exp_text


def _no_default(obj: Any) -> Any:
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _encoder_with(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """JSON's C encoder for one ``default`` hook (built once per hook, by :func:`dumper`:
    building one costs as much as an encoding). No circular-reference bookkeeping: a circular value recurses until
    ``RecursionError``, which :func:`dumps` reports like any other unencodable value."""
    make = getattr(json.encoder, "c_make_encoder", None)
    basestring: Callable[[str], str] = json.encoder.encode_basestring  # the C one when there
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=default
        ).encode
    encode = make(None, default, basestring, None, ":", ",", False, False, False)

    def encoder(value: Any) -> str:
        if isinstance(value, str):
            return basestring(value)
        return "".join(encode(value, 0))

    return encoder


def _fix_token(match: re.Match[str]) -> str:
    token = match.group()
    if token[0] == '"':
        return token
    return js_number(float(token))


def _fix_surrogate(match: re.Match[str]) -> str:
    text = match.group()
    if len(text) == 2:
        # A well-formed pair held as two code points: JS sees one character and writes it raw.
        high, low = ord(text[0]), ord(text[1])
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    return f"\\u{ord(text):04x}"


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Serialize ``value`` exactly as JS ``JSON.stringify`` would (PROTOCOL.md 2.1).

    dicts, lists, tuples, str, int, float, bool and None are accepted. Dict keys follow
    :mod:`json`'s rules (non-string keys are converted). Python ints are written in full
    even beyond 2**53, where JS would round.

    Args:
        value: the value to serialize.
        default: called for objects JSON cannot represent, as in :func:`json.dumps`; an
            exception it raises other than ``TypeError``/``ValueError`` propagates unchanged
            (the packet encoder uses this to detect bytes without a separate walk).

    Raises:
        LocalProtocolError: ``value`` holds NaN, an infinity, a circular reference or an
            object that is not JSON-serializable.
    """
    return (_dumps if default is None else dumper(default))(value)


_SCALARS = frozenset({str, int, bool, type(None)})


def _float_free(value: list[Any] | tuple[Any, ...]) -> bool:
    """Whether a list holds only strings, integers, booleans, None and flat objects of them
    (so no float, and nothing for a ``default`` hook): what orjson may write."""
    scalars = _SCALARS
    for item in value:
        kind = type(item)
        if kind in scalars:
            continue
        if kind is not dict:
            return False
        for inner in item.values():
            if type(inner) not in scalars:
                return False
    return True


def _make_dumper(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """:func:`dumps` with ``default`` bound, made once: what a hot path calls (looking the
    encoder up on every call costs a quarter of a small packet's encoding)."""
    encode = _encoder_with(default)
    fast = _orjson_dumps

    def dump(value: Any) -> str:
        kind = type(value)
        if fast is not None and (
            (kind is list and _float_free(value))
            or (kind is dict and _float_free((value,)))  # a flat object: a CONNECT reply
        ):
            try:
                return fast(value).decode()
            except TypeError:
                pass  # beyond 64 bits, a lone surrogate, a key not a string: see below
        try:
            text = encode(value)
        except (TypeError, ValueError, RecursionError, OverflowError) as exc:
            raise LocalProtocolError(f"value cannot be encoded as JSON: {exc}") from exc
        # Substring tests first (memchr speed): only a text holding one of them can hold a
        # float written the Python way.
        if (".0" in text or "e-" in text or "e+" in text) and _PY_FLOAT_HINT.search(
            text
        ) is not None:
            text = _STRING_OR_FLOAT.sub(_fix_token, text)
        if not text.isascii() and _SURROGATE.search(text) is not None:
            text = _SURROGATE.sub(_fix_surrogate, text)
        return text

    return dump


#: :func:`_make_dumper`, cached per ``default``. Declared rather than decorated: the type check
#: of the mypyc build (setup.py) left the decorated function's type undetermined ("Cannot
#: determine type") where socketio/packets.py uses it.
dumper: Callable[[Callable[[Any], Any]], Callable[[Any], str]] = functools.lru_cache(maxsize=16)(
    _make_dumper
)
_dumps = dumper(_no_default)


class _Rejected(Exception):
    """Raised inside the parser's hooks; turned into RemoteProtocolError by :func:`loads`."""


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        # JSON.parse("1e400") is Infinity, which nothing downstream can write back.
        raise _Rejected(f"number out of range: {text[:40]}")
    return value


_decode = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_parse_float).decode


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    # Iterative, so a deep value cannot overflow our own stack.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        else:
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


#: orjson reads integers in [-2**63, 2**64) exactly and rounds the others to a float.
_EXACT_LOW, _EXACT_HIGH = -(2**63), 2**64


def _may_be_rounded(value: Any) -> bool:
    """Whether orjson's result holds a float that may be a rounded integer (then the
    standard parser reads the text again, exactly). A walk of the values, not the text: it
    costs a few instructions per value, and most values are not floats at all."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
        elif kind is float and not _EXACT_LOW <= item < _EXACT_HIGH:
            return True
    return False


def loads(text: str, *, max_depth: int) -> Any:
    """Parse JSON sent by a peer, as strictly as JS ``JSON.parse``.

    ``NaN``, ``Infinity`` and ``-Infinity`` are refused, as are numbers that overflow to an
    infinity. Depth counts arrays and objects: ``[]`` has depth 1, ``[{}]`` depth 2.

    Args:
        text: the JSON text.
        max_depth: the deepest array/object nesting accepted (``Limits.max_json_depth``).

    Raises:
        RemoteProtocolError: for any text that is not JSON or breaks a bound, and only that.
    """
    if _orjson_loads is not None:
        try:
            value = _orjson_loads(text)
        except _OrjsonError:
            pass  # the standard parser gives the exact answer, or the standard error
        else:
            if type(value) is list:
                # The usual Socket.IO payload, [event, *args] of scalars: depth 1 and nothing
                # orjson could have rounded, seen without walking anything nested.
                for item in value:
                    kind = type(item)
                    if kind is float or kind is list or kind is dict:
                        break
                else:
                    return value
            if not _may_be_rounded(value):
                _check_depth(value, text, max_depth)
                return value
    try:
        value = _decode(text)
    except (_Rejected, ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"invalid JSON: {exc}") from None
    _check_depth(value, text, max_depth)
    return value


def _check_depth(value: Any, text: str, max_depth: int) -> None:
    # Depth can't exceed the number of opening brackets: most payloads skip the walk.
    if (
        isinstance(value, (dict, list))
        and text.count("[") + text.count("{") > max_depth
        and _depth_exceeds(value, max_depth)
    ):
        raise RemoteProtocolError(f"JSON nested deeper than {max_depth}")
