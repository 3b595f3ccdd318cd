"""Origin patterns (``allow_origin`` / ``cors["origin"]``): what matches, and every entry that
never could refused at start-up with the entry and the reason in the message."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from thinkio.errors import ConfigError
from thinkio.http.origins import split_origin
from thinkio.server import OriginPolicy

MATCHES: list[tuple[Any, str, bool]] = [
    # every origin
    (None, "https://any.example", True),
    (True, "https://any.example", True),
    ("*", "null", True),
    ("*:*", "http://x.example:1234", True),
    (["https://a.example", "*"], "https://b.example", True),
    # a full origin: scheme, host and port; default ports and case do not matter
    ("https://a.example", "https://a.example", True),
    ("https://a.example", "https://A.Example:443", True),
    ("https://a.example:443", "https://a.example", True),
    ("https://a.example", "http://a.example", False),
    ("https://a.example", "https://a.example:8443", False),
    ("https://a.example", "https://b.a.example", False),
    ("http://[::1]:8360", "http://[::1]:8360", True),
    # not an origin at all: never matched by a string entry
    ("https://a.example", "https://a.example/path", False),
    ("https://a.example", "https://user@a.example", False),
    ("https://a.example", "https://a.example, https://b.example", False),
    ("https://a.example", "null", False),
    ("https://a.example", "https://a.example:99999", False),
    # the legacy host:port form, any scheme, * wildcards
    ("127.0.0.1:8360", "http://127.0.0.1:8360", True),
    ("127.0.0.1:8360", "https://127.0.0.1:8360", True),
    ("127.0.0.1:8360", "http://127.0.0.1:8361", False),
    ("*:8360", "http://anything.example:8360", True),
    ("*.example.com:*", "https://chat.example.com", True),
    ("*.example.com:*", "https://example.com", False),
    ("*.example.com:443", "https://chat.example.com", True),
    ("*.example.com:443", "http://chat.example.com", False),  # port 80
    ("localhost", "http://localhost:3000", True),
    ("[::1]:8360", "http://[::1]:8360", True),
    ("[::1]", "http://[::1]:1", True),
    # regexes match the whole header
    (re.compile(r"https://([a-z]+\.)?example\.com"), "https://chat.example.com", True),
    (re.compile(r"https://([a-z]+\.)?example\.com"), "https://example.com.evil.net", False),
    (re.compile(r"https://([a-z]+\.)?example\.com"), "https://evilexample.com", False),
    ([re.compile(r"https://x\.example"), "127.0.0.1:*"], "http://127.0.0.1:9", True),
    # a function
    (lambda origin: origin.endswith(".trusted.example"), "https://a.trusted.example", True),
    (lambda origin: origin.endswith(".trusted.example"), "https://trusted.example", False),
]


@pytest.mark.parametrize(("spec", "origin", "allowed"), MATCHES)
def test_which_origins_match(spec: Any, origin: str, allowed: bool) -> None:
    assert OriginPolicy(spec).allows(origin) is allowed


@pytest.mark.parametrize("spec", ["https://a.example", ["b.example:1"], re.compile("x")])
def test_a_request_without_origin_is_no_browser_and_is_let_in(spec: Any) -> None:
    assert OriginPolicy(spec).allows(None)


def test_every_origin_is_recognised_whatever_the_spelling() -> None:
    for spec in (None, True, "*", "*:*", ["https://a.example", "*:*"]):
        assert OriginPolicy(spec).allow_all, spec
    for spec in ("https://a.example", "*:8360", re.compile(".*"), lambda o: True):
        assert not OriginPolicy(spec).allow_all, spec


def test_a_failing_function_refuses_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def broken(origin: str) -> bool:
        raise KeyError(origin)

    with caplog.at_level(logging.ERROR, logger="thinkio.engineio"):
        assert not OriginPolicy(broken).allows("https://a.example")
    assert "the origin check raised for 'https://a.example'" in caplog.text


BAD: list[tuple[Any, str]] = [
    # the two of issue 9
    (
        "https://*.example.com",
        "'https://*.example.com' never matches a browser's Origin: a full origin (with '://') "
        "is compared exactly, without wildcards; write the host:port form",
    ),
    ("localhost:abc", "'localhost:abc' never matches a browser's Origin: the port 'abc' is not"),
    # full origins
    (
        "https://a.example/",
        "'https://a.example/' never matches a browser's Origin: browsers send no trailing '/'; "
        "write 'https://a.example'",
    ),
    ("https://a.example/app", "an origin is scheme://host[:port], without a path or query"),
    ("https://a.example?x=1", "without a path or query"),
    ("https://me@a.example", "an origin carries no user name or password"),
    ("https://a.example:http", "its port is not a number from 0 to 65535"),
    ("https://a.example:70000", "its port is not a number from 0 to 65535"),
    ("http://", "'http://' never matches a browser's Origin: it has no host"),
    ("http://:8080", "it has no host"),
    ("1http://a.example", "'1http' is not a URL scheme"),
    # the host:port form
    ("localhost:3000/app", "a host:port pattern has no path"),
    ("https:a.example", "a scheme needs '//': did you mean 'https://a.example'?"),
    (":8080", "the host is empty; write '*:PORT' for any host on a port"),
    ("localhost:", "the port after ':' is empty; write 'host:*' for any port"),
    ("localhost:99999", "the port '99999' is not a number from 0 to 65535"),
    ("::1:8360", "write an IPv6 address in brackets: '[::1]:8360'"),
    ("[::1:8360", "an IPv6 address is written '[::1]:8360'"),
    ("[example.com]:80", "'example.com' is not an IPv6 address"),
    ("a_b?.example:80", "'a_b?.example' has characters no host name has"),
    ("exa mple.com", "an origin has no spaces or commas; give a list for several"),
    ("a.example,b.example", "an origin has no spaces or commas"),
    (" a.example", "an origin has no spaces or commas"),
    # other values
    ("", "an empty string is not an origin"),
    ("null", "'null' is the Origin of sandboxed frames and file:// pages"),
    ([], "an empty list allows no browser at all"),
    ([3], "expected origin strings or compiled regexes, got 3"),
    (3, "expected an origin string, a regex, a list of them, or a function, got 3"),
    (False, "False is not supported (Node's cors uses it to send no CORS headers)"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_an_entry_that_can_never_match_is_refused_at_start_up(spec: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        OriginPolicy(spec)
    assert str(info.value).startswith("allow_origin: ")
    assert message in str(info.value)


def test_the_error_names_the_bad_entry_of_a_list_and_the_setting() -> None:
    with pytest.raises(ConfigError) as info:
        OriginPolicy(
            ["https://good.example", "*:8360", "https://*.bad.example"], name="cors.origin"
        )
    message = str(info.value)
    assert message.startswith("cors.origin: 'https://*.bad.example' never matches")
    assert "good.example" not in message


@pytest.mark.parametrize(
    ("origin", "parts"),
    [
        ("https://a.example", ("https", "a.example", 443)),
        ("HTTP://A.example:8080", ("http", "a.example", 8080)),
        ("http://[::1]", ("http", "::1", 80)),
        ("chrome-extension://abcdef", ("chrome-extension", "abcdef", None)),
        ("null", None),
        ("https://a.example/", None),
        ("https://a.example:x", None),
        (" https://a.example", None),
    ],
)
def test_split_origin(origin: str, parts: tuple[str, str, int | None] | None) -> None:
    assert split_origin(origin) == parts
