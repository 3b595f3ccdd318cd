"""A request's query parameters are what the standard library reads (thinkio/http/request.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkio.http.request import parse_query

#: Query text with the characters that matter: separators, escapes, plus signs.
QUERIES = st.text(alphabet="ab=&%+2F0 é", max_size=30) | st.sampled_from(
    [
        "EIO=4&transport=polling&t=P1a&sid=abc",
        "EIO=4&transport=polling&sid=a%2Bb",
        "a&&b=&=c&a=2",
        "q=one+two",
    ]
)


@settings(max_examples=1000, deadline=None)
@given(QUERIES)
def test_the_query_is_read_as_parse_qsl_reads_it(query: str) -> None:
    assert parse_query(query) == dict(parse_qsl(query, keep_blank_values=True))
