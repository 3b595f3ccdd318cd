"""The Engine.IO session state machine, driven with a fake clock (PROTOCOL.md 1.3-1.7)."""

from __future__ import annotations

import pytest

from thinkio.engineio import (
    EngineOptions,
    EnginePacket,
    EnginePacketType,
    MessageReceived,
    Session,
    SessionClosed,
    SessionState,
    UpgradeAborted,
    Upgraded,
)
from thinkio.errors import RemoteProtocolError, RequestRejected
from thinkio.limits import Limits

from .driver import CLOSE, FAST, NOOP, PING, PONG, PollingClient, msg


def test_handshake_open_packet_has_exactly_the_five_keys() -> None:
    c = PollingClient()
    opened = c.handshake()
    assert opened == {
        "sid": "sid1",
        "upgrades": ["websocket"],
        "pingInterval": 300,
        "pingTimeout": 200,
        "maxPayload": 1_000_000,
    }
    assert list(opened) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"]


def test_websocket_session_advertises_no_upgrades() -> None:
    s = Session("s", "websocket", options=FAST, now=0.0)
    (opened,) = s.take_ws_packets()
    assert opened.type is EnginePacketType.OPEN and '"upgrades":[]' in str(opened.data)


def test_get_waits_until_a_message_is_queued() -> None:
    c = PollingClient()
    c.handshake()
    assert c.get() is None
    assert c.session.get_pending
    c.session.send_message("hello")
    assert c.poll() == [msg("hello")]
    assert not c.session.get_pending


def answered_now(c: PollingClient) -> bool:
    """``poll_ready``, checked against what the pending GET then receives."""
    ready = c.session.poll_ready
    assert ready == (c.poll() is not None)
    return ready


def test_poll_ready_says_whether_the_pending_get_would_be_answered_now() -> None:
    c = PollingClient()
    c.handshake()
    assert not c.session.poll_ready  # no GET
    c.session.begin_get(c.clock.now)
    assert not answered_now(c)  # nothing queued: it waits
    c.session.send_message("hi")
    assert answered_now(c) and not c.session.poll_ready
    c.clock.advance(0.3)
    c.session.begin_get(c.clock.now)  # the ping came due: the GET's arrival queued it
    assert answered_now(c)
    c.post(PONG)
    c.session.begin_get(c.clock.now)
    assert not answered_now(c)
    c.session.begin_upgrade(c.clock.now)
    assert not answered_now(c)  # probing: the GET still waits for the probe's ping
    c.probe(EnginePacket(EnginePacketType.PING, "probe"))
    assert answered_now(c)  # probed: released with a noop
    closing = PollingClient()
    closing.handshake()
    closing.session.begin_get(closing.clock.now)
    closing.post(CLOSE)
    assert answered_now(closing)  # the client closed: released with a noop


def test_post_delivers_messages_in_order() -> None:
    c = PollingClient()
    c.handshake()
    c.post(msg("a"), msg(b"\x01\x02"), msg("c"))
    assert c.events() == [MessageReceived("a"), MessageReceived(b"\x01\x02"), MessageReceived("c")]


@pytest.mark.parametrize("text", ["hello", "", "h\u00e9llo \u2603 \U0001f389", '2["x",{"a":1}]'])
def test_a_post_of_one_message_delivers_it_as_sent(text: str) -> None:
    c = PollingClient()
    c.handshake()
    c.post(msg(text))
    assert c.events() == [MessageReceived(text)]


def test_server_pings_at_interval_and_pong_restarts_the_timer() -> None:
    c = PollingClient()
    c.handshake()
    assert c.session.next_deadline() == pytest.approx(c.clock.now + 0.3)
    c.clock.advance(0.3)
    c.session.handle_timeout(c.clock.now)
    assert c.get() == [PING]
    c.clock.advance(0.15)
    c.post(PONG)
    # The next ping is due a full interval after the pong.
    assert c.session.next_deadline() == pytest.approx(c.clock.now + 0.3)
    for _ in range(3):
        c.clock.advance(0.3)
        assert c.get() == [PING]
        c.post(PONG)
    assert not c.session.closed


