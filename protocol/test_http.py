"""HTTP around the protocol: CORS, origin restriction, keep-alive (PROTOCOL.md 1.1).

CORS is not part of the protocol, but browsers on another origin need it:
* ``/socket.io/`` allows any origin: responses carry ``Access-Control-Allow-Origin`` (``*``
  or the request's origin) and ``OPTIONS`` preflights are answered 204.
* The restricted mount (``--restricted-path``, default ``/restricted/``) allows only
  ``--allowed-origin`` (default ``http://allowed.example``): that origin is let in, another
  origin's handshake is refused (403, code 4) over polling and over WebSocket (a 4xx instead of
  the 101), and a request without ``Origin`` (no browser) is let in.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import h11
import httpx
import pytest

from ._client import (
    TIMEOUT,
    NoReply,
    Polling,
    UpgradeRefused,
    connect_reply_sid,
    decode_payload,
    open_eio_websocket,
    parse_open,
    query,
)
from ._target import Target

ORIGIN = "http://client.example"
EVIL = "http://evil.example"


def allow_origin(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get("access-control-allow-origin")
    return value


def header_tokens(response: httpx.Response, name: str) -> set[str]:
    return {t.strip().lower() for t in response.headers.get(name, "").split(",") if t.strip()}


# ------------------------------------------------------------------------------ CORS, any origin


def test_cors_on_polling_requests(http: httpx.Client) -> None:
    headers = {"origin": ORIGIN}
    handshake = http.get(query("/socket.io/", "polling"), headers=headers)
    assert handshake.status_code == 200
    assert allow_origin(handshake) in ("*", ORIGIN)
    sid = parse_open(handshake.text)["sid"]
    post = http.post(query("/socket.io/", "polling", sid=sid), content="40", headers=headers)
    assert post.status_code == 200
    assert allow_origin(post) in ("*", ORIGIN)
    get = http.get(query("/socket.io/", "polling", sid=sid), headers=headers)
    assert get.status_code == 200
    assert allow_origin(get) in ("*", ORIGIN)


@pytest.mark.parametrize("with_sid", [False, True], ids=["handshake", "session"])
def test_cors_preflight(http: httpx.Client, with_sid: bool) -> None:
    sid = parse_open(http.get(query("/socket.io/", "polling")).text)["sid"] if with_sid else None
    response = http.options(
        query("/socket.io/", "polling", sid=sid),
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert allow_origin(response) in ("*", ORIGIN)
    assert {"get", "post"} <= header_tokens(response, "access-control-allow-methods")
    allowed_headers = header_tokens(response, "access-control-allow-headers")
    assert "content-type" in allowed_headers or "*" in allowed_headers


# ---------------------------------------------------------------------------- restricted origin


def test_restricted_allowed_origin_polling(
    http: httpx.Client, server: Target, restricted: str
) -> None:
    allowed = server.allowed_origin
    polling = Polling(http, restricted)
    handshake = http.get(query(restricted, "polling"), headers={"origin": allowed})
    assert handshake.status_code == 200
    assert allow_origin(handshake) == allowed
    polling.sid = parse_open(handshake.text)["sid"]
    post = http.post(polling.url(), content="40", headers={"origin": allowed})
    assert (post.status_code, post.text) == (200, "ok")
    assert allow_origin(post) == allowed
    packets = decode_payload(http.get(polling.url(), headers={"origin": allowed}).text)
    connect_reply_sid(packets[0], "40")


def test_restricted_allowed_origin_preflight(
    http: httpx.Client, server: Target, restricted: str
) -> None:
    response = http.options(
        query(restricted, "polling"),
        headers={
            "origin": server.allowed_origin,
            "access-control-request-method": "POST",
        },
    )
    assert response.status_code == 204
    assert allow_origin(response) == server.allowed_origin


def test_restricted_other_origin_preflight_not_allowed(http: httpx.Client, restricted: str) -> None:
    response = http.options(
        query(restricted, "polling"),
        headers={
            "origin": EVIL,
            "access-control-request-method": "POST",
        },
    )
    assert allow_origin(response) not in ("*", EVIL)


def test_restricted_other_origin_polling_refused(http: httpx.Client, restricted: str) -> None:
    response = http.get(query(restricted, "polling"), headers={"origin": EVIL})
    assert response.status_code == 403
    assert response.json()["code"] == 4
    assert allow_origin(response) not in ("*", EVIL)


def test_restricted_without_origin_allowed(http: httpx.Client, restricted: str) -> None:
    """A request without Origin comes from no browser: CORS does not apply."""
    response = http.get(query(restricted, "polling"))
    assert response.status_code == 200
    parse_open(response.text)


def test_restricted_allowed_origin_websocket(server: Target, restricted: str) -> None:
    ws, handshake = open_eio_websocket(server.url, restricted, origin=server.allowed_origin)
    with ws:
        assert handshake["upgrades"] == []
        ws.send("40")
        connect_reply_sid(ws.recv(), "40")


def test_restricted_other_origin_websocket_refused(server: Target, restricted: str) -> None:
    try:
        ws, _ = open_eio_websocket(server.url, restricted, origin=EVIL)
    except UpgradeRefused as refusal:
        assert refusal.status in (400, 403)
        return
    ws.close()
    raise AssertionError(f"a WebSocket from {EVIL} was upgraded (101)")


# ------------------------------------------------------------------------------------ keep-alive


class RawConnection:
    """One TCP connection carrying HTTP/1.1 requests one after another (h11 client)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname is not None and parts.port is not None
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
        self.conn = h11.Connection(h11.CLIENT)

    def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.conn.our_state is h11.DONE:
            assert self.conn.their_state is h11.DONE
            self.conn.start_next_cycle()
        headers = [("host", self.host), ("content-length", str(len(body)))]
        data = self.conn.send(h11.Request(method=method, target=target, headers=headers))
        data += self.conn.send(h11.Data(data=body)) if body else b""
        data += self.conn.send(h11.EndOfMessage())
        self.sock.sendall(data)
        status = None
        payload = bytearray()
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    raise NoReply(f"no answer to {method} {target}") from None
                self.conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                payload += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise AssertionError(f"the server closed the connection during {target}")
        assert status is not None
        assert self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE, (
            f"the server did not keep the connection alive after {method} {target}"
        )
        return status, bytes(payload)

    def close(self) -> None:
        self.sock.close()


