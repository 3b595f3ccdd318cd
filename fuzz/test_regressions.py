"""Every core bug the fuzzers found, as a named unit test on the shrunk input.

All of them are fixed; each test keeps its bug from coming back, and the comment above each
group says what the bug was.
"""

from __future__ import annotations

import pytest

from thinkio.engineio import (
    EnginePacket,
    EnginePacketType,
    Session,
    decode_payload,
    decode_payload_v3,
    encode_payload,
    encode_payload_v3,
)
from thinkio.errors import LocalProtocolError
from thinkio.limits import Limits
from thinkio.socketio import Decoder, encode
from thinkio.socketio import Packet as SioPacket
from thinkio.socketio import PacketType as SioType

from .sessions import decode_response, new_session, options_with

NOW = 1000.0


def _get(session: Session, now: float = NOW) -> list[EnginePacket]:
    """A GET that must be answered at once; the packets the client decodes."""
    session.begin_get(now)
    result = session.take_poll_response(now)
    assert result is not None
    body, content_type = result
    return decode_response(body, content_type, session.protocol)


# -- Session: heartbeat packets bypassed the outbox limits -------------------------------------
# Heartbeat packets (v3 pongs, v4 pings) were queued without the max_outbox_packets /
# max_outbox_bytes check, so a client that heartbeats without reading grew the outbox
# without bound.


def test_v3_client_pings_cannot_grow_the_outbox_past_its_packet_limit() -> None:
    # Found by SessionMachine: start(polling, v3, tiny limits), 8 x keepalive, no GET.
    limits = Limits(max_outbox_packets=5)
    session = new_session(protocol=3, options=options_with(limits))
    for _ in range(5):
        if session.closed:
            break  # closed as a slow consumer: later POSTs are refused, as they should be
        session.begin_post(NOW)
        session.end_post(b"1:2" * 10, NOW)  # ten v3 pings per POST, each answered with a pong
    # Either the pongs were refused or the session closed as a slow consumer.
    assert session.outbox_size <= limits.max_outbox_packets + 1  # + the open packet


def test_v3_ping_data_cannot_grow_the_outbox_past_its_byte_limit() -> None:
    limits = Limits(max_outbox_bytes=1_000)
    session = new_session(protocol=3, options=options_with(limits))
    _get(session)  # the open packet
    ping = "2" + "x" * 900  # a v3 pong echoes the ping's data
    for _ in range(10):
        if session.closed:
            return
        session.begin_post(NOW)
        session.end_post(f"{len(ping)}:{ping}".encode(), NOW)
    if session.closed:
        return
    queued = sum(len(p.data) for p in _get(session))
    assert queued <= limits.max_outbox_bytes


def test_v4_pings_to_a_client_that_never_reads_respect_the_outbox_limit() -> None:
    # A v4 client that pongs on time but never GETs: one ping is queued per interval.
    limits = Limits(max_outbox_packets=3)
    session = new_session(options=options_with(limits))
    now = NOW
    for _ in range(6):
        now += 0.3  # FAST.ping_interval: the ping is due
        session.handle_timeout(now)
        if session.closed:
            break
        session.begin_post(now)
        session.end_post(b"3", now)
    assert session.closed or session.outbox_size <= limits.max_outbox_packets + 1


# -- Engine.IO text that UTF-8 cannot carry ----------------------------------------------------
# A text message holding a lone surrogate was queued by send_message, then
# Session.take_poll_response (and encode_payload_v3) raised UnicodeEncodeError -- not a
# ThinkioError -- after the outbox was already emptied, losing every queued packet.


def test_text_message_utf8_cannot_carry_never_breaks_a_poll() -> None:
    session = new_session()
    _get(session)  # the open packet
    try:
        queued = session.send_message("\ud800")
    except LocalProtocolError:
        return  # refused at the source: fine
    session.send_message("after")
    packets = _get(session)  # must not raise
    assert [p.data for p in packets] == (["\ud800", "after"] if queued else ["after"])


def test_encode_payload_v3_refuses_text_utf8_cannot_carry_with_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        encode_payload_v3([EnginePacket(EnginePacketType.MESSAGE, "\ud800")], b64=True)


# -- the v4 record separator inside a text packet ----------------------------------------------
# encode_payload joined text packets with \x1e without checking that no packet holds \x1e,
# so a server message 'hi\x1e1' reached a polling client as a message 'hi' and a close
# packet (packet injection into other clients' sessions).


def test_v4_payload_encoder_never_splits_a_text_packet_on_the_separator() -> None:
    packets = [EnginePacket(EnginePacketType.MESSAGE, "hi\x1e1")]
    try:
        body = encode_payload(packets)
    except LocalProtocolError:
        return
    assert decode_payload(body, max_packets=10) == packets


def test_server_message_holding_the_separator_cannot_inject_packets() -> None:
    session = new_session()
    _get(session)
    try:
        queued = session.send_message("hi\x1e1")
    except LocalProtocolError:
        return
    received = _get(session)
    assert received == ([EnginePacket(EnginePacketType.MESSAGE, "hi\x1e1")] if queued else [])


def test_v3_payload_carries_the_separator_unharmed() -> None:
    # The length-prefixed v3 framing has no separator: the same message is fine there.
    packets = [EnginePacket(EnginePacketType.MESSAGE, "hi\x1e1")]
    body, _ = encode_payload_v3(packets, b64=True)
    assert decode_payload_v3(body, binary=False, max_packets=10) == packets


# -- Socket.IO protocol 4 CONNECT query --------------------------------------------------------


def test_protocol4_connect_query_is_not_counted_as_namespace_length() -> None:
    token = "x" * 300
    packet = Decoder(protocol=4).feed(f"0/admin?token={token},")
    assert packet == SioPacket(SioType.CONNECT, "/admin", {"token": token})


def test_protocol4_connect_query_utf8_cannot_carry_is_a_local_error() -> None:
    packet = SioPacket(SioType.CONNECT, "/admin", {"token": "\ud800"})
    try:
        messages = encode(packet, protocol=4)
    except LocalProtocolError:
        return
    for message in messages:
        assert isinstance(message, bytes) or message.encode("utf-8")


# -- Session.close() and the timers ------------------------------------------------------------


def test_close_runs_the_timers_that_are_due() -> None:
    session = new_session()
    session.close(NOW)  # polling: CLOSING until a GET takes the close packet (2 s at most)
    later = NOW + 3.0
    session.close(later)
    deadline = session.next_deadline()
    assert deadline is None or deadline > later


def test_protocol4_encoder_refuses_a_namespace_holding_a_query_mark() -> None:
    for packet in (
        SioPacket(SioType.EVENT, "/a?b", ["x"]),
        SioPacket(SioType.CONNECT, "/a?b", None),
    ):
        with pytest.raises(LocalProtocolError):
            encode(packet, protocol=4)