def test_no_pong_closes_exactly_at_interval_plus_timeout() -> None:
    c = PollingClient()
    c.handshake()
    start = c.clock.now
    c.clock.advance(0.3)
    assert c.get() == [PING]
    c.clock.now = start + 0.4999
    c.session.handle_timeout(c.clock.now)
    assert not c.session.closed
    c.clock.now = start + 0.5
    # No timer ran: the next request itself finds the session dead (PROTOCOL.md 1.5).
    with pytest.raises(RequestRejected) as info:
        c.get()
    assert (info.value.code, info.value.http_status) == (1, 400)
    assert c.events() == [SessionClosed("ping timeout")]


def test_a_late_timer_still_times_out_from_the_due_time() -> None:
    c = PollingClient()
    c.handshake()
    start = c.clock.now
    c.clock.advance(0.35)  # the ping timer fired 50 ms late
    c.session.handle_timeout(c.clock.now)
    assert c.session.next_deadline() == pytest.approx(start + 0.5)


def test_a_very_late_timer_still_gives_the_client_time_to_answer_its_ping() -> None:
    c = PollingClient()
    c.handshake()
    c.clock.advance(0.6)  # the ping timer fired 300 ms late, past the due pong deadline
    c.session.handle_timeout(c.clock.now)
    assert not c.session.closed
    assert c.get() == [PING]  # the ping goes out now
    assert c.session.next_deadline() == pytest.approx(c.clock.now + 0.1)  # half the timeout
    c.post(PONG)
    c.clock.advance(0.1)
    c.session.handle_timeout(c.clock.now)
    assert not c.session.closed  # the pong in time kept it


def test_duplicate_get_closes_the_session_and_the_pending_get_gets_close() -> None:
    c = PollingClient()
    c.handshake()
    assert c.get() is None
    with pytest.raises(RemoteProtocolError) as info:
        c.session.begin_get(c.clock.now)
    assert info.value.http_status == 400
    assert c.poll() == [CLOSE]
    assert c.session.closed
    with pytest.raises(RequestRejected):
        c.get()
    assert c.events() == [SessionClosed("transport error")]


def test_overlapping_post_closes_the_session() -> None:
    c = PollingClient()
    c.handshake()
    c.session.begin_post(c.clock.now)
    with pytest.raises(RemoteProtocolError):
        c.session.begin_post(c.clock.now)
    assert c.session.closed


def test_client_close_releases_the_pending_get_with_noop() -> None:
    c = PollingClient()
    c.handshake()
    assert c.get() is None
    c.post(CLOSE)
    assert c.poll() == [NOOP]
    assert c.session.closed
    assert c.events() == [SessionClosed("transport close")]


def test_invalid_payload_closes_the_session() -> None:
    c = PollingClient()
    c.handshake()
    with pytest.raises(RemoteProtocolError) as info:
        c.post_raw(b"abc")
    assert info.value.close_reason == "parse error"
    with pytest.raises(RequestRejected):
        c.get()


def test_a_v4_client_ping_is_the_wrong_heartbeat_direction() -> None:
    c = PollingClient()
    c.handshake()
    with pytest.raises(RemoteProtocolError):
        c.post(PING)
    assert c.events() == [SessionClosed("invalid heartbeat direction")]


def test_a_refused_post_leaves_the_session_open() -> None:
    c = PollingClient()
    c.handshake()
    c.session.begin_post(c.clock.now)
    c.session.end_post(None, c.clock.now)  # e.g. 413: too large
    c.post(msg("still here"))
    assert c.events() == [MessageReceived("still here")]


