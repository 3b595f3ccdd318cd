"""The notepack-compatible MessagePack codec: golden vectors from Node, and properties."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.adapters.msgpack import packb, unpackb
from thinkio.errors import LocalProtocolError, RemoteProtocolError

from .vectors import MSGPACK, MSGPACK_DECODE_ONLY, MSGPACK_INVALID


@pytest.mark.parametrize(("value", "wire"), [v[1:] for v in MSGPACK], ids=[v[0] for v in MSGPACK])
def test_encodes_as_notepack_does(value: Any, wire: str) -> None:
    assert packb(value).hex() == wire


@pytest.mark.parametrize(("value", "wire"), [v[1:] for v in MSGPACK], ids=[v[0] for v in MSGPACK])
def test_decodes_what_notepack_writes(value: Any, wire: str) -> None:
    assert unpackb(bytes.fromhex(wire)) == value


@pytest.mark.parametrize(
    ("wire", "value"), [v[1:] for v in MSGPACK_DECODE_ONLY], ids=[v[0] for v in MSGPACK_DECODE_ONLY]
)
def test_decodes_older_and_other_forms(wire: str, value: Any) -> None:
    assert unpackb(bytes.fromhex(wire)) == value


@pytest.mark.parametrize(
    "wire", [v[1] for v in MSGPACK_INVALID], ids=[v[0] for v in MSGPACK_INVALID]
)
def test_invalid_input_raises_the_peer_error(wire: str) -> None:
    with pytest.raises(RemoteProtocolError):
        unpackb(bytes.fromhex(wire))


def test_str_and_bytes_stay_apart() -> None:
    assert unpackb(packb(["a", b"a", bytearray(b"a"), memoryview(b"a")])) == ["a", b"a", b"a", b"a"]


def test_int_keys_are_read_back_as_strings_like_js_object_keys() -> None:
    # Written as an integer (the msgpack package has no key hook); notepack reads it as the
    # JS object key "1", and so does unpackb.
    assert packb({1: "x"}).hex() == "8101a178"
    assert unpackb(packb({1: "x"})) == {"1": "x"}


def test_tuples_are_arrays() -> None:
    assert unpackb(packb((1, (2,)))) == [1, [2]]


def test_on_date_chooses_the_date_type() -> None:
    assert unpackb(bytes.fromhex("d6ff6553f100"), on_date=lambda ms: ms) == 1700000000000


def test_a_naive_datetime_counts_as_utc() -> None:
    naive = datetime(2024, 1, 2, 3, 4, 5, 678000)
    assert unpackb(packb(naive)) == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**63) - 1, object(), "\ud800", {1}],
    ids=["uint64+1", "int64-1", "object", "lone surrogate", "set"],
)
def test_unencodable_values_raise_the_local_error(value: Any) -> None:
    with pytest.raises(LocalProtocolError):
        packb(value)


def test_depth_is_bounded_when_reading() -> None:
    with pytest.raises(RemoteProtocolError):
        unpackb(b"\x91" * 100 + b"\x90")
    assert unpackb(b"\x91" * 10 + b"\x90", max_depth=11) is not None


def test_a_date_out_of_range_raises_the_peer_error() -> None:
    with pytest.raises(RemoteProtocolError):
        unpackb(bytes.fromhex("c70cff00000000" + "7fffffffffffffff"))


# --------------------------------------------------------------------------- properties

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.integers(min_value=-(10**13), max_value=10**13).map(
        lambda ms: _EPOCH + timedelta(milliseconds=ms)
    )
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: Any) -> None:
    assert unpackb(packb(value)) == value


@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_a_value_or_the_peer_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        unpackb(data)


@given(values, st.binary(max_size=8), st.integers(min_value=0, max_value=64))
def test_mutated_encodings_give_a_value_or_the_peer_error(
    value: Any, junk: bytes, cut: int
) -> None:
    encoded = packb(value)
    for data in (encoded[:cut], encoded[:cut] + junk + encoded[cut:], encoded + junk):
        with contextlib.suppress(RemoteProtocolError):
            unpackb(data)
