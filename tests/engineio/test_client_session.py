"""ClientSession: the client side of Engine.IO v4, sans-IO, with a fake clock (PROTOCOL.md 1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkio.engineio import (
    ClientHandshake,
    ClientSession,
    ClientState,
    EngineOptions,
    EnginePacket,
    EnginePacketType,
    MessageReceived,
    Opened,
    Session,
    SessionClosed,
    UpgradeAborted,
    Upgraded,
    decode_payload,
    encode_ws,
)
from thinkio.engineio.client import ClientEvent
from thinkio.errors import LocalProtocolError, RemoteProtocolError

T0 = 1000.0


def open_body(**overrides: Any) -> bytes:
    data = {
        "sid": "S1",
        "upgrades": ["websocket"],
        "pingInterval": 300,
        "pingTimeout": 200,
        "maxPayload": 1_000_000,
    }
    data.update(overrides)
    return ("0" + json.dumps(data)).encode()


def events(session: ClientSession) -> list[ClientEvent]:
    out = []
    while (event := session.next_event()) is not None:
        out.append(event)
    return out


def opened(transport: str = "polling", **overrides: Any) -> ClientSession:
    session = ClientSession(transport, now=T0)
    if transport == "polling":
        session.receive_poll_body(open_body(**overrides), T0)
    else:
        session.receive_ws(open_body(**overrides).decode(), T0)
    events(session)
    return session


# -- handshake (1.3) ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_open_packet_opens_the_session(transport: str) -> None:
    session = ClientSession(transport, now=T0)
    assert session.state is ClientState.OPENING and session.sid is None
    upgrades = ["websocket"] if transport == "polling" else []
    body = open_body(upgrades=upgrades)
    if transport == "polling":
        session.receive_poll_body(body, T0)
    else:
        session.receive_ws(body.decode(), T0)
    handshake = ClientHandshake("S1", tuple(upgrades), 0.3, 0.2, 1_000_000)
    assert events(session) == [Opened(handshake)]
    assert session.state is ClientState.OPEN
    assert session.sid == "S1"
    assert session.transport == transport
    assert session.can_upgrade is (transport == "polling")
    # 1.5: dead after pingInterval + pingTimeout without a ping.
    assert session.next_deadline() == pytest.approx(T0 + 0.5)


def test_messages_after_the_open_packet_in_the_same_payload() -> None:
    session = ClientSession("polling", now=T0)
    session.receive_poll_body(open_body() + b"\x1e4hello\x1ebAQID", T0)
    assert events(session)[1:] == [MessageReceived("hello"), MessageReceived(b"\x01\x02\x03")]


@pytest.mark.parametrize(
    "body",
    [
        b"4hello",  # not the open packet first
        b"0{}",  # no sid
        b"0[]",  # not an object
        b"0{nope",  # not JSON
        open_body(pingInterval=0),
        open_body(pingTimeout="1"),
        open_body(upgrades="websocket"),
        open_body(maxPayload=-1),
        open_body(sid=""),
        b"",  # empty payload
        b"9",  # unknown packet type
    ],
)
def test_bad_handshakes_close_with_parse_error(body: bytes) -> None:
    session = ClientSession("polling", now=T0)
    with pytest.raises(RemoteProtocolError) as info:
        session.receive_poll_body(body, T0)
    assert info.value.close_reason == "parse error"
    assert session.closed
    assert events(session) == [SessionClosed("parse error")]


def test_no_open_packet_in_time() -> None:
    session = ClientSession("websocket", now=T0, open_timeout=2.0)
    assert session.next_deadline() == T0 + 2.0
    session.handle_timeout(T0 + 1.999)
    assert not session.closed
    session.handle_timeout(T0 + 2.0)
    assert events(session) == [SessionClosed("ping timeout")]


# -- heartbeat (1.5) ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_ping_is_answered_with_pong_and_moves_the_deadline(transport: str) -> None:
    session = opened(transport)
    if transport == "polling":
        session.receive_poll_body(b"2", T0 + 0.3)
        assert session.take_poll_bodies() == [b"3"]
    else:
        session.receive_ws("2", T0 + 0.3)
        assert session.take_ws_messages() == ["3"]
    assert session.next_deadline() == pytest.approx(T0 + 0.8)
    session.handle_timeout(T0 + 0.79)
    assert not session.closed


def test_no_ping_in_time_is_a_ping_timeout() -> None:
    session = opened()
    session.handle_timeout(T0 + 0.4999)
    assert not session.closed
    session.handle_timeout(T0 + 0.5)
    assert session.closed and session.close_reason == "ping timeout"
    assert events(session) == [SessionClosed("ping timeout")]
    # A late body is not processed.
    session.receive_poll_body(b"4late", T0 + 0.6)
    assert events(session) == []


def test_late_data_sees_the_deadline_first() -> None:
    session = opened("websocket")
    session.receive_ws("4too late", T0 + 0.6)
    assert events(session) == [SessionClosed("ping timeout")]


# -- packets from the server -------------------------------------------------------------------


def test_close_packet_from_the_server() -> None:
    session = opened()
    session.receive_poll_body(b"4bye\x1e1\x1e4never", T0)
    assert events(session) == [MessageReceived("bye"), SessionClosed("transport close")]


def test_noop_and_stray_pong_are_ignored() -> None:
    session = opened()
    session.receive_poll_body(b"6\x1e3\x1e4x", T0)
    assert events(session) == [MessageReceived("x")]


@pytest.mark.parametrize("message", ["0{}", "5", "b", "", "x"])
def test_packets_a_server_must_not_send(message: str) -> None:
    session = opened("websocket")
    with pytest.raises(RemoteProtocolError):
        session.receive_ws(message, T0)
    assert events(session) == [SessionClosed("parse error")]


def test_binary_websocket_message() -> None:
    session = opened("websocket")
    session.receive_ws(b"\x00\xff", T0)
    assert events(session) == [MessageReceived(b"\x00\xff")]


def test_transport_closed() -> None:
    session = opened()
    session.transport_closed(T0, "transport error")
    assert events(session) == [SessionClosed("transport error")]
    with pytest.raises(LocalProtocolError):
        session.send_message("x")


# -- sending -----------------------------------------------------------------------------------


def test_poll_bodies_encode_text_and_binary() -> None:
    session = opened()
    session.send_message("hello")
    session.send_message(b"\x01\x02\x03\x04")
    assert session.take_poll_bodies() == [b"4hello\x1ebAQIDBA=="]
    assert session.take_poll_bodies() == []
    assert session.take_ws_messages() == []  # not the transport


def test_ws_messages_one_packet_each() -> None:
    session = opened("websocket")
    session.send_message("hello")
    session.send_message(b"\x01")
    assert session.take_ws_messages() == ["4hello", b"\x01"]
    assert session.take_poll_bodies() == []


def test_bodies_are_split_to_fit_max_payload() -> None:
    session = opened(maxPayload=20)
    for text in ("a" * 8, "b" * 8, "c" * 8, "d" * 30):
        session.send_message(text)
    bodies = session.take_poll_bodies()
    # "4aaaaaaaa" (9) + sep + "4bbbbbbbb" (9) = 19 <= 20; the 31-byte packet goes alone.
    assert bodies == [b"4" + b"a" * 8 + b"\x1e4" + b"b" * 8, b"4" + b"c" * 8, b"4" + b"d" * 30]


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=200),
    messages=st.lists(
        st.one_of(st.text(max_size=60).filter(lambda t: "\x1e" not in t), st.binary(max_size=60)),
        min_size=1,
        max_size=30,
    ),
)
def test_split_bodies_fit_and_keep_order(limit: int, messages: list[str | bytes]) -> None:
    session = opened(maxPayload=limit)
    for message in messages:
        session.send_message(message)
    bodies = session.take_poll_bodies()
    decoded = []
    for body in bodies:
        packets = decode_payload(body.decode(), max_packets=1000)
        assert len(body) <= limit or len(packets) == 1  # only a lone packet may exceed it
        decoded += packets
    assert decoded == [EnginePacket(EnginePacketType.MESSAGE, m) for m in messages]


def test_separator_in_a_polling_message_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        opened().send_message("a\x1eb")
    session = opened("websocket")
    session.send_message("a\x1eb")  # one frame per packet: no framing to break
    assert session.take_ws_messages() == ["4a\x1eb"]


def test_close_on_polling_posts_a_close_packet_after_the_queue() -> None:
    session = opened()
    session.send_message("last words")
    session.close()
    assert events(session) == [SessionClosed("forced close")]
    assert session.take_poll_bodies() == [b"4last words\x1e1"]
    session.close()  # idempotent
    assert events(session) == []


def test_close_on_websocket_sends_no_close_packet() -> None:
    session = opened("websocket")
    session.send_message("last words")
    session.close()
    assert session.take_ws_messages() == ["4last words"]
    assert events(session) == [SessionClosed("forced close")]


# -- upgrade (1.6) -----------------------------------------------------------------------------


def test_upgrade_from_the_clients_side() -> None:
    session = opened()
    assert session.begin_upgrade(T0) == "2probe"
    assert session.state is ClientState.PROBING
    assert session.polling  # polling carries packets until 3probe
    session.send_message("during probe")
    assert session.take_poll_bodies() == [b"4during probe"]
    session.receive_probe("3probe", T0 + 0.01)
    assert session.state is ClientState.PAUSED
    assert not session.polling
    session.send_message("held back")
    assert session.take_poll_bodies() == []  # waits for the WebSocket
    session.receive_poll_body(b"6", T0 + 0.1)  # the server releases the pending GET
    assert session.finish_upgrade(T0 + 0.1) == ["5", "4held back"]
    assert session.transport == "websocket" and session.state is ClientState.OPEN
    assert events(session) == [Upgraded()]
    session.send_message("after")
    assert session.take_ws_messages() == ["4after"]
    assert not session.can_upgrade


def test_wrong_probe_answer_drops_the_upgrade() -> None:
    session = opened()
    session.begin_upgrade(T0)
    session.receive_probe("3", T0)
    assert session.state is ClientState.OPEN and session.transport == "polling"
    assert events(session) == [UpgradeAborted("unexpected answer to the probe")]
    with pytest.raises(LocalProtocolError):
        session.finish_upgrade(T0)


def test_upgrade_timeout_while_probing_stays_on_polling() -> None:
    session = ClientSession("polling", now=T0, upgrade_timeout=0.1)
    session.receive_poll_body(open_body(pingInterval=25000), T0)
    events(session)
    session.begin_upgrade(T0)
    assert session.next_deadline() == pytest.approx(T0 + 0.1)
    session.handle_timeout(T0 + 0.1)
    assert events(session) == [UpgradeAborted("upgrade timeout")]
    assert session.polling and session.can_upgrade


def test_upgrade_timeout_once_paused_closes_the_session() -> None:
    session = ClientSession("polling", now=T0, upgrade_timeout=0.1)
    session.receive_poll_body(open_body(pingInterval=25000), T0)
    events(session)
    session.begin_upgrade(T0)
    session.receive_probe("3probe", T0)
    session.handle_timeout(T0 + 0.1)
    assert events(session) == [UpgradeAborted("session closed"), SessionClosed("transport error")]


def test_no_upgrade_without_websocket_in_upgrades() -> None:
    session = opened(upgrades=[])
    assert not session.can_upgrade
    with pytest.raises(LocalProtocolError):
        session.begin_upgrade(T0)


# -- against the server's own sans-IO Session --------------------------------------------------


class Pair:
    """A ClientSession and a server Session wired together by hand, sharing a fake clock."""

    def __init__(self) -> None:
        self.now = T0
        options = EngineOptions(ping_interval=0.3, ping_timeout=0.2, upgrade_timeout=1.0)
        self.server = Session("S1", "polling", options=options, now=self.now)
        self.client = ClientSession("polling", now=self.now)
        self.server_events: list[Any] = []
        self.get()

    def get(self) -> None:
        self.server.begin_get(self.now)
        response = self.server.take_poll_response(self.now)
        assert response is not None
        self.client.receive_poll_body(response[0], self.now)

    def post(self) -> None:
        for body in self.client.take_poll_bodies():
            self.server.begin_post(self.now)
            self.server.end_post(body, self.now)
        while (event := self.server.next_event()) is not None:
            self.server_events.append(event)

    def ws_to_server(self) -> None:
        for message in self.client.take_ws_messages():
            self.server.receive_ws(message, self.now)
        while (event := self.server.next_event()) is not None:
            self.server_events.append(event)

    def ws_to_client(self) -> None:
        for packet in self.server.take_ws_packets():
            self.client.receive_ws(encode_ws(packet), self.now)


def test_polling_heartbeats_keep_both_sides_alive() -> None:
    pair = Pair()
    assert isinstance(events(pair.client)[0], Opened)
    for _ in range(20):  # 20 ping intervals: 6 s
        pair.now += 0.3
        pair.server.handle_timeout(pair.now)
        pair.client.handle_timeout(pair.now)
        pair.get()  # carries the ping
        pair.post()  # carries the pong
    assert not pair.client.closed and not pair.server.closed
    pair.client.send_message("still here")
    pair.post()
    assert [e for e in pair.server_events if isinstance(e, MessageReceived)] == [
        MessageReceived("still here")
    ]


def test_upgrade_against_the_server_session() -> None:
    pair = Pair()
    probe = pair.client.begin_upgrade(pair.now)
    pair.server.begin_upgrade(pair.now)
    answers = pair.server.receive_probe(probe, pair.now)
    pair.client.receive_probe(encode_ws(answers[0]), pair.now)
    assert pair.client.state is ClientState.PAUSED
    pair.client.send_message("queued during the pause")
    pair.get()  # PROBED: the server answers the GET with a noop at once
    upgrade, *queued = pair.client.finish_upgrade(pair.now)
    assert upgrade == "5"
    pair.server.receive_probe(upgrade, pair.now)
    for message in queued:
        pair.server.receive_ws(message, pair.now)
    assert pair.server.transport == "websocket"
    while (event := pair.server.next_event()) is not None:
        pair.server_events.append(event)
    assert MessageReceived("queued during the pause") in pair.server_events
    pair.server.send_message("over websocket")
    pair.ws_to_client()
    assert events(pair.client)[-1] == MessageReceived("over websocket")
    pair.client.close()
    pair.ws_to_server()
    assert pair.client.closed
