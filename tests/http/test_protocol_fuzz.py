"""Fuzz: whatever bytes a peer sends, HttpProtocol never raises and never logs a traceback;
it answers 4xx (or 200/501 for what happens to be a request), or waits, and a wait ends at
the latest when the header timeout does (h11's own fuzz invariant, one layer up)."""

from __future__ import annotations

import itertools
import logging
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from .support import LIMITS, Harness

#: Pieces of requests, so that the fuzzer reaches past the request line often.
TOKENS = st.sampled_from(
    [
        b"GET",
        b"POST",
        b"HEAD",
        b"OPTIONS",
        b" ",
        b"/",
        b"/echo",
        b"/small",
        b"?a=1",
        b"#f",
        b"HTTP/1.1",
        b"HTTP/1.0",
        b"HTTP/2.0",
        b"HTTP/1.1\r\nHost: x\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b"Host: x",
        b"Content-Length: ",
        b"Transfer-Encoding: chunked",
        b"Connection: close",
        b"Expect: 100-continue",
        b": ",
        b"0",
        b"5",
        b"ff",
        b"99999999999",
        b"\x00",
        b"\xff",
        b"\t",
        b"a" * 300,
    ]
)
STREAMS = st.lists(TOKENS | st.binary(max_size=16), max_size=60).map(b"".join)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@settings(max_examples=400, deadline=None)
@given(stream=STREAMS, cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8))
def test_any_bytes_get_an_answer_or_a_bounded_wait(stream: bytes, cuts: list[int]) -> None:
    errors = _Errors()
    logger = logging.getLogger("thinkio")
    logger.addHandler(errors)
    try:
        h = Harness(quiet=True)
        t = h.connect()
        edges = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
        for start, end in itertools.pairwise(edges):
            t.feed(stream[start:end])
        written = t.take()
        if not written:
            assert not t.closing  # nothing answered yet: waiting for more
        elif re.search(rb"^HTTP/1\.1 4", written, re.M):
            assert t.eof_written or t.closing  # a refusal ends the connection
        # The wait is bounded: by the end of the longest timeout the connection is gone.
        h.clock.advance(LIMITS.request_timeout + 2.0)
        written += t.take()
        assert t.lost
        # Every body the server can write here is a fixed text, so status lines are found by
        # pattern (a HEAD answer's length does not frame a body).
        statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", written)]
        assert written.startswith(b"HTTP/1.1 ") or not written
        assert set(statuses) <= {200, 400, 408, 413, 431, 501}, statuses
        assert h.server.open == 0
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]