def test_server_close_on_polling_delivers_buffer_then_close() -> None:
    c = PollingClient()
    c.handshake()
    c.session.send_message("bye")
    c.session.close(c.clock.now)
    assert c.session.state is SessionState.CLOSING
    assert c.events() == [SessionClosed("forced close")]
    assert not c.session.send_message("too late")
    assert c.get() == [msg("bye"), CLOSE]
    assert c.session.closed
    assert c.events() == []


def test_server_close_gives_up_waiting_for_a_get_after_close_timeout() -> None:
    c = PollingClient()
    c.handshake()
    c.session.close(c.clock.now)
    c.clock.advance(2.0)
    c.session.handle_timeout(c.clock.now)
    assert c.session.closed


def test_upgrade_to_websocket() -> None:
    c = PollingClient()
    c.handshake()
    assert c.get() is None  # a GET is pending while the probe arrives
    c.session.begin_upgrade(c.clock.now)
    assert c.probe(EnginePacket(EnginePacketType.PING, "probe")) == ["3probe"]
    # The pending GET and any new GET are answered with noop at once.
    assert c.poll() == [NOOP]
    assert c.get() == [NOOP]
    c.session.send_message("during")
    assert c.get() == [msg("during")]
    assert c.probe(EnginePacket(EnginePacketType.UPGRADE)) == []
    assert c.events() == [Upgraded()]
    assert c.session.transport == "websocket"
    c.session.send_message("after")
    assert c.session.take_ws_packets() == [msg("after")]
    with pytest.raises(RequestRejected) as info:
        c.get()
    assert info.value.code == 3


def test_a_second_upgrade_is_refused_without_touching_the_session() -> None:
    c = PollingClient()
    c.handshake()
    c.session.begin_upgrade(c.clock.now)
    with pytest.raises(RemoteProtocolError):
        c.session.begin_upgrade(c.clock.now)
    assert c.session.state is SessionState.PROBING
    c.probe(EnginePacket(EnginePacketType.PING, "probe"))
    c.probe(EnginePacket(EnginePacketType.UPGRADE))
    with pytest.raises(RemoteProtocolError):
        c.session.begin_upgrade(c.clock.now)
    assert c.session.transport == "websocket" and not c.session.closed


def test_upgrade_timeout_keeps_polling() -> None:
    c = PollingClient()
    c.handshake()
    c.session.begin_upgrade(c.clock.now)
    c.probe(EnginePacket(EnginePacketType.PING, "probe"))
    for _ in range(3):  # heartbeats continue on polling meanwhile
        c.clock.advance(0.3)
        assert c.get() == [PING]
        c.post(PONG)
    c.clock.advance(0.11)  # 1.01 s after the probe arrived
    c.session.handle_timeout(c.clock.now)
    assert UpgradeAborted("upgrade timeout") in c.events()
    assert c.session.state is SessionState.OPEN and c.session.transport == "polling"
    c.session.send_message("x")
    assert c.get() == [msg("x")]


def test_garbage_on_the_probe_drops_only_the_upgrade() -> None:
    c = PollingClient()
    c.handshake()
    c.session.begin_upgrade(c.clock.now)
    assert c.probe(msg("hello")) == []
    assert c.events() == [UpgradeAborted("unexpected MESSAGE packet on the probe")]
    assert c.session.state is SessionState.OPEN


def test_websocket_close_flushes_then_ends() -> None:
    s = Session("s", "websocket", options=FAST, now=0.0)
    s.take_ws_packets()
    s.send_message("last words")
    s.close(0.1)
    assert s.closed
    assert s.take_ws_packets() == [msg("last words")]


def test_websocket_garbage_closes_with_parse_error() -> None:
    s = Session("s", "websocket", options=FAST, now=0.0)
    with pytest.raises(RemoteProtocolError):
        s.receive_ws("abc", 0.1)
    assert s.next_event() == SessionClosed("parse error")


