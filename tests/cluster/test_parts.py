"""The cluster's parts alone: sid routing, head peeking, the channel framing, handed streams."""

from __future__ import annotations

import json
import os
import socket

import anyio
import h11
import httpx
import pytest

from thinkio.cluster.appref import app_reference
from thinkio.cluster.channel import MAX_FRAME, Channel, ChannelError, decode_body, encode_frame
from thinkio.cluster.routing import (
    owner_of,
    peek_head,
    rebuild_head,
    session_owner,
    sid_from_head,
    sid_prefix,
    sockjs_session,
    target_from_head,
)
from thinkio.cluster.stream import HandedStream
from thinkio.server import Server

from . import app as test_app

# -- routing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "expected"),
    [
        ("0.abc", 0),
        ("2.Xq3_-z", 2),
        ("3.abc", None),  # no such worker
        ("abc", None),  # not a cluster sid
        (".abc", None),
        ("1.", None),
        ("-1.abc", None),
        ("٣.abc", None),  # a non-ASCII digit
        ("00001.abc", None),  # too many digits
        ("1 .abc", None),
    ],
)
def test_owner_of(sid: str, expected: int | None) -> None:
    assert owner_of(sid, 3) == expected


def test_sid_prefix_round_trips() -> None:
    assert all(owner_of(sid_prefix(i) + "tok", 10) == i for i in range(10))


