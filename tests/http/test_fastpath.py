"""The HTTP fast path agrees with h11: a request it takes is one h11 reads the same way, and
the response it writes is byte for byte the one h11 writes (thinkio/http/fastpath.py)."""

from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkio.http import HttpExchange, HttpRequest
from thinkio.http.fastpath import parse_plain, response_head

from .support import Harness, parse_responses


@pytest.fixture
def h() -> Harness:
    return Harness()


#: Header lines, plain and not: case, spaces, tabs, obs-text, framing and connection headers.
HEADER_LINES = st.sampled_from(
    [
        b"Host: 127.0.0.1:8000",
        b"host:x",
        b"HOST:  x  ",
        b"Host: other",
        b"Accept: */*",
        b"User-Agent: node",
        b"Content-Type: text/plain;charset=UTF-8",
        b"Content-Length: 0",
        b"Content-Length: 5",
        b"content-length:   3 ",
        b"Content-Length: 05",
        b"Content-Length: -1",
        b"Content-Length: 1e3",
        b"Transfer-Encoding: chunked",
        b"Connection: keep-alive",
        b"Connection: Keep-Alive",
        b"Connection: close",
        b"Connection: Upgrade",
        b"Connection: keep-alive, Upgrade",
        b"Connection: upgrade,keep-alive",
        b"Upgrade: websocket",
        b"Expect: 100-continue",
        b"Cookie: io=abc; a=b",
        b"X-Empty:",
        b"X-Tab: a\tb",
        b"X-Obs: \xff",
        b"X-Inner: a  b",
        b"Bad Name: x",
        b" folded",
        b"NoColon",
        b"X-Nul: a\x00b",
    ]
)
REQUEST_LINES = st.sampled_from(
    [
        b"GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1",
        b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1",
        b"GET / HTTP/1.1",
        b"GET http://x/a?b HTTP/1.1",
        b"POST /echo HTTP/1.0",
        b"HEAD / HTTP/1.1",
        b"OPTIONS * HTTP/1.1",
        b"GET  / HTTP/1.1",
        b"GET /\xff HTTP/1.1",
        b"get / HTTP/1.1",
        b"GET / HTTP/1.2",
    ]
)
PLAIN_LINES = [
    b"GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1",
    b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1",
]
PLAIN_HEADERS = [
    b"Accept: */*",
    b"Connection: keep-alive",
    b"Content-Type: text/plain;charset=UTF-8",
    b"X-Inner: a  b",
    b"X-Empty:",
]


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):  # half of them near-plain, so both outcomes are common
        line = draw(st.sampled_from(PLAIN_LINES))
        headers = draw(st.lists(st.sampled_from(PLAIN_HEADERS), max_size=4, unique=True))
        headers.insert(draw(st.integers(0, len(headers))), draw(HEADER_LINES))
    else:
        line = draw(REQUEST_LINES)
        headers = draw(st.lists(HEADER_LINES, max_size=6))
    if draw(st.booleans()):
        headers.insert(draw(st.integers(0, len(headers))), b"Host: x")
    body = draw(st.sampled_from([b"", b"abc", b"hello", b"40", b"hello world"]))
    tail = draw(st.sampled_from([b"", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"GE"]))
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body + tail