def test_full_outbox_closes_a_slow_consumer() -> None:
    options = EngineOptions(limits=Limits(max_outbox_packets=3))
    s = Session("s", "websocket", options=options, now=0.0)
    assert s.send_message("1") and s.send_message("2")
    assert not s.send_message("3")
    assert s.closed
    assert s.next_event() == SessionClosed("transport error")


def test_volatile_messages_are_dropped_behind_a_backlog() -> None:
    s = Session("s", "websocket", options=FAST, now=0.0)
    assert not s.send_message("v", volatile=True)  # the open packet is still queued
    s.take_ws_packets()
    assert s.send_message("v", volatile=True)


def test_v3_client_pings_and_server_pongs() -> None:
    c = PollingClient(
        EngineOptions(ping_interval=0.3, ping_timeout=0.2, allow_eio3=True), protocol=3
    )
    c.handshake()
    c.clock.advance(0.4)
    c.post(EnginePacket(EnginePacketType.PING, "probe"))
    assert c.get() == [PONG]  # Node answers a plain "3", whatever the ping carried
    c.clock.advance(0.49)
    c.session.handle_timeout(c.clock.now)
    assert not c.session.closed
    c.clock.advance(0.01)
    c.session.handle_timeout(c.clock.now)
    assert c.session.closed and c.session.close_reason == "ping timeout"


def test_v3_client_pong_is_an_error() -> None:
    c = PollingClient(EngineOptions(allow_eio3=True), protocol=3)
    c.handshake()
    with pytest.raises(RemoteProtocolError):
        c.post(PONG)


def test_v3_binary_goes_as_octet_stream_unless_b64() -> None:
    c = PollingClient(EngineOptions(allow_eio3=True), protocol=3)
    c.session.send_message(b"\x01\x02")
    c.session.begin_get(c.clock.now)
    result = c.session.take_poll_response(c.clock.now)
    assert result is not None and result[1] == "application/octet-stream"
    c64 = PollingClient(EngineOptions(allow_eio3=True), protocol=3, b64=True)
    c64.session.send_message(b"\x01\x02")
    packets = c64.get()
    assert packets is not None and packets[-1] == msg(b"\x01\x02")


def test_deadlines_are_never_in_the_past_after_handle_timeout() -> None:
    c = PollingClient()
    c.handshake()
    for step in (0.05, 0.3, 0.1, 0.2, 0.7):
        c.clock.advance(step)
        c.session.handle_timeout(c.clock.now)
        deadline = c.session.next_deadline()
        assert deadline is None or deadline > c.clock.now


def test_a_poll_response_carries_at_most_max_packets_per_poll() -> None:
    # python-engineio's client refuses polling payloads of more than 16 packets.
    c = PollingClient()
    c.handshake()
    for i in range(40):
        c.session.send_message(str(i))
    batches = [c.get() for _ in range(3)]
    assert [len(b or []) for b in batches] == [16, 16, 8]
    assert [p.data for b in batches for p in b or []] == [str(i) for i in range(40)]


def test_a_capped_close_is_delivered_last() -> None:
    c = PollingClient()
    c.handshake()
    for i in range(20):
        c.session.send_message(str(i))
    c.session.close(c.clock.now)
    first = c.get()
    assert first is not None and len(first) == 16 and not c.session.closed
    assert c.get() == [msg(str(i)) for i in range(16, 20)] + [CLOSE]
    assert c.session.closed


def test_close_without_close_packet_ends_like_a_lost_transport() -> None:
    # Used on shutdown: clients reconnect (python-socketio would not after a close packet).
    c = PollingClient()
    c.handshake()
    c.session.send_message("last")
    c.session.close(c.clock.now, "server shutting down", close_packet=False)
    assert c.get() == [msg("last")]
    assert c.session.closed
    idle = PollingClient()
    idle.handshake()
    assert idle.get() is None
    idle.session.close(idle.clock.now, "server shutting down", close_packet=False)
    assert idle.poll() == [NOOP] and idle.session.closed
