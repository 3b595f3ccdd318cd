"""The RESP2 encoder and parser (sans-IO), and the Redis URL."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.adapters.errors import RedisReplyError
from thinkio.adapters.resp import NEED_DATA, RedisAddress, Reply, RespParser, encode_command
from thinkio.errors import ConfigError, RemoteProtocolError

#: (name, bytes Redis sends, the reply).
REPLIES: list[tuple[str, bytes, Reply]] = [
    ("simple string", b"+OK\r\n", "OK"),
    ("integer", b":42\r\n", 42),
    ("negative integer", b":-7\r\n", -7),
    ("bulk string", b"$5\r\nhello\r\n", b"hello"),
    ("empty bulk", b"$0\r\n\r\n", b""),
    ("bulk holding CRLF", b"$4\r\na\r\nb\r\n", b"a\r\nb"),
    ("null bulk", b"$-1\r\n", None),
    ("null array", b"*-1\r\n", None),
    ("empty array", b"*0\r\n", []),
    (
        "pmessage",
        b"*4\r\n$8\r\npmessage\r\n$3\r\np:*\r\n$3\r\np:1\r\n$2\r\n\x00\xff\r\n",
        [b"pmessage", b"p:*", b"p:1", b"\x00\xff"],
    ),
    (
        "subscribe confirmation",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
        [b"subscribe", b"c", 1],
    ),
    ("nested", b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", [[1], b"x"]),
]


def parse_all(data: bytes, chunk: int | None = None) -> list[Reply]:
    parser = RespParser()
    out: list[Reply] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for piece in pieces:
        parser.feed(piece)
        while (reply := parser.next_reply()) is not NEED_DATA:
            out.append(reply)
    return out


@pytest.mark.parametrize(("wire", "reply"), [r[1:] for r in REPLIES], ids=[r[0] for r in REPLIES])
def test_replies(wire: bytes, reply: Reply) -> None:
    assert parse_all(wire) == [reply]
    assert parse_all(wire, chunk=1) == [reply]


def test_error_reply_is_returned_not_raised() -> None:
    (reply,) = parse_all(b"-ERR unknown command\r\n")
    assert isinstance(reply, RedisReplyError)
    assert reply.message == "ERR unknown command"


@pytest.mark.parametrize(
    "wire",
    [
        b"!3\r\nabc\r\n",
        b":12a\r\n",
        b"$5\r\nhelloXX",
        b"$-2\r\n",
        b"*-5\r\n",
        b":\r\n",
        b"+" + b"a" * 70000,
    ],
    ids=[
        "resp3 type",
        "bad integer",
        "bulk without CRLF",
        "bulk length -2",
        "array length -5",
        "empty integer",
        "endless line",
    ],
)
def test_garbage_raises_the_peer_error(wire: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_all(wire)


def test_bounds() -> None:
    parser = RespParser(max_bulk_bytes=4, max_elements=2, max_depth=1)
    parser.feed(b"$5\r\n")
    with pytest.raises(RemoteProtocolError):
        parser.next_reply()
    parser = RespParser(max_elements=2)
    parser.feed(b"*3\r\n")
    with pytest.raises(RemoteProtocolError):
        parser.next_reply()
    parser = RespParser(max_depth=1)
    parser.feed(b"*1\r\n*1\r\n:1\r\n")
    with pytest.raises(RemoteProtocolError):
        parser.next_reply()


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert (
        encode_command("PUBLISH", "ch", b"\x00")
        == b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n\x00\r\n"
    )
    assert (
        encode_command("SELECT", 3, "é") == b"*3\r\n$6\r\nSELECT\r\n$1\r\n3\r\n$2\r\n\xc3\xa9\r\n"
    )


replies = st.recursive(
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4),
    max_leaves=12,
)


def to_wire(reply: Reply) -> bytes:
    if reply is None:
        return b"$-1\r\n"
    if isinstance(reply, int):
        return b":%d\r\n" % reply
    if isinstance(reply, bytes):
        return b"$%d\r\n%s\r\n" % (len(reply), reply)
    assert isinstance(reply, list)
    return b"*%d\r\n" % len(reply) + b"".join(to_wire(r) for r in reply)


@given(st.lists(replies, max_size=5), st.integers(min_value=1, max_value=16))
def test_chunking_does_not_change_the_replies(items: list[Reply], chunk: int) -> None:
    wire = b"".join(to_wire(r) for r in items)
    assert parse_all(wire) == items
    assert parse_all(wire, chunk=chunk) == items


@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_replies_or_the_peer_error(data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_all(data)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://127.0.0.1:6390/2", RedisAddress("127.0.0.1", 6390, 2)),
        ("redis://localhost", RedisAddress("localhost", 6379, 0)),
        ("redis://:s%40cret@h:1", RedisAddress("h", 1, 0, None, "s@cret")),
        ("redis://me:pw@h/0", RedisAddress("h", 6379, 0, "me", "pw")),
    ],
)
def test_urls(url: str, address: RedisAddress) -> None:
    assert RedisAddress.from_url(url) == address


@pytest.mark.parametrize("url", ["http://h", "rediss://h", "redis://h:x", "redis://h/db"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        RedisAddress.from_url(url)
