"""Bad clients (issue 5, point 4): the documented error or close for each, and no effect on
anyone else.

Each check runs against the interop app while well-behaved real clients (socket.io-client 4.x
and 2.x, over WebSocket and over polling, reconnection off) stay connected to the same server;
after each check they must still round-trip an event without ever having been disconnected.
The expected answers are those of PROTOCOL.md (1.4, 1.6, 1.8, 2.2, 2.3, 4).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from .harness import Sentinels, ServerUnderTest, node_run, running_server
from .matrix import expected_seen
from .rawclient import Polling, RawWebSocket

pytestmark = pytest.mark.interop

#: Short timers, so dead sessions and stuck probes are noticed within a second or two.
SERVER_ARGS = ("--ping-interval", "1", "--ping-timeout", "1", "--upgrade-timeout", "1")
UNSUPPORTED = {"code": 5, "message": "Unsupported protocol version"}
UNKNOWN_SID = {"code": 1, "message": "Session ID unknown"}


@pytest.fixture
def server(interop_server: ServerUnderTest, sentinels: Sentinels) -> Iterator[ServerUnderTest]:
    """The shared server; after the test, the sentinels must be unharmed."""
    yield interop_server
    sentinels.check()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def sessions_back_to(server: ServerUnderTest, count: int, timeout: float = 4.0) -> None:
    wait_until(
        lambda: server.stats()["sessions"] <= count,
        timeout,
        f"open sessions back to {count} (now {server.stats()['sessions']})",
    )


def connected(server: ServerUnderTest, eio: int = 4) -> Polling:
    """A polling session joined to ``/`` (v3: the server joins it by itself)."""
    session = Polling(server.url, eio)
    if eio == 4:
        assert session.post("40").text == "ok"
    session.wait_for("40", prefix=True)
    return session


# -- wrong version ------------------------------------------------------------------------------


def test_wrong_version_polling(server: ServerUnderTest) -> None:
    """Wrong Engine.IO version on a polling handshake (EIO=5, 2, abc, empty, missing): 400 with
    `{"code":5,"message":"Unsupported protocol version"}`."""
    with httpx.Client(timeout=5) as http:
        for query in ("EIO=5&", "EIO=2&", "EIO=abc&", "EIO=&", ""):
            reply = http.get(f"{server.url}/socket.io/?{query}transport=polling")
            assert reply.status_code == 400, (query, reply.status_code)
            assert reply.headers["content-type"] == "application/json"
            assert reply.json() == UNSUPPORTED, query


def test_wrong_version_websocket(server: ServerUnderTest) -> None:
    """Wrong Engine.IO version on a WebSocket handshake: refused with HTTP 400 before any
    upgrade (no 101)."""
    for eio in ("5", "abc"):
        ws = RawWebSocket.to(server.url, f"EIO={eio}&transport=websocket")
        try:
            assert ws.rejected is not None, "the upgrade was accepted"
            status, body = ws.rejected
            assert status == 400
            assert body == b"Unsupported protocol version"
        finally:
            ws.close()


def test_eio3_off_by_default(interop_server: ServerUnderTest, sentinels: Sentinels) -> None:
    """socket.io-client 2.x against `Server()` (allow_eio3 left at its default, off): refused
    with code 5 over polling and WebSocket; a 4.x client on the same server is unaffected."""
    with running_server(interop_server.backend, "--no-eio3") as plain:
        reply = httpx.get(f"{plain.url}/socket.io/?EIO=3&transport=polling", timeout=5)
        assert (reply.status_code, reply.json()) == (400, UNSUPPORTED)
        for transport in ("polling", "websocket"):
            result = node_run(plain, 2, transport, f"eio3-off-{transport}")
            outcome = result.results.get("acks", {})
            assert outcome.get("ok") is False, f"2.x connected over {transport}: {outcome}"
            assert "connect_error" in outcome.get("error", ""), outcome
            assert plain.seen(f"eio3-off-{transport}-acks") == expected_seen("node2", transport)
        result = node_run(plain, 4, "upgrade", "eio3-off-v4")
        assert result.results["acks"]["ok"], result.context()
    sentinels.check()


# -- heartbeats --------------------------------------------------------------------------------


def test_eio3_client_pings_answered(server: ServerUnderTest) -> None:
    """Engine.IO v3 heartbeat (the client pings): `2` is answered `3` at once over polling and
    over WebSocket, and a `2probe` on an established v3 WebSocket gets a plain `3`."""
    session = connected(server, 3)
    try:
        assert session.post("2").status_code == 200
        assert session.receive() == ["3"]  # v3 servers never ping: this GET holds only a pong
        session.post("1")
    finally:
        session.close()
    ws = RawWebSocket.to(server.url, "EIO=3&transport=websocket")
    try:
        assert str(ws.receive()).startswith("0{")
        assert ws.receive() == "40"  # the implicit connection to "/" (PROTOCOL.md 4)
        for ping in ("2", "2", "2probe"):
            ws.send(ping)
            assert ws.receive(0.5) == "3", ping
    finally:
        ws.close()


@pytest.mark.parametrize(("eio", "packet"), [(4, "2"), (3, "3")], ids=["v4-ping", "v3-pong"])
def test_wrong_heartbeat_direction(server: ServerUnderTest, eio: int, packet: str) -> None:
    """Wrong heartbeat direction (a v4 client sends a ping `2`, a v3 client a pong `3` nobody
    asked for): the session is closed ("invalid heartbeat direction"), over polling (the
    POST gets 400, then the sid is unknown) and over WebSocket (the socket is closed)."""
    session = connected(server, eio)
    try:
        assert session.post(packet).status_code == 400
        reply = session.get()
        assert (reply.status_code, reply.json()) == (400, UNKNOWN_SID)
    finally:
        session.close()
    ws = RawWebSocket.to(server.url, f"EIO={eio}&transport=websocket")
    try:
        assert str(ws.receive()).startswith("0{")
        if eio == 4:
            ws.send("40")
        assert str(ws.receive()).startswith("40")
        ws.send(packet)
        ws.wait_closed(2)
    finally:
        ws.close()


# -- garbage ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eio", "body"),
    [(4, "abc"), (4, ""), (4, "4hello\x1e9oops"), (3, "99:4hi"), (3, "x:4hi"), (3, "2:4")],
    ids=["v4-unknown-type", "v4-empty", "v4-bad-second-packet", "v3-long", "v3-nan", "v3-short"],
)
def test_garbage_engineio_polling(server: ServerUnderTest, eio: int, body: str) -> None:
    """Engine.IO garbage POSTed on a polling session (unknown packet type, empty body, v3 bad
    length prefix): the session is closed ("parse error"); its sid then gets 400 code 1."""
    before = server.stats()["sessions"]
    session = connected(server, eio)
    try:
        reply = session.post(raw=body)
        assert reply.status_code in (200, 400), reply.status_code
        reply = session.get()
        assert (reply.status_code, reply.json()) == (400, UNKNOWN_SID)
        sessions_back_to(server, before)
    finally:
        session.close()


@pytest.mark.parametrize(
    ("eio", "frame"),
    [(4, "abc"), (4, ""), (3, "abc"), (3, b"\x09\x01\x02")],
    ids=["v4-text", "v4-empty-text", "v3-text", "v3-binary-bad-type"],
)
def test_garbage_engineio_websocket(server: ServerUnderTest, eio: int, frame: str | bytes) -> None:
    """Engine.IO garbage on a WebSocket session: the server closes the socket."""
    before = server.stats()["sessions"]
    ws = RawWebSocket.to(server.url, f"EIO={eio}&transport=websocket")
    try:
        opening = ws.receive()
        assert isinstance(opening, str) and opening.startswith("0{"), opening
        ws.send(frame)
        ws.wait_closed(3)
        sessions_back_to(server, before)
    finally:
        ws.close()


SIO_GARBAGE = {
    "unknown-type": "4abc",
    "event-not-array": "42{}",
    "bad-ack-id": '42abc["echo"]',
    "reserved-event": '42["connect"]',
    "namespace-not-joined": '42/custom,["echo"]',
    "placeholder-out-of-range": '451-["echo",{"_placeholder":true,"num":7}]',
    "connect-twice": "40",
}


@pytest.mark.parametrize("garbage", list(SIO_GARBAGE.values()), ids=list(SIO_GARBAGE))
@pytest.mark.parametrize("eio", [4, 3])
def test_garbage_socketio_polling(server: ServerUnderTest, eio: int, garbage: str) -> None:
    """Socket.IO garbage on a joined polling session (bad packet type, bad payload, bad ack id,
    reserved event name, namespace not joined, placeholder out of range, second CONNECT): the
    server closes the session, so the next GET carries the close packet `1`."""
    session = connected(server, eio)
    try:
        assert session.post(garbage).status_code == 200
        seen = session.wait_for("1")
        assert "1" in seen
        reply = session.get()
        assert (reply.status_code, reply.json()) == (400, UNKNOWN_SID)
    finally:
        session.close()


@pytest.mark.parametrize("eio", [4, 3])
def test_garbage_socketio_websocket(server: ServerUnderTest, eio: int) -> None:
    """Socket.IO garbage on a joined WebSocket session: the server closes the socket."""
    for garbage in SIO_GARBAGE.values():
        ws = RawWebSocket.to(server.url, f"EIO={eio}&transport=websocket")
        try:
            assert str(ws.receive()).startswith("0{")
            if eio == 4:
                ws.send("40")
            assert str(ws.receive()).startswith("40")
            ws.send(garbage)
            ws.wait_closed(3)
        finally:
            ws.close()


@pytest.mark.parametrize("eio", [4, 3])
def test_garbage_socketio_frees_sockets(server: ServerUnderTest, eio: int) -> None:
    """A session closed for Socket.IO garbage leaves no socket behind in its namespace."""
    before = server.stats()["namespaces"]["/"]
    session = connected(server, eio)
    try:
        assert server.stats()["namespaces"]["/"] == before + 1
        session.post("42{}")
        session.wait_for("1")
        wait_until(
            lambda: server.stats()["namespaces"]["/"] == before,
            1.5,
            f"sockets in / back to {before} (now {server.stats()['namespaces']['/']})",
        )
    finally:
        session.close()


# -- disappearing during an upgrade ----------------------------------------------------------


def _probe(server: ServerUnderTest, session: Polling) -> RawWebSocket:
    """Open the upgrade's WebSocket and run the probe (``2probe`` -> ``3probe``)."""
    ws = RawWebSocket.to(server.url, f"EIO={session.eio}&transport=websocket&sid={session.sid}")
    assert ws.rejected is None, ws.rejected
    ws.send("2probe")
    assert ws.receive(3) == "3probe"
    return ws


