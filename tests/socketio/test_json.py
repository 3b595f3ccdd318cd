"""thinkio._json: JSON exactly as JS writes it, parsed as strictly as JS (PROTOCOL.md 2.1)."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio import _json
from thinkio._json import dumps, js_number, loads
from thinkio.errors import LocalProtocolError, RemoteProtocolError

# Inputs and the output of Node 22's JSON.stringify for them (generated once with node -e).
JS_FLOATS = [
    1.0, -0.0, 0.1, 0.5, 1e-7, 1e-6, 1.5e-7, 123456789012345680000.0, 1e21, 1.2345e21,
    1e16, 1.2345e16, 5e-324, 1.7976931348623157e308, 100.0, -2.5, 0.000001234,
    float(2**53), float(2**53 + 2), 1 / 3, -1e-10, 123.456e5, 4.35, 0.1 + 0.2,
]  # fmt: skip
JS_FLOATS_OUT = (
    "[1,0,0.1,0.5,1e-7,0.000001,1.5e-7,123456789012345680000,1e+21,1.2345e+21,"
    "10000000000000000,12345000000000000,5e-324,1.7976931348623157e+308,100,-2.5,"
    "0.000001234,9007199254740992,9007199254740994,0.3333333333333333,-1e-10,12345600,"
    "4.35,0.30000000000000004]"
)


def test_floats_match_js() -> None:
    assert dumps(JS_FLOATS) == JS_FLOATS_OUT


def test_strings_match_js() -> None:
    value = ["\ud800", "a\udc00b", "\ud83d\ude00", 'é\u2028\u0000\u001f\u007f"\\/']
    expected = '["\\ud800","a\\udc00b","😀","é\u2028\\u0000\\u001f\u007f\\"\\\\/"]'
    assert dumps(value) == expected
    expected.encode("utf-8")


def test_key_order_and_compact_separators() -> None:
    assert dumps({"b": 1, "a": [], "é": {}}) == '{"b":1,"a":[],"é":{}}'


def test_strings_that_look_like_floats_are_untouched() -> None:
    value = {"1.0": "v1.0 and 1e+16", "x": [1.0, 'q"1.0"']}
    assert dumps(value) == '{"1.0":"v1.0 and 1e+16","x":[1,"q\\"1.0\\""]}'


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, [1, {"a": math.nan}], {1, 2}, object(), b"x"]
)
def test_dumps_refuses_what_json_cannot_hold(value: object) -> None:
    with pytest.raises(LocalProtocolError):
        dumps(value)


def test_dumps_refuses_circular_values() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(LocalProtocolError):
        dumps(loop)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_number_round_trips_and_uses_js_notation(value: float) -> None:
    text = js_number(value)
    assert float(text) == value
    assert not text.endswith(".0") and "e-0" not in text and "e+0" not in text
    magnitude = abs(value)
    assert ("e" in text) == (magnitude != 0 and not 1e-6 <= magnitude < 1e21)


# Text with surrogates too: lone ones, and pairs held as two code points.
any_text = st.text(st.characters(categories=("L", "N", "P", "S", "Z", "C", "Cs")), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def as_js_sees_it(value: object) -> object:
    """Numbers are all doubles; strings are UTF-16, so a surrogate pair is one character."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [as_js_sees_it(v) for v in value]
    assert isinstance(value, dict)
    return {as_js_sees_it(k): as_js_sees_it(v) for k, v in value.items()}


@given(json_values)
def test_dumps_loads_round_trip(value: object) -> None:
    text = dumps(value)
    text.encode("utf-8")  # always encodable, even with lone surrogates
    assert as_js_sees_it(loads(text, max_depth=1000)) == as_js_sees_it(value)


@given(st.text(max_size=60))
def test_loads_only_raises_remote_protocol_error(text: str) -> None:
    with contextlib.suppress(RemoteProtocolError):
        loads(text, max_depth=4)


@pytest.mark.parametrize(
    "text",
    ["NaN", "[Infinity]", "-Infinity", "1e400", "[1,]", "{'a':1}", "", "[", '"\x01"', "01"],
)
def test_loads_refuses_what_json_parse_refuses(text: str) -> None:
    with pytest.raises(RemoteProtocolError):
        loads(text, max_depth=32)


def test_loads_depth() -> None:
    assert loads("[[[]]]", max_depth=3) == [[[]]]
    assert loads('[{"a":"[[[[[[["}]', max_depth=2) == [{"a": "[[[[[[["}]
    with pytest.raises(RemoteProtocolError):
        loads("[[[]]]", max_depth=2)
    with pytest.raises(RemoteProtocolError):
        loads('{"a":{"b":{}}}', max_depth=2)
    with pytest.raises(RemoteProtocolError):
        loads("[" * 200_000 + "]" * 200_000, max_depth=32)


def test_loads_matches_plain_json() -> None:
    text = '{"a":[1,2.5,"x",null,true],"b":{}}'
    assert loads(text, max_depth=32) == json.loads(text)


# The usual payload, which orjson writes when installed: scalars and flat objects of them,
# with what orjson refuses (integers beyond 64 bits, lone surrogates, non-string keys) mixed in.
flat_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | any_text
flat_payloads = st.lists(
    flat_scalars | st.dictionaries(any_text | st.integers(-5, 5), flat_scalars, max_size=3),
    max_size=5,
)


@given(flat_payloads | st.dictionaries(any_text | st.integers(-5, 5), flat_scalars, max_size=3))
def test_the_fast_writer_agrees_with_the_standard_encoder(value: object) -> None:
    pytest.importorskip("orjson", reason="the fast writer is orjson (thinkio[speed])")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_json, "_orjson_dumps", None)
        standard = _json.dumper.__wrapped__(_json._no_default)
    assert dumps(value) == standard(value)