@pytest.mark.parametrize(
    ("head", "sid"),
    [
        (b"GET /socket.io/?EIO=4&transport=polling&sid=1.ab HTTP/1.1\r\nhost: x\r\n\r\n", "1.ab"),
        (b"POST /socket.io/?sid=0.x%2Dy&EIO=4 HTTP/1.1\r\n\r\nbody", "0.x-y"),
        (b"\r\nGET /?sid=2.q HTTP/1.1\n\n", "2.q"),
        (b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n", None),
        (b"GET /socket.io/?EIO=4&xsid=1.a HTTP/1.1\r\n\r\n", None),
        (b"garbage\r\n\r\n", None),
        (b"GET /?sid=1.a HTTP/1.1", "1.a"),  # an incomplete head still names its sid
    ],
)
def test_sid_from_head(head: bytes, sid: str | None) -> None:
    assert sid_from_head(head) == sid


@pytest.mark.parametrize(
    ("path", "session"),
    [
        ("/sockjs/123/abcd1234/xhr", "abcd1234"),
        ("/sockjs/123/abcd1234/xhr_send?t=1", "abcd1234"),
        ("/sockjs/0/s/xhr_streaming/", "s"),
        ("/sockjs/123/abcd1234/websocket", "abcd1234"),
        ("/sockjs/info", None),
        ("/sockjs/websocket", None),
        ("/sockjs", None),
        ("/sockjsx/1/s/xhr", None),
        ("/sockjs/1//xhr", None),
        ("/sockjs/1/a.b/xhr", None),
        ("/socket.io/?EIO=4", None),
    ],
)
def test_sockjs_session(path: str, session: str | None) -> None:
    assert sockjs_session(path, "/sockjs") == session


def test_target_from_head() -> None:
    assert target_from_head(b"POST /sockjs/1/s/xhr HTTP/1.1\r\n\r\n") == "/sockjs/1/s/xhr"
    assert target_from_head(b"\r\nGET /a?b HTTP/1.1") == "/a?b"
    assert target_from_head(b"garbage\r\n\r\n") is None


def test_a_client_named_session_has_one_owner_and_they_spread() -> None:
    owners = [session_owner(f"{n:08x}", 3) for n in range(3000)]
    assert owners == [session_owner(f"{n:08x}", 3) for n in range(3000)]
    assert all(900 < owners.count(i) < 1100 for i in range(3))


def test_rebuild_head_parses_back_to_the_same_request() -> None:
    original = h11.Request(
        method="POST",
        target="/socket.io/?EIO=4&sid=1.a",
        headers=[("Host", "x"), ("Content-Length", "2"), ("X-Odd", "a, b")],
    )
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(
        rebuild_head("POST", original.target.decode(), "1.1", list(original.headers)) + b"ok"
    )
    event = conn.next_event()
    assert isinstance(event, h11.Request)
    assert (event.method, event.target, list(event.headers)) == (
        b"POST",
        original.target,
        list(original.headers),
    )
    assert isinstance(conn.next_event(), h11.Data)


@pytest.mark.anyio
async def test_peek_head_reads_to_the_end_of_the_head() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        async with anyio.create_task_group() as tg:

            async def trickle() -> None:
                for part in (b"GET /?sid=1.a HT", b"TP/1.1\r\nhost: x\r", b"\n\r\nbody"):
                    b.sendall(part)
                    # peek_head has looked at this part and waits for more: one part per read.
                    await anyio.wait_all_tasks_blocked()

            tg.start_soon(trickle)
            with anyio.fail_after(5):
                data, complete = await peek_head(a, 1000)
        assert complete and data.startswith(b"GET /?sid=1.a HTTP/1.1\r\nhost: x\r\n\r\n")
        b.sendall(b"x" * 3000)
        with anyio.fail_after(5):
            data, complete = await peek_head(a, 1000)
        assert not complete and len(data) > 1000  # too long: handed on as it is
        b.close()
        with anyio.fail_after(5):
            assert await peek_head(a, 1000) == (b"", False)


# -- the channel --------------------------------------------------------------------------------


def test_frames_round_trip() -> None:
    header = {"t": "pub", "nsp": "/", "x": [1, "é", None]}
    blobs = [b"", b"\x00\xff" * 1000, b"text"]
    frame = encode_frame(header, blobs)
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    assert decode_body(frame[4:]) == (header, blobs)


@pytest.mark.parametrize(
    "body",
    [
        b"\x00\x00",
        b"\x00\x00\x00\x09{}",
        b"\x00\x00\x00\x02{x",
        b"\x00\x00\x00\x02[]",
        b"\x00\x00\x00\x02{}\x00\x00\x00\x05abc",
        b"\x00\x00\x00\x02{}\x00\x00",
    ],
)
def test_malformed_frames_are_refused(body: bytes) -> None:
    with pytest.raises(ChannelError):
        decode_body(body)


def test_oversized_frames_are_refused() -> None:
    with pytest.raises(ChannelError):
        encode_frame({"t": "x"}, [b"\x00" * MAX_FRAME])


@pytest.mark.anyio
async def test_descriptors_arrive_with_their_own_frame() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    sender, receiver = await Channel.from_socket(left), await Channel.from_socket(right)
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    try:
        big = bytes(range(256)) * 8192  # 2 MiB: many reads
        async with anyio.create_task_group() as tg:

            async def send_all() -> None:
                await sender.send({"t": "a"}, [big])
                await sender.send({"t": "b"}, [b"with fd"], fd=r1)
                await sender.send({"t": "c"}, [big])
                await sender.send({"t": "d"}, [], fd=r2)
                await sender.send({"t": "e"})

            tg.start_soon(send_all)
            got = []
            with anyio.fail_after(10):
                for _ in range(5):
                    got.append(await receiver.receive())
        assert [m.type for m in got] == ["a", "b", "c", "d", "e"]
        assert [m.fd is not None for m in got] == [False, True, False, True, False]
        assert got[0].blobs == [big] and got[2].blobs == [big] and got[1].blobs == [b"with fd"]
        os.write(w1, b"one")
        os.write(w2, b"two")
        assert got[1].fd is not None and got[3].fd is not None
        assert os.read(got[1].fd, 10) == b"one" and os.read(got[3].fd, 10) == b"two"
        os.close(got[1].fd)
        os.close(got[3].fd)
        await sender.aclose()
        with pytest.raises(anyio.EndOfStream):
            await receiver.receive()
    finally:
        for fd in (r1, w1, r2, w2):
            os.close(fd)
        await receiver.aclose()


# -- handed streams, app references, the sid hook ------------------------------------------------


@pytest.mark.anyio
async def test_a_detached_stream_leaves_unread_bytes_to_the_next_owner() -> None:
    a, b = socket.socketpair()
    with b:
        b.sendall(b"in the kernel")
        stream = HandedStream(a, b"pre")
        assert await stream.receive(2) == b"pr"
        sock, rest = stream.detach()
        assert rest == b"e"
        await stream.aclose()  # a no-op: the socket was given away
        with sock:
            assert sock.recv(100) == b"in the kernel"


def test_app_references() -> None:
    assert app_reference(test_app.build_server) == "tests.cluster.app:build_server"
    assert app_reference("pkg.mod:obj.factory") == "pkg.mod:obj.factory"


@pytest.mark.anyio
async def test_the_engine_prefixes_its_sids() -> None:
    io = Server()
    io.engine.sid_prefix = sid_prefix(7)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        async with httpx.AsyncClient() as http:
            r = await http.get(f"{bound.url}/socket.io/?EIO=4&transport=polling")
        assert json.loads(r.text[1:])["sid"].startswith("7.")
        with anyio.fail_after(10):
            await io.shutdown(timeout=0.5)