def h11_reads(data: bytes) -> tuple[h11.Request, bytes, bytes] | None:
    """What h11 makes of the first request in ``data``: the request, its body and the bytes
    after it; None if it refuses it or wants more."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    body = b""
    try:
        request = conn.next_event()
        if not isinstance(request, h11.Request):
            return None
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body, bytes(conn.trailing_data[0])
            else:
                return None
    except h11.RemoteProtocolError:
        return None


@settings(max_examples=2000, deadline=None)
@given(requests())
def test_a_request_the_fast_path_takes_is_one_h11_reads_the_same_way(data: bytes) -> None:
    plain = parse_plain(data)
    if plain is None:
        return
    method, target, headers, text_headers, body, used = plain
    read = h11_reads(data)
    assert read is not None, data
    request, h11_body, rest = read
    assert (method, target) == (request.method, request.target)
    assert headers == [(name.lower(), value) for name, value in request.headers.raw_items()]
    assert text_headers == HttpRequest.from_h11(request, ("", 0)).headers
    assert body == h11_body
    assert data[used:] == rest
    assert request.http_version == b"1.1"


def test_the_fast_path_takes_the_requests_polling_clients_send() -> None:
    """Not vacuous: the requests of socket.io-client, python-socketio and browsers are plain."""
    for data in (
        b"GET /socket.io/?EIO=4&transport=polling&t=P1 HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n"
        b"Connection: keep-alive\r\nAccept: */*\r\n\r\n",
        b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n"
        b"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\n40",
    ):
        assert parse_plain(data) is not None


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n\r\n",  # no Host: h11 refuses it, with its status
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab",  # body not all here
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n",  # head not all here
    ],
)
def test_what_is_not_plain_is_left_to_h11(data: bytes) -> None:
    assert parse_plain(data) is None


HEADERS = st.lists(
    st.sampled_from(
        [
            (b"content-type", b"text/plain; charset=UTF-8"),
            (b"access-control-allow-origin", b"http://localhost:3000"),
            (b"access-control-allow-credentials", b"true"),
            (b"Set-Cookie", b"io=abc; Path=/; HttpOnly; SameSite=Lax"),
            (b"X-Tab", b"a\tb"),
            (b"X-Obs", b"\xfe"),
            (b"X-Empty", b""),
            (b"X-Bad", b"a\r\nb"),
            (b"X-Space", b" a"),
            (b"Bad Name", b"x"),
        ]
    ),
    max_size=4,
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from([200, 204, 304, 400, 403, 404, 408, 413, 500, 599]),
    HEADERS,
    st.sampled_from([b"", b"ok", b"hello world"]),
    st.booleans(),
)
def test_a_response_is_the_bytes_h11_writes(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes, close: bool
) -> None:
    hdrs = list(headers)
    if status not in (204, 304):
        hdrs.append((b"content-length", str(len(body)).encode()))
    else:
        body = b""
    if close:
        hdrs.append((b"connection", b"close"))
    reason = b"Whatever" if status == 599 else b"Some Reason"
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.next_event()
    conn.next_event()
    try:
        expected: bytes | None = conn.send(
            h11.Response(status_code=status, headers=hdrs, reason=reason)
        )
    except h11.LocalProtocolError:
        expected = None
    length = None if status in (204, 304) else len(body)
    assert response_head(status, reason, list(headers), length, close) == expected


def test_h11_and_the_fast_path_take_turns_on_one_connection(h: Harness) -> None:
    """A plain request, one split over two reads (h11's), then plain ones again, and a
    pipelined pair: every answer in order, the same as h11 alone would give."""
    t = h.connect()
    t.feed(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    t.feed(b"GET /b HTTP/1.1\r\nHo")
    t.feed(b"st: x\r\n\r\n")
    t.feed(b"GET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n")
    t.feed(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    answers = parse_responses(t.take())
    assert [r[1].get(b"x-seen") for r in answers[:4]] == [
        b"GET /a",
        b"GET /b",
        b"GET /c",
        b"GET /d",
    ]
    assert answers[4][2] == b"abc"
    assert not t.closing


def test_a_head_sent_again_makes_the_same_request_as_h11(h: Harness) -> None:
    """A head sent again (a polling client repeats its own) makes the same request, a copy of
    its own (a handler changing its request does not change the next one), with its own body;
    the same head with its body split over two reads goes to h11, which makes the same
    request of it too."""
    seen: list[tuple[object, ...]] = []

    def handler(request: HttpRequest, exchange: HttpExchange) -> None:
        query, headers, raw = dict(request.query), dict(request.headers), request.raw_headers
        seen.append((request.method, request.target, request.path, query, headers, list(raw)))
        request.headers["x-changed"] = "1"
        request.query["sid"] = "changed"
        request.raw_headers.clear()
        exchange.respond(200, [], request.body)

    h.mount("/memo", handler)
    t = h.connect()
    head = b"POST /memo?sid=abc HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
    t.feed(head + b"abc")
    t.feed(head + b"xyz")
    t.feed(head + b"q")
    t.feed(b"rs")
    assert [answer[2] for answer in parse_responses(t.take())] == [b"abc", b"xyz", b"qrs"]
    assert seen[0] == (
        "POST",
        "/memo?sid=abc",
        "/memo",
        {"sid": "abc"},
        {"host": "x", "content-length": "3"},
        [(b"host", b"x"), (b"content-length", b"3")],
    )
    assert seen[1] == seen[0]
    assert seen[2] == seen[0]


def test_a_large_header_block_is_read_the_same_every_time() -> None:
    """Blocks above the size the fast path keeps are read afresh, with the same result."""
    data = (
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nCookie: "
        + b"a" * 5000
        + b"\r\n\r\n"
    )
    read = h11_reads(data)
    assert read is not None
    expected = [(name.lower(), value) for name, value in read[0].headers.raw_items()]
    for _ in range(2):
        plain = parse_plain(data)
        assert plain is not None
        assert plain[2] == expected
        assert plain[3]["cookie"] == "a" * 5000
