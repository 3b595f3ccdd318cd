"""HttpProtocol (HTTP/1.1 over h11): keep-alive, pipelining, limits, timeouts, bad requests.

Most tests drive one connection through a MemoryTransport on a FakeClock: bytes in, bytes
out, time moved by hand. The last ones go through a real loopback server on both backends.
"""

from __future__ import annotations

import logging

import anyio
import pytest

from thinkio.http import HttpExchange, HttpRequest
from thinkio.server import Server

from .support import LIMITS, Harness, get, parse_responses, post

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def h() -> Harness:
    return Harness()


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


# -- keep-alive and pipelining -------------------------------------------------------------


def test_keep_alive_serves_requests_one_after_another(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/a"))
    [(status, headers, _)] = parse_responses(t.take())
    assert (status, headers[b"x-seen"]) == (200, b"GET /a")
    assert b"connection" not in headers
    t.feed(get("/b"))
    [(status, headers, _)] = parse_responses(t.take())
    assert (status, headers[b"x-seen"]) == (200, b"GET /b")
    assert not t.closing


def test_pipelined_requests_are_answered_in_order(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/1") + post("/echo", b"two") + get("/3"))
    answers = parse_responses(t.take())
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[0][1][b"x-seen"] == b"GET /1"
    assert answers[1][2] == b"two"
    assert answers[2][1][b"x-seen"] == b"GET /3"
    assert not t.closing


def test_pipelined_request_split_anywhere_gives_the_same_answers(h: Harness) -> None:
    stream = get("/1") + post("/echo", b"hello") + get("/3")
    t = h.connect()
    for i in range(len(stream)):
        t.feed(stream[i : i + 1])
    answers = parse_responses(t.take())
    assert [(a[0], a[2]) for a in answers] == [(200, b""), (200, b"hello"), (200, b"")]
    assert [s[1] for s in h.seen] == ["/1", "/echo", "/3"]


def test_pipelined_requests_wait_behind_a_parked_one_and_reading_pauses(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/park") + get("/next"))
    assert t.take() == b""  # the first is parked, the second waits its turn
    assert [s[1] for s in h.seen] == ["/park"]
    # More than a request's worth piles up behind it: the connection stops reading.
    for i in range(LIMITS.max_header_bytes // 20):
        t.feed(get(f"/more{i}"))
    assert t.reading_paused
    h.parked[0].respond(200, [], b"late")
    answers = parse_responses(t.take())
    assert answers[0][2] == b"late"
    assert answers[1][1][b"x-seen"] == b"GET /next"
    assert len(answers) == 2 + LIMITS.max_header_bytes // 20
    assert not t.reading_paused


def test_http_1_0_closes_after_its_answer(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/", version="1.0"))
    [(status, _, _)] = parse_responses(t.take())
    assert status == 200
    assert t.lost


def test_connection_close_is_honoured(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/", "Connection: close") + get("/never"))
    [(status, _, _)] = parse_responses(t.take())
    assert status == 200
    assert t.lost
    assert [s[1] for s in h.seen] == ["/"]


def test_head_gets_the_length_without_the_body(h: Harness) -> None:
    t = h.connect()
    t.feed(b"HEAD /echo HTTP/1.1\r\nHost: test\r\n\r\n" + get("/after"))
    data = t.take()
    # The HEAD answer has no body, so the next response follows its head directly.
    assert data.count(b"HTTP/1.1 200") == 2
    assert b"x-seen: GET /after" in data


# -- sizes ---------------------------------------------------------------------------------


def big_head(size: int) -> bytes:
    return get("/", "X-Filler: " + "a" * size)


def assert_refused(h: Harness, t: object, status: int) -> None:
    from thinkio.testing import MemoryTransport

    assert isinstance(t, MemoryTransport)
    answers = parse_responses(t.take())
    assert [a[0] for a in answers] == [status]
    assert answers[0][1][b"connection"] == b"close"
    # Our side is closed at once; the rest of the connection within the linger time.
    assert t.eof_written or t.lost
    h.linger_out()
    assert t.lost


def test_head_too_large_in_one_read_is_431(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    t = h.connect()
    t.feed(big_head(2 * LIMITS.max_header_bytes))
    assert_refused(h, t, 431)
    assert h.seen == []
    assert_no_traceback(caplog)


def test_head_just_under_the_limit_is_served(h: Harness) -> None:
    t = h.connect()
    t.feed(big_head(LIMITS.max_header_bytes - 100))
    [(status, _, _)] = parse_responses(t.take())
    assert status == 200


@pytest.mark.parametrize("piece", [1, 7, 100])
def test_head_too_large_in_pieces_is_431(
    h: Harness, caplog: pytest.LogCaptureFixture, piece: int
) -> None:
    t = h.connect()
    data = big_head(2 * LIMITS.max_header_bytes)
    for i in range(0, len(data), piece):
        t.feed(data[i : i + piece])
    assert_refused(h, t, 431)
    assert h.seen == []
    assert_no_traceback(caplog)


def test_many_small_headers_over_the_limit_are_431(h: Harness) -> None:
    t = h.connect()
    headers = [f"X-H{i}: {'v' * 20}" for i in range(LIMITS.max_header_bytes // 20)]
    t.feed(get("/", *headers))
    assert_refused(h, t, 431)


def test_declared_body_too_large_is_413_before_the_handler(h: Harness) -> None:
    t = h.connect()
    t.feed(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 101\r\n\r\n")
    assert_refused(h, t, 413)
    assert h.seen == []


def test_chunked_body_too_large_is_413_as_it_grows(h: Harness) -> None:
    t = h.connect()
    t.feed(b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
    t.feed(b"40\r\n" + b"a" * 0x40 + b"\r\n")
    assert t.take() == b""  # 64 bytes: still within 100
    t.feed(b"40\r\n" + b"a" * 0x40 + b"\r\n")
    assert_refused(h, t, 413)
    assert h.seen == []


def test_a_mounts_body_limit_applies_to_it_alone(h: Harness) -> None:
    t = h.connect()
    t.feed(post("/echo", b"x" * 50))
    [(status, _, body)] = parse_responses(t.take())
    assert (status, body) == (200, b"x" * 50)
    t.feed(post("/small", b"x" * 11))
    assert_refused(h, t, 413)


def test_a_mount_added_later_serves_a_path_served_before(h: Harness) -> None:
    """The router remembers where each path went; a new mount changes that at once."""

    def new_mount(request: HttpRequest, exchange: HttpExchange) -> None:
        exchange.respond(200, [(b"x-seen", b"new mount")])

    t = h.connect()
    t.feed(get("/later/x"))
    t.feed(get("/later/x"))
    h.mount("/later", new_mount)
    t.feed(get("/later/x"))
    seen = [headers.get(b"x-seen") for _, headers, _ in parse_responses(t.take())]
    assert seen == [b"GET /later/x", b"GET /later/x", b"new mount"]


def test_body_at_the_limit_is_served(h: Harness) -> None:
    t = h.connect()
    t.feed(post("/echo", b"y" * LIMITS.max_body_bytes))
    [(status, _, body)] = parse_responses(t.take())
    assert (status, len(body)) == (200, LIMITS.max_body_bytes)


def test_what_follows_a_refused_body_is_dropped(h: Harness) -> None:
    t = h.connect()
    t.feed(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 500\r\n\r\n")
    t.feed(b"z" * 500 + get("/smuggled"))
    assert_refused(h, t, 413)
    assert h.seen == []


# -- timeouts (fake clock) -----------------------------------------------------------------


def test_idle_keep_alive_connection_is_closed_at_its_deadline(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/"))
    t.take()
    h.clock.advance(LIMITS.keep_alive_timeout - 0.1)
    assert not t.closing
    h.clock.advance(1.1)  # the deadline, and at most one sweep after it
    assert t.lost
    assert t.take() == b""  # closed quietly: no 408 for a connection between requests


def test_each_answer_restarts_the_keep_alive_deadline(h: Harness) -> None:
    t = h.connect()
    for _ in range(4):
        t.feed(get("/"))
        t.take()
        h.clock.advance(LIMITS.keep_alive_timeout - 1.5)
    assert not t.closing


def test_a_connection_that_never_speaks_is_closed_at_the_header_timeout(h: Harness) -> None:
    t = h.connect()
    h.clock.advance(LIMITS.header_timeout - 0.1)
    assert not t.closing
    h.clock.advance(1.1)
    assert t.lost


def test_a_head_that_does_not_finish_in_time_gets_408(h: Harness) -> None:
    t = h.connect()
    t.feed(b"GET / HTTP/1.1\r\nHost: te")
    h.clock.advance(LIMITS.header_timeout - 0.1)
    t.feed(b"st\r\nX-Slow: 1")  # dribbling bytes does not move the deadline
    assert not t.closing
    h.clock.advance(1.1)
    [(status, headers, _)] = parse_responses(t.take())
    assert status == 408
    assert headers[b"connection"] == b"close"
    assert t.lost
    assert h.seen == []


def test_an_unanswered_request_gets_408_at_the_request_timeout(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/silent"))
    h.clock.advance(LIMITS.request_timeout - 0.1)
    assert t.take() == b""
    h.clock.advance(1.1)
    [(status, _, _)] = parse_responses(t.take())
    assert status == 408
    assert t.lost


def test_a_parked_exchange_has_no_request_timeout(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/park"))
    h.clock.advance(3 * LIMITS.request_timeout)
    assert not t.closing
    h.parked[0].respond(200, [], b"finally")
    [(_, _, body)] = parse_responses(t.take())
    assert body == b"finally"


def test_a_parked_exchange_learns_when_its_client_goes(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/park"))
    t.disconnect(ConnectionResetError())
    assert h.aborted == h.parked
    assert h.parked[0].aborted
    h.parked[0].respond(200, [], b"nobody")  # a no-op now
    assert h.server.open == 0


def test_open_connections_are_counted_until_lost(h: Harness) -> None:
    a, b = h.connect(), h.connect()
    assert h.server.open == 2
    a.feed(get("/", "Connection: close"))
    assert a.lost
    assert h.server.open == 1
    b.disconnect()
    assert h.server.open == 0


# -- bad requests --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.0", "0.9", "1.2", "3.0", "9.9"])
def test_http_versions_other_than_1_0_and_1_1_are_400(
    h: Harness, caplog: pytest.LogCaptureFixture, version: str
) -> None:
    t = h.connect()
    t.feed(get("/", version=version))
    assert_refused(h, t, 400)
    assert h.seen == []
    assert_no_traceback(caplog)


def test_content_length_with_transfer_encoding_is_400_and_closed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # RFC 9112 6.3: a proxy in front may have framed this by Content-Length, which would make
    # "GET /smuggled" a request of its own there and part of this body here (or the reverse).
    smuggler = (
        b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get("/smuggled")
    )
    t = h.connect()
    t.feed(smuggler)
    assert_refused(h, t, 400)
    assert h.seen == []
    assert_no_traceback(caplog)


def test_smuggling_attempt_after_a_good_request_is_refused_too(h: Harness) -> None:
    t = h.connect()
    t.feed(get("/first"))
    t.feed(
        b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: 3\r\n\r\n0\r\n\r\n"
    )
    answers = parse_responses(t.take())
    assert [a[0] for a in answers] == [200, 400]
    assert [s[1] for s in h.seen] == ["/first"]


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
        b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\n: empty-name\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n",
        b"\xff\xfe\xfd\r\n\r\n",
    ],
)
def test_malformed_requests_are_400_without_a_traceback(
    h: Harness, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    t = h.connect()
    t.feed(data)
    answers = parse_responses(t.take())
    assert [a[0] for a in answers] == [400], answers
    h.linger_out()
    assert t.lost
    assert h.seen == []
    assert_no_traceback(caplog)
    assert any("bad request" in r.getMessage() for r in caplog.records)


def test_an_unknown_transfer_coding_is_501_and_says_so(h: Harness) -> None:
    # RFC 9112 6.1: a transfer coding the server does not understand is 501.
    t = h.connect()
    t.feed(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
    answers = parse_responses(t.take())
    assert [(a[0], a[2]) for a in answers] == [(501, b"Not Implemented")]
    assert h.seen == []


def test_a_431_found_in_pieces_says_431_in_its_body(h: Harness) -> None:
    t = h.connect()
    data = big_head(2 * LIMITS.max_header_bytes)
    for i in range(0, len(data), 100):
        t.feed(data[i : i + 100])
    [(status, _, body)] = parse_responses(t.take())
    assert (status, body) == (431, b"Request Header Fields Too Large")


def test_bad_chunked_framing_mid_body_is_400(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    t = h.connect()
    t.feed(b"POST /echo HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n")
    t.feed(b"zz\r\nnot hex\r\n")
    assert_refused(h, t, 400)
    assert_no_traceback(caplog)


def test_a_refused_connection_disturbs_no_other(h: Harness) -> None:
    good, bad = h.connect(), h.connect()
    good.feed(get("/park"))
    bad.feed(b"NONSENSE\r\n\r\n")
    h.linger_out()
    assert bad.lost and not good.closing
    h.parked[0].respond(200, [], b"fine")
    assert parse_responses(good.take())[0][2] == b"fine"


def test_a_failing_handler_is_500_and_the_connection_closed(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(request: HttpRequest, exchange: HttpExchange) -> None:
        raise ValueError("boom")

    h.mount("/broken", broken)
    t = h.connect()
    t.feed(get("/broken"))
    [(status, headers, _)] = parse_responses(t.take())
    assert (status, headers[b"connection"]) == (500, b"close")
    assert t.lost
    # A bug in the application is logged with its traceback (it is ours, not the peer's).
    assert any(r.exc_info for r in caplog.records)


def test_eof_mid_head_closes_the_connection(h: Harness) -> None:
    t = h.connect()
    t.feed(b"GET / HTTP/1.1\r\nHo")
    t.feed_eof()
    assert t.lost
    assert h.server.open == 0


# -- async handlers (both backends) --------------------------------------------------------


@pytest.mark.anyio
async def test_an_async_handler_answers_later_and_pipelined_requests_wait(h: Harness) -> None:
    release = anyio.Event()
    started = anyio.Event()

    async def slow(request: HttpRequest, exchange: HttpExchange) -> None:
        started.set()
        await release.wait()
        exchange.respond(200, [], b"slow")

    h.mount("/slow", slow)
    async with anyio.create_task_group() as tg:
        await tg.start(h.tasks.run)
        t = h.connect()
        t.feed(get("/slow") + get("/after"))
        with anyio.fail_after(5):
            await started.wait()
        assert t.take() == b""
        release.set()
        with anyio.fail_after(5):
            await h.tasks.wait_idle()
        answers = parse_responses(t.take())
        assert [a[2] for a in answers] == [b"slow", b""]
        assert answers[1][1][b"x-seen"] == b"GET /after"
        tg.cancel_scope.cancel()


@pytest.mark.anyio
async def test_an_async_handler_that_forgets_to_answer_is_500(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async def forgetful(request: HttpRequest, exchange: HttpExchange) -> None:
        await anyio.lowlevel.checkpoint()

    h.mount("/forgetful", forgetful)
    async with anyio.create_task_group() as tg:
        await tg.start(h.tasks.run)
        t = h.connect()
        t.feed(get("/forgetful"))
        with anyio.fail_after(5):
            await h.tasks.wait_idle()
        [(status, _, _)] = parse_responses(t.take())
        assert status == 500
        assert any("without answering" in r.getMessage() for r in caplog.records)
        tg.cancel_scope.cancel()


# -- a real loopback server (both backends) ------------------------------------------------


async def read_until_eof(stream: anyio.abc.SocketStream) -> bytes:
    data = b""
    with anyio.fail_after(5):
        while True:
            try:
                chunk = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return data
            data += chunk


@pytest.mark.anyio
async def test_pipelining_over_a_real_socket() -> None:
    io = Server(limits=LIMITS)

    def echo(request: HttpRequest, exchange: HttpExchange) -> None:
        exchange.respond(200, [], request.target.encode())

    io.mount("/echo", echo)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        try:
            async with await anyio.connect_tcp("127.0.0.1", bound.port) as stream:
                await stream.send(
                    get("/echo/1") + get("/echo/2") + get("/echo/3", "Connection: close")
                )
                answers = parse_responses(await read_until_eof(stream))
            assert [(a[0], a[2]) for a in answers] == [
                (200, b"/echo/1"),
                (200, b"/echo/2"),
                (200, b"/echo/3"),
            ]
        finally:
            with anyio.fail_after(10):
                await io.shutdown(timeout=2)


@pytest.mark.anyio
async def test_a_client_still_sending_a_refused_body_reads_the_413() -> None:
    io = Server(limits=LIMITS)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        try:
            async with await anyio.connect_tcp("127.0.0.1", bound.port) as stream:
                await stream.send(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n")
                # The body keeps coming after the refusal; the server drains it instead of
                # resetting the connection, so the 413 is not lost.
                for _ in range(20):
                    await stream.send(b"b" * 10_000)
                answers = parse_responses(await read_until_eof(stream))
            assert [a[0] for a in answers] == [413]
        finally:
            with anyio.fail_after(10):
                await io.shutdown(timeout=2)


@pytest.mark.anyio
async def test_content_length_with_transfer_encoding_over_a_real_socket() -> None:
    io = Server(limits=LIMITS)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        try:
            async with await anyio.connect_tcp("127.0.0.1", bound.port) as stream:
                await stream.send(
                    b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + get("/smuggled")
                )
                answers = parse_responses(await read_until_eof(stream))
            # One answer, and the server closed the connection (read_until_eof returned).
            assert [a[0] for a in answers] == [400]
        finally:
            with anyio.fail_after(10):
                await io.shutdown(timeout=2)
