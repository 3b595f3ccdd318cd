"""thinkio._json: JS-compatible output, strict peer-facing input (PROTOCOL.md 2.1)."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from thinkio import _json
from thinkio.errors import RemoteProtocolError

from .strategies import finite_floats, garbage_text, json_values, normal_json

DEEP = 10_000
#: ECMA-262 Number::toString output: fixed notation without a trailing ".0", or one digit,
#: an optional fraction and an exponent with an explicit sign and no leading zeros.
JS_NUMBER = re.compile(
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?|-?[1-9](?:\.[0-9]*[1-9])?e[-+][1-9][0-9]*"
)

json_texts = json_values(max_depth=5, surrogates=True).map(_json.dumps)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(json_values(max_depth=5, surrogates=True))
def test_dumps_then_loads_round_trips(value: Any) -> None:
    text = _json.dumps(value)
    assert normal_json(_json.loads(text, max_depth=DEEP)) == normal_json(value)


@given(json_values(max_depth=5, surrogates=True))
def test_dumps_is_compact_utf8_json_any_parser_reads(value: Any) -> None:
    text = _json.dumps(value)
    text.encode("utf-8")  # lone surrogates are escaped, so this never fails
    assert normal_json(json.loads(text)) == normal_json(value)
    assert _json.dumps(json.loads(text)) == text  # canonical: a second pass changes nothing


@given(finite_floats)
@example(1e21)
@example(1e-7)
@example(1e-6)
@example(9.999999999999999e-7)
@example(9.999999999999998e20)
@example(123e-20)
@example(-0.0)
@example(5e-324)
@example(1.7976931348623157e308)
def test_js_number_is_the_shortest_js_spelling(value: float) -> None:
    text = _json.js_number(value)
    assert JS_NUMBER.fullmatch(text), text
    assert float(text) == value
    # Fixed notation exactly in JS's range 1e-6 <= |x| < 1e21 (and for 0).
    assert ("e" in text) == (value != 0 and not 1e-6 <= abs(value) < 1e21)
    # Same significant digits as Python's shortest repr.
    digits = repr(abs(value)).split("e")[0].replace(".", "").strip("0")
    assert text.lstrip("-").split("e")[0].replace(".", "").strip("0") == digits


@given(garbage_text(json_texts), st.integers(1, 40))
@example('{"a":NaN}', 32)
@example("[1e400]", 32)
@example("-Infinity", 32)
@example("[" * 100_000, 32)
@example("1" * 5000, 32)
@example('"\\ud800"', 32)
@example('"\\u12"', 32)
@example(" 1 ", 32)
@example("[[[]]]", 2)
def test_loads_gives_a_value_or_remote_protocol_error(text: str, max_depth: int) -> None:
    try:
        value = _json.loads(text, max_depth=max_depth)
    except RemoteProtocolError:
        return
    assert _depth(value) <= max_depth
    # Whatever a peer may send, we can write back, and reading that gives the same value.
    again = _json.loads(_json.dumps(value), max_depth=max_depth)
    assert normal_json(again) == normal_json(value)
    # Never laxer than the standard parser with NaN and Infinity refused.
    json.loads(text, parse_constant=_refuse)


def _refuse(name: str) -> None:
    raise ValueError(name)