def _echo_over_polling(session: Polling, tag: str) -> None:
    assert session.post(f'42["echo","{tag}"]').status_code == 200
    assert f'42["echo-back","{tag}"]' in session.wait_for(f'42["echo-back","{tag}"]')


@pytest.mark.parametrize("eio", [4, 3])
def test_vanish_mid_upgrade(server: ServerUnderTest, eio: int) -> None:
    """A client whose probe WebSocket vanishes (TCP reset after `3probe`, no `5`): the session
    carries on over polling, and the probe socket is let go."""
    websockets = server.stats()["websockets"]
    session = connected(server, eio)
    try:
        ws = _probe(server, session)
        reply = session.get()  # while the upgrade is pending, a GET is released with a noop
        packets = session.decode(reply.text)
        assert reply.status_code == 200 and "6" in packets and set(packets) <= {"2", "6"}, packets
        if "2" in packets:  # a v4 ping that happened to be due: answer it
            session.post("3")
        ws.vanish()
        _echo_over_polling(session, "still polling")
        _echo_over_polling(session, "and again")
        assert server.stats()["websockets"] == websockets
        session.post("1")
    finally:
        session.close()


def test_probe_never_finishes(server: ServerUnderTest) -> None:
    """A probe that answers `3probe` but never sends `5`: after upgradeTimeout (1 s here) the
    server closes the probe socket, and the session carries on over polling."""
    session = connected(server)
    try:
        ws = _probe(server, session)
        started = time.monotonic()
        ws.wait_closed(4)
        assert time.monotonic() - started < 3
        _echo_over_polling(session, "after the timeout")
        session.post("1")
    finally:
        session.close()


@pytest.mark.parametrize("eio", [4, 3])
def test_vanish_entirely_mid_upgrade(server: ServerUnderTest, eio: int) -> None:
    """A client that vanishes mid-upgrade altogether (probe reset, no more polls): its session
    is cleaned up within pingInterval + pingTimeout (1 s + 1 s here); its sid then gets 400
    code 1."""
    session = connected(server, eio)
    try:
        _probe(server, session).vanish()
        wait_until(lambda: session.sid not in server.stats()["sids"], 4, "the session to go")
        reply = session.get()
        assert (reply.status_code, reply.json()) == (400, UNKNOWN_SID)
    finally:
        session.close()


def test_mixed_versions_room_broadcast(server: ServerUnderTest, sentinels: Sentinels) -> None:
    """One room, four kinds of clients (4.x and 2.x, WebSocket and polling): a broadcast with
    binary reaches each in its own framing (v4 and v3 frames and payloads differ)."""
    sentinels.room_broadcast(f"mixed-{server.backend}-{time.monotonic_ns()}")


def test_server_log_has_no_tracebacks(interop_server: ServerUnderTest) -> None:
    """None of this made the server log an unexpected exception."""
    log = interop_server.log_tail(100_000)
    assert "Traceback" not in log, log
