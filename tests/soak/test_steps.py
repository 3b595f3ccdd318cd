"""Failing programs are written out and read back unchanged (``python -m fuzz --replay``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz.net.steps import (
    BadFrame,
    CloseWs,
    Get,
    Handshake,
    Post,
    RawRequest,
    Send,
    Step,
    Upgrade,
    dump,
    load,
    render,
)
from fuzz.net.strategies import bad_frames, handshakes, raw_requests

steps = st.one_of(
    handshakes(),
    raw_requests(),
    st.builds(Get, st.just("s0")),
    st.builds(Post, st.just("s1"), st.binary(max_size=40)),
    st.builds(Send, st.just("s2"), st.text(max_size=20) | st.binary(max_size=20)),
    bad_frames("s3"),
    st.builds(Upgrade, st.just("s0"), st.sampled_from(["2probe", "4x"]), st.booleans()),
    st.builds(CloseWs, st.just("s2"), st.booleans()),
)


@given(st.lists(steps, max_size=8))
def test_dump_and_load_round_trip(program: list[Step]) -> None:
    loaded, meta = load(dump(program, url="http://127.0.0.1:1", finding="[x] y"))
    assert loaded == program
    assert meta == {"url": "http://127.0.0.1:1", "finding": "[x] y"}


def test_render_is_one_short_line() -> None:
    line = render(RawRequest(b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n", kind="big-head"))
    assert "\n" not in line and len(line) < 250 and "long)" in line
    assert render(Handshake(name="s0")) == "Handshake(s0)"
    assert render(BadFrame("s1", b"\x88", "close-one-byte", 1002)).startswith("BadFrame(s1, ")


@pytest.mark.parametrize("text", ["[]", "{}", '{"steps": [{"step": "Nope"}]}'])
def test_load_refuses_what_is_not_a_script(text: str) -> None:
    with pytest.raises(ValueError):
        load(text)