def test_keep_alive_two_sessions_one_connection(server: Target) -> None:
    """Requests of two sessions, an error and a held GET, all on one TCP connection."""
    raw = RawConnection(server.url)
    try:

        def handshake(mount: str) -> str:
            status, body = raw.request("GET", query(mount, "polling"))
            assert status == 200
            return str(parse_open(body.decode())["sid"])

        a = handshake("/engine.io/")
        b = handshake("/engine.io/")
        c = handshake("/socket.io/")
        assert len({a, b, c}) == 3
        url_a = query("/engine.io/", "polling", sid=a)
        url_b = query("/engine.io/", "polling", sid=b)
        url_c = query("/socket.io/", "polling", sid=c)
        assert raw.request("POST", url_a, b"4from-a") == (200, b"ok")
        assert raw.request("POST", url_b, b"4from-b") == (200, b"ok")
        assert raw.request("POST", url_c, b"40") == (200, b"ok")
        assert raw.request("GET", url_b) == (200, b"4from-b")
        assert raw.request("GET", url_a) == (200, b"4from-a")
        status, body = raw.request("GET", url_c)
        assert status == 200
        connect_reply_sid(decode_payload(body.decode())[0], "40")
        # an error response does not end the connection either
        assert raw.request("GET", query("/engine.io/", "polling", sid="nope"))[0] == 400
        # a GET held until the next ping, then the pong, still on the same connection
        assert raw.request("GET", url_a) == (200, b"2")
        assert raw.request("POST", url_a, b"3") == (200, b"ok")
        assert raw.request("GET", url_b) == (200, b"2")  # b's ping went out meanwhile
        assert raw.request("POST", url_b, b"3\x1e4again") == (200, b"ok")
        assert raw.request("GET", url_b) == (200, b"4again")
    finally:
        raw.close()
