"""WebSocketConnection (thinkio/websocket): the hand-written fast path for whole data frames
against wsproto used alone, on a generated corpus; and each kind of bad frame closing with
its code (RFC 6455 section 7.4.1: 1002 protocol error, 1007 invalid payload, 1009 too big)."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkio.websocket import WebSocketClosed, WebSocketConnection

from .support import close_payload, encode, outcome_of, pong_payloads, reference

BIG = 16 * 1024 * 1024
#: The length classes of RFC 6455 section 5.2: 7-bit, 16-bit and 64-bit lengths, at their edges.
SIZES = [0, 1, 125, 126, 127, 65535, 65536, 70_000]

keys = st.binary(min_size=4, max_size=4)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[int, bytes]:
    """(opcode, payload) of one message: text (maybe bad UTF-8) or binary, of any size class."""
    size = draw(st.sampled_from(SIZES) | st.integers(0, 300))
    if draw(st.booleans()):
        unit = draw(st.text(min_size=1, max_size=8)).encode()
        body = (unit * (size // len(unit) + 1))[:size]
        if draw(st.integers(0, 9)) == 0:  # now and then: invalid UTF-8
            cut = draw(st.integers(0, len(body)))
            body = body[:cut] + draw(st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80"]))
        return 0x1, body
    return 0x2, random.Random(draw(st.integers())).randbytes(size)


@st.composite
def controls(draw: st.DrawFn) -> bytes:
    """A ping or a pong, masked."""
    opcode = draw(st.sampled_from([0x9, 0xA]))
    return encode(opcode, draw(st.binary(max_size=125)), key=draw(keys))


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """One message: whole, or in fragments (cut anywhere, even inside a UTF-8 character),
    with pings and pongs between its fragments."""
    opcode, body = draw(payloads())
    if draw(st.booleans()):
        return encode(opcode, body, key=draw(keys))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), min_size=1, max_size=4)))
    pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    out = b""
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        out += encode(opcode if i == 0 else 0x0, piece, key=draw(keys), fin=last)
        if not last and draw(st.booleans()):
            out += draw(controls())
    return out


@st.composite
def closes(draw: st.DrawFn) -> bytes:
    code = draw(
        st.sampled_from([None, 1000, 1001, 1003, 1008, 1011, 3000, 4999])
        | st.sampled_from([999, 1004, 1005, 1006, 1015, 2999, 5000])  # not to be sent
    )
    reason = draw(st.text(max_size=20)).encode()[:100] if code is not None else b""
    if code is not None and draw(st.integers(0, 9)) == 0:
        reason += b"\xff"
    return encode(0x8, close_payload(code, reason), key=draw(keys))


@st.composite
def wrong_frames(draw: st.DrawFn) -> bytes:
    """A frame a server must refuse."""
    kind = draw(st.sampled_from(["unmasked", "rsv", "opcode", "fragmented ping", "orphan"]))
    if kind == "unmasked":
        return encode(0x1, b"hello", key=None)
    if kind == "rsv":
        return encode(0x1, b"hello", rsv=draw(st.integers(1, 7)))
    if kind == "opcode":
        return encode(draw(st.sampled_from([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])), b"x")
    if kind == "fragmented ping":
        return encode(0x9, b"x", fin=False)
    return encode(0x0, b"continuation of nothing")


streams = st.lists(messages() | controls() | closes() | wrong_frames(), min_size=1, max_size=6).map(
    b"".join
)


def run(data: bytes, chunks: list[int], max_message: int = BIG) -> tuple[list, bytes]:  # type: ignore[type-arg]
    conn = WebSocketConnection(client=False, max_message=max_message)
    items: list = []  # type: ignore[type-arg]
    edges = sorted({0, len(data), *(c for c in chunks if c < len(data))})
    for a, b in itertools.pairwise(edges):
        items += conn.receive_data(data[a:b])
    return items, conn.data_to_send()


@settings(max_examples=300, deadline=None)
@given(data=streams, chunks=st.lists(st.integers(0, 200_000), max_size=6))
def test_the_fast_path_agrees_with_wsproto(data: bytes, chunks: list[int]) -> None:
    items, written = run(data, chunks)
    ours = outcome_of(items, written)
    theirs = reference(data)
    assert ours.messages == theirs.messages
    assert ours.pings == theirs.pings  # each ping answered with its payload
    if theirs.close is None:
        assert ours.close is None
    else:
        assert ours.close is not None
        assert ours.close[0] == theirs.close[0]
        end = items[-1]
        assert isinstance(end, WebSocketClosed)
        if end.by_peer:
            assert ours.close == theirs.close
    # Cut into pieces or not, the same stream means the same messages.
    whole, _ = run(data, [])
    assert items == whole


# -- bad frames, one by one ----------------------------------------------------------------


def receive(data: bytes, max_message: int = BIG) -> tuple[list, WebSocketConnection]:  # type: ignore[type-arg]
    conn = WebSocketConnection(client=False, max_message=max_message)
    return conn.receive_data(data), conn


def closed_with(data: bytes, max_message: int = BIG) -> tuple[int, bool, list[int]]:
    """The close code and whether the peer was to blame, and the close we sent back."""
    items, conn = receive(data, max_message)
    end = items[-1]
    assert isinstance(end, WebSocketClosed), items
    assert conn.closed
    _, sent = pong_payloads(conn.data_to_send())
    return end.code, end.by_peer, sent


@pytest.mark.parametrize(
    "data",
    [
        encode(0x1, b"hello", key=None),  # a client frame must be masked (5.1)
        encode(0x2, b"x" * 200, key=None),
        encode(0x1, b"hello", rsv=4),  # RSV1 without a negotiated extension (5.2)
        encode(0x3, b"x"),  # reserved data opcode
        encode(0xB, b"x"),  # reserved control opcode
        encode(0x9, b"x", fin=False),  # control frames are never fragmented (5.5)
        encode(0x0, b"orphan"),  # a continuation with no message open
        encode(0x1, b"a", fin=False) + encode(0x1, b"b"),  # a new message inside one
        encode(0x8, b"\x03"),  # a close payload of one byte
    ],
)
def test_protocol_errors_close_with_1002(data: bytes) -> None:
    assert closed_with(data) == (1002, False, [1002])


def test_a_control_frame_over_125_bytes_is_1002_from_its_header_alone() -> None:
    frame = encode(0x9, b"p" * 126)
    assert closed_with(frame[:4]) == (1002, False, [1002])


def test_invalid_utf8_in_a_whole_text_frame_is_1007() -> None:
    assert closed_with(encode(0x1, b"ok \xff")) == (1007, False, [1007])


def test_invalid_utf8_across_fragments_is_1007() -> None:
    data = encode(0x1, b"caf\xc3", fin=False) + encode(0x0, b"(")  # 0xC3 0x28: not UTF-8
    assert closed_with(data) == (1007, False, [1007])


def test_a_character_split_across_fragments_is_fine() -> None:
    data = encode(0x1, "café".encode()[:4], fin=False) + encode(0x0, "café".encode()[4:])
    items, conn = receive(data)
    assert items == ["café"]
    assert not conn.closed


def test_invalid_utf8_in_a_close_reason_is_1007() -> None:
    assert closed_with(encode(0x8, close_payload(1000, b"\xff")))[0] == 1007


@pytest.mark.parametrize("code", [999, 1004, 1005, 1006, 1015, 2999, 5000])
def test_a_close_code_that_may_not_be_sent_is_1002(code: int) -> None:
    assert closed_with(encode(0x8, close_payload(code)))[:2] == (1002, False)


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1008, 1011, 3000, 4999])
def test_a_peers_close_is_echoed(code: int) -> None:
    assert closed_with(encode(0x8, close_payload(code, b"bye"))) == (code, True, [code])


def test_a_close_without_a_code_is_1005_and_answered_without_one() -> None:
    items, conn = receive(encode(0x8, b""))
    assert items == [WebSocketClosed(1005, "", True)]
    assert conn.data_to_send() == b"\x88\x00"


@pytest.mark.parametrize("size", [126, 65536, 70_000])
def test_a_frame_over_the_limit_is_1009_from_its_header_alone(size: int) -> None:
    frame = encode(0x2, b"z" * size)
    header = frame[: 4 if size < 65536 else 10]
    assert closed_with(header, max_message=125) == (1009, False, [1009])


def test_a_message_at_the_limit_is_accepted() -> None:
    items, _ = receive(encode(0x2, b"z" * 125), max_message=125)
    assert items == [b"z" * 125]


def test_fragments_adding_up_over_the_limit_are_1009() -> None:
    data = b"".join(encode(0x2 if i == 0 else 0x0, b"f" * 40, fin=False) for i in range(4))
    assert closed_with(data, max_message=125) == (1009, False, [1009])


def test_text_fragments_are_counted_in_bytes_not_characters() -> None:
    # 4-byte characters: 20 bytes but 5 characters per fragment. 7 fragments are 140 bytes.
    piece = ("😀" * 5).encode()
    data = b"".join(encode(0x1 if i == 0 else 0x0, piece, fin=i == 6) for i in range(7))
    assert closed_with(data, max_message=125)[:2] == (1009, False)


def test_pings_are_answered_and_messages_flow_around_them() -> None:
    data = (
        encode(0x1, b"one", fin=False)
        + encode(0x9, b"are you there")
        + encode(0x0, b" two")
        + encode(0x2, b"\x00\x01")
        + encode(0xA, b"unsolicited pong")
    )
    items, conn = receive(data)
    assert items == ["one two", b"\x00\x01"]
    assert pong_payloads(conn.data_to_send()) == ([b"are you there"], [])


def test_no_pong_after_our_close() -> None:
    conn = WebSocketConnection(client=False, max_message=BIG)
    conn.close(1001)
    assert conn.receive_data(encode(0x9, b"late")) == []
    assert conn.data_to_send() == b""


def test_the_transport_dying_is_1006() -> None:
    conn = WebSocketConnection(client=False, max_message=BIG)
    conn.receive_data(encode(0x1, b"half")[:3])
    assert conn.receive_data(None) == [WebSocketClosed(1006, "", True)]
    assert conn.receive_data(encode(0x1, b"after")) == []


def test_nothing_is_read_after_a_close() -> None:
    items, _ = receive(encode(0x8, close_payload(1000)) + encode(0x1, b"ignored"))
    assert items == [WebSocketClosed(1000, "", True)]


def test_a_client_connection_reads_unmasked_frames_and_refuses_masked_ones() -> None:
    client = WebSocketConnection(client=True, max_message=BIG)
    assert client.receive_data(encode(0x1, b"from server", key=None)) == ["from server"]
    [end] = client.receive_data(encode(0x1, b"masked"))
    assert isinstance(end, WebSocketClosed) and end.code == 1002
    # What the client sends is masked (and our server reads it back).
    server = WebSocketConnection(client=False, max_message=BIG)
    client = WebSocketConnection(client=True, max_message=BIG)
    assert server.receive_data(client.send("x" * 70_000) + client.send(b"\x00")) == [
        "x" * 70_000,
        b"\x00",
    ]
