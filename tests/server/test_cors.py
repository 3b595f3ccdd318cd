"""CORS: Node's ``cors`` options with safe defaults, as headers and through a real server.

The policy's headers first (what each option puts on an answer), then black-box through a
running :class:`Server` on asyncio and trio with httpx: every answer that carries CORS
headers (handshake, GET, POST, error replies, preflight) carries the configured ones, foreign
origins are refused on both transports before anything is served, and the settings that
would be unsafe or can never work are refused when the server is built.
tests/interop/test_cors_browser.py shows the same in a real browser.
"""

from __future__ import annotations

import re
from typing import Any

import anyio
import httpx
import pytest

from thinkio.client import Client
from thinkio.errors import ConfigError, ConnectionFailed
from thinkio.server import CorsOptions, CorsPolicy, Server

from .conftest import fast_server, running

GOOD = "https://good.example"
EVIL = "https://evil.example"


def h(headers: list[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    """Headers as name -> values, to compare without caring about their order."""
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name.decode(), []).append(value.decode())
    return out


# -- the policy's headers ----------------------------------------------------------------------


def test_default_allows_every_origin_with_a_wildcard_and_never_credentials() -> None:
    policy = CorsPolicy()
    assert policy.allows(EVIL) and policy.allows(None) and policy.allows("null")
    assert h(policy.headers(EVIL)) == {"access-control-allow-origin": ["*"]}
    assert h(policy.headers(None)) == {"access-control-allow-origin": ["*"]}
    assert h(policy.preflight_headers(EVIL, "content-type, x-token")) == {
        "access-control-allow-origin": ["*"],
        "access-control-allow-methods": ["GET, POST"],
        "access-control-allow-headers": ["content-type, x-token"],
        "vary": ["Access-Control-Request-Headers"],
    }
    # a preflight asking for no headers gets none allowed, and no max-age unless configured
    assert h(policy.preflight_headers(EVIL, None)) == {
        "access-control-allow-origin": ["*"],
        "access-control-allow-methods": ["GET, POST"],
        "vary": ["Access-Control-Request-Headers"],
    }


def test_restricted_origins_are_echoed_with_vary() -> None:
    policy = CorsPolicy(allow_origin=[GOOD, "127.0.0.1:*"])
    assert policy.allows(GOOD) and policy.allows("http://127.0.0.1:3000")
    assert not policy.allows(EVIL)
    assert h(policy.headers(GOOD)) == {"access-control-allow-origin": [GOOD], "vary": ["Origin"]}
    # no Origin: no browser asked, but a cache must still know the answer depends on it
    assert h(policy.headers(None)) == {"vary": ["Origin"]}


def test_every_option_as_node_puts_it_on_the_answers() -> None:
    policy = CorsPolicy(
        {
            "origin": [GOOD, re.compile(r"https://[a-z]+\.good\.example")],
            "credentials": True,
            "methods": "get,post",
            "allowedHeaders": ["Content-Type", "X-Token"],
            "exposedHeaders": "X-Served-By",
            "maxAge": 600,
        }
    )
    assert policy.allows("https://chat.good.example") and not policy.allows(EVIL)
    actual = {
        "access-control-allow-origin": [GOOD],
        "vary": ["Origin"],
        "access-control-allow-credentials": ["true"],
        "access-control-expose-headers": ["X-Served-By"],
    }
    assert h(policy.headers(GOOD)) == actual
    assert h(policy.preflight_headers(GOOD, "x-other")) == {
        **actual,
        "access-control-allow-methods": ["GET, POST"],
        "access-control-allow-headers": ["Content-Type, X-Token"],  # configured, not reflected
        "access-control-max-age": ["600"],
    }


def test_allow_origin_feeds_the_same_policy_as_cors_origin() -> None:
    for policy in (
        CorsPolicy({"credentials": True}, allow_origin=GOOD),
        CorsPolicy({"origin": GOOD, "credentials": True}),
        CorsPolicy(CorsOptions(origin=GOOD, credentials=True)),
    ):
        assert policy.allows(GOOD) and not policy.allows(EVIL)
        assert h(policy.headers(GOOD))["access-control-allow-credentials"] == ["true"]


UNSAFE_OR_BROKEN: list[tuple[dict[str, Any], str]] = [
    (
        {"cors": {"credentials": True}},
        "cors.credentials: True needs the allowed origins named in cors.origin or allow_origin",
    ),
    ({"cors": {"origin": "*", "credentials": True}}, "cors.credentials: True needs the allowed"),
    ({"cors": {"origin": True, "credentials": True}}, "CVE-2020-28481"),
    ({"allow_origin": "*:*", "cors": {"credentials": True}}, "browsers refuse '*' with"),
    (
        {"allow_origin": GOOD, "cors": {"origin": GOOD}},
        "cors.origin: the origins are also given as allow_origin",
    ),
    ({"cors": {"origin": "https://*.example.com"}}, "cors.origin: 'https://*.example.com' never"),
    ({"allow_origin": "localhost:abc"}, "allow_origin: 'localhost:abc' never matches"),
    ({"cors": {"preflightContinue": True}}, "cors: unknown key 'preflightContinue'"),
    ({"cors": {"maxAge": "1d"}}, "cors.max_age: expected a number of seconds (as in the header)"),
    ({"cors": {"max_age": True}}, "cors.max_age: expected a number of seconds"),
    ({"cors": {"credentials": 1}}, "cors.credentials: expected True or False, got 1"),
    ({"cors": {"methods": 7}}, "cors.methods: expected a list of names or a 'A,B' string"),
    ({"cors": {"exposed_headers": ["X-A", "bad header"]}}, "'bad header' is not a method or"),
    ({"cors": ["origin"]}, "cors: expected a dict of cors options"),
]


def test_options_built_directly_are_checked_and_normalised_too() -> None:
    assert CorsPolicy(CorsOptions(methods="get,post")).options.methods == ("GET", "POST")
    with pytest.raises(ConfigError, match=r"cors\.credentials: True needs the allowed origins"):
        CorsPolicy(CorsOptions(credentials=True))
    with pytest.raises(ConfigError, match=r"cors\.max_age: expected a number of seconds"):
        Server(cors=CorsOptions(origin=GOOD, max_age=-1))


@pytest.mark.parametrize(("kwargs", "message"), UNSAFE_OR_BROKEN)
def test_unsafe_or_broken_settings_stop_the_server_from_being_built(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Server(**kwargs)
    assert message in str(info.value)


# -- through a running server ------------------------------------------------------------------


def polling(url: str, sid: str | None = None) -> str:
    return f"{url}/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")


def handshake_sid(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.text.startswith("0{")
    sid = re.search(r'"sid":"([^"]+)"', response.text)
    assert sid is not None
    return sid.group(1)


WS_UPGRADE = {
    "connection": "Upgrade",
    "upgrade": "websocket",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
}


@pytest.mark.anyio
async def test_default_answers_every_origin_with_a_wildcard_and_no_credentials() -> None:
    async with running(fast_server()) as url, httpx.AsyncClient() as http:
        headers = {"origin": EVIL}
        hello = await http.get(polling(url), headers=headers)
        sid = handshake_sid(hello)
        post = await http.post(polling(url, sid), content="40", headers=headers)
        get = await http.get(polling(url, sid), headers=headers)
        unknown = await http.get(polling(url, "nope"), headers=headers)  # an error reply
        bad = await http.get(f"{url}/socket.io/?EIO=9&transport=polling", headers=headers)
        preflight = await http.options(
            polling(url),
            headers={
                **headers,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert (post.status_code, post.text) == (200, "ok")
        assert get.status_code == 200 and get.text.startswith("40")
        assert (unknown.status_code, unknown.json()["code"]) == (400, 1)
        assert (bad.status_code, bad.json()["code"]) == (400, 5)
        assert preflight.status_code == 204
        for response in (hello, post, get, unknown, bad, preflight):
            assert response.headers["access-control-allow-origin"] == "*", response.request
            assert "access-control-allow-credentials" not in response.headers, response.request
            assert "Origin" not in response.headers.get("vary", ""), response.request
        assert preflight.headers["access-control-allow-methods"] == "GET, POST"
        assert preflight.headers["access-control-allow-headers"] == "content-type"
        assert preflight.headers["vary"] == "Access-Control-Request-Headers"
        assert "access-control-max-age" not in preflight.headers


@pytest.mark.anyio
async def test_credentials_for_named_origins_on_every_answer_and_others_refused() -> None:
    io = fast_server(
        cors={
            "origin": [GOOD],
            "credentials": True,
            "allowed_headers": ["content-type"],
            "exposed_headers": ["x-served-by"],
            "max_age": 600,
        }
    )
    async with running(io) as url, httpx.AsyncClient() as http:
        headers = {"origin": GOOD}
        sid = handshake_sid(hello := await http.get(polling(url), headers=headers))
        post = await http.post(polling(url, sid), content="40", headers=headers)
        get = await http.get(polling(url, sid), headers=headers)
        unknown = await http.get(polling(url, "nope"), headers=headers)
        preflight = await http.options(
            polling(url, sid),
            headers={**headers, "access-control-request-method": "POST",
                     "access-control-request-headers": "x-anything"},
        )  # fmt: skip
        assert preflight.status_code == 204
        for response in (hello, post, get, unknown, preflight):
            assert response.headers["access-control-allow-origin"] == GOOD, response.request
            assert response.headers["access-control-allow-credentials"] == "true"
            assert response.headers["access-control-expose-headers"] == "x-served-by"
            assert "Origin" in response.headers["vary"]
        assert preflight.headers["access-control-allow-headers"] == "content-type"
        assert preflight.headers["access-control-max-age"] == "600"

        # another origin: refused before anything is served, with no CORS header to read it
        refused = await http.get(polling(url), headers={"origin": EVIL})
        assert refused.status_code == 403
        assert refused.json() == {"code": 4, "message": "Origin not allowed"}
        assert not any(k.startswith("access-control-") for k in refused.headers)
        # its preflight gets Node's 204, without the headers that would let the browser go on
        preflight = await http.options(
            polling(url, sid), headers={"origin": EVIL, "access-control-request-method": "POST"}
        )
        assert preflight.status_code == 204
        assert not any(k.startswith("access-control-") for k in preflight.headers)
        post_evil = await http.post(polling(url, sid), content="42", headers={"origin": EVIL})
        assert post_evil.status_code == 403  # a session's sid does not help another origin
        assert post_evil.json() == {"code": 4, "message": "Origin not allowed"}
        upgrade = await http.get(
            f"{url}/socket.io/?EIO=4&transport=websocket", headers={"origin": EVIL, **WS_UPGRADE}
        )
        assert upgrade.status_code == 403  # refused before any 101, as Node refuses upgrades
        assert upgrade.text == "Origin not allowed"
        # the earlier rules come first: an unknown transport is code 0 whatever the origin
        bad = await http.get(f"{url}/socket.io/?EIO=4&transport=x", headers={"origin": EVIL})
        assert (bad.status_code, bad.json()["code"]) == (400, 0)
        # no Origin header: not a browser, so CORS and the origin check do not apply
        assert (await http.get(polling(url))).status_code == 200


@pytest.mark.anyio
async def test_the_allowed_origin_connects_on_both_transports() -> None:
    io = fast_server(allow_origin="127.0.0.1:*", cors={"credentials": True})
    async with running(io) as url:
        for transports in (("polling",), ("websocket",)):
            client = Client(
                url, transports=transports, reconnection=False,
                headers={"origin": "http://127.0.0.1:3000"},
            )  # fmt: skip
            async with client:
                assert client.connected
        refused = Client(
            url, transports=("websocket",), reconnection=False,
            headers={"origin": "http://localhost:3000"},
        )  # fmt: skip
        with pytest.raises(ConnectionFailed) as info, anyio.fail_after(5):
            async with refused:
                pass
        assert "403" in str(info.value), info.value
