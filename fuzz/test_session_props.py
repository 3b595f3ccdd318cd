"""Engine.IO sessions fed garbage, and fed the same packets in different batchings.

PROTOCOL.md 1.4-1.7 and 4: whatever a client sends, the session raises nothing but
RemoteProtocolError (and is closed when it does), and how packets are grouped into POSTs,
GETs or polling payloads never changes what comes out.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import assume, example, given
from hypothesis import strategies as st

from thinkio.engineio import (
    EnginePacket,
    EnginePacketType,
    MessageReceived,
    SessionClosed,
    SessionState,
    UpgradeAborted,
    Upgraded,
    encode_ws,
)
from thinkio.engineio.payload import SEPARATOR
from thinkio.errors import LocalProtocolError, RemoteProtocolError, RequestRejected
from thinkio.socketio import Decoder, encode

from .sessions import decode_response, drain, new_session, post_body
from .strategies import (
    NO_SURROGATES,
    eio_binary_packets,
    eio_packets,
    garbage_bytes,
    garbage_text,
    normal_json,
    normal_packet,
    sio_packets,
)

NOW = 1000.0
protocols = st.sampled_from([3, 4])

#: Packets a client may send on polling or WebSocket, including ones that are errors in one
#: revision (ping in v4, pong in v3) or always (open).
client_text = st.text(
    alphabet=st.characters(exclude_characters=SEPARATOR, exclude_categories=NO_SURROGATES),
    max_size=12,
)
client_packets = st.one_of(
    st.builds(EnginePacket, st.just(EnginePacketType.MESSAGE), client_text),
    eio_binary_packets,
    st.sampled_from(
        [
            EnginePacket(EnginePacketType.PONG),
            EnginePacket(EnginePacketType.PING),
            EnginePacket(EnginePacketType.PING, "probe"),
            EnginePacket(EnginePacketType.NOOP),
            EnginePacket(EnginePacketType.UPGRADE),
            EnginePacket(EnginePacketType.CLOSE),
            EnginePacket(EnginePacketType.OPEN),
        ]
    ),
)


def _check_failed_session(session: Any, exc: RemoteProtocolError, events: list[Any]) -> None:
    """A session that raised for a client's fault is closed, and says so last."""
    assert session.closed
    assert isinstance(events[-1], SessionClosed)
    assert events[-1].reason == exc.close_reason == session.close_reason
    assert [e for e in events if isinstance(e, SessionClosed)] == [events[-1]]


# ------------------------------------------------------------------ garbage: value or error

v4_bodies = st.lists(client_packets, min_size=1, max_size=5).map(lambda ps: post_body(ps, 4, False))
v3_bodies = st.builds(
    post_body, st.lists(client_packets, min_size=1, max_size=5), st.just(3), st.booleans()
)


@given(
    protocols,
    st.booleans(),
    garbage_bytes(v4_bodies | v3_bodies),
)
@example(4, False, b"")
@example(3, False, b"")
@example(4, True, b"4a")
@example(4, False, b"\xff")
@example(3, True, b"\x01\x01\xff\x03")
def test_end_post_with_any_body(protocol: int, binary: bool, body: bytes) -> None:
    session = new_session(protocol=protocol)
    session.begin_post(NOW)
    try:
        session.end_post(body, NOW, binary=binary)
    except RemoteProtocolError as exc:
        assert not isinstance(exc, RequestRejected)
        assert exc.http_status == 400
        _check_failed_session(session, exc, drain(session))
        return
    events = drain(session)
    assert all(isinstance(e, MessageReceived) for e in events[:-1])
    if session.closed:
        assert events[-1] == SessionClosed("transport close")
    else:
        assert all(isinstance(e, MessageReceived) for e in events)


ws_messages = st.one_of(
    garbage_text(st.builds(lambda p, v: str(encode_ws(p, protocol=v)), client_packets, protocols)),
    garbage_bytes(st.binary(max_size=12)),
)


@given(protocols, st.lists(ws_messages, min_size=1, max_size=6))
@example(3, [b""])
@example(4, ["b" + "AQID"])
@example(4, [""])
def test_receive_ws_with_any_message(protocol: int, messages: list[str | bytes]) -> None:
    session = new_session("websocket", protocol=protocol)
    events: list[Any] = []
    for message in messages:
        try:
            session.receive_ws(message, NOW)
        except RemoteProtocolError as exc:
            events += drain(session)
            _check_failed_session(session, exc, events)
            return
        events += drain(session)
    closed = [e for e in events if isinstance(e, SessionClosed)]
    assert closed == ([SessionClosed("transport close")] if session.closed else [])
    if closed:
        assert events[-1] == closed[0]
    # After the close, later messages are ignored: no event follows SessionClosed.


probe_messages = st.one_of(
    st.sampled_from(["2probe", "5", "6", "2", "3probe", "4hello", "1", "b", b"\x04\x01"]),
    ws_messages,
)


@given(protocols, st.lists(probe_messages, min_size=1, max_size=6))
@example(4, ["2probe", "5"])
@example(3, ["2probe", "2probe", "5", "5"])
@example(4, ["5"])
@example(4, ["2probe", "garbage", "5"])
def test_receive_probe_with_any_message(protocol: int, messages: list[str | bytes]) -> None:
    # The probe never raises: a bad probe drops the upgrade, never the session.
    session = new_session(protocol=protocol)
    session.begin_upgrade(NOW)
    events: list[Any] = []
    for message in messages:
        replies = session.receive_probe(message, NOW)
        events += drain(session)
        assert all(isinstance(p, EnginePacket) for p in replies)
        if replies:
            assert replies == [EnginePacket(EnginePacketType.PONG, "probe")]
            assert message == "2probe"
        assert not session.closed
    assert len([e for e in events if isinstance(e, Upgraded | UpgradeAborted)]) <= 1
    if events:
        assert session.state is SessionState.OPEN
        if isinstance(events[0], Upgraded):
            assert session.transport == "websocket"
        else:
            assert session.transport == "polling"
    else:
        assert session.upgrading


# ------------------------------------------------------------------------- whole vs pieces


def _post_all(session: Any, bodies: list[bytes], binary: bool) -> tuple[list[Any], str | None]:
    """POST each body in turn; stop at the first refusal. Events and the error's reason."""
    events: list[Any] = []
    for body in bodies:
        try:
            session.begin_post(NOW)
        except RequestRejected:
            break
        try:
            session.end_post(body, NOW, binary=binary)
        except RemoteProtocolError as exc:
            return events + drain(session), exc.close_reason
        events += drain(session)
    return events, None


@given(protocols, st.booleans(), st.lists(client_packets, min_size=1, max_size=8))
def test_one_post_of_n_packets_equals_n_posts_of_one(
    protocol: int, binary: bool, packets: list[EnginePacket]
) -> None:
    binary = binary and protocol == 3
    whole = new_session(protocol=protocol)
    split = new_session(protocol=protocol)
    outcome_whole = _post_all(whole, [post_body(packets, protocol, binary)], binary)
    outcome_split = _post_all(split, [post_body([p], protocol, binary) for p in packets], binary)
    assert outcome_whole == outcome_split
    assert whole.state is split.state
    assert whole.close_reason == split.close_reason


@given(
    st.sampled_from(["polling", "websocket"]),
    protocols,
    st.booleans(),
    # No record separator in text: v4 polling refuses it, by design (test_regressions).
    st.lists(
        eio_packets(exclude=SEPARATOR).filter(lambda p: p.type is EnginePacketType.MESSAGE),
        max_size=8,
    ),
    st.lists(st.integers(0, 8), max_size=8),
)
def test_server_packets_arrive_in_order_however_they_are_fetched(
    transport: str, protocol: int, b64: bool, messages: list[EnginePacket], fetch_after: list[int]
) -> None:
    # Sends interleaved with fetches (GETs or WebSocket writes) at arbitrary points deliver
    # the same packets, in order, as one fetch at the end.
    session = new_session(transport, protocol=protocol, b64=b64)
    fetch_points = set(fetch_after)
    delivered: list[EnginePacket] = []

    def fetch() -> None:
        if transport == "websocket":
            delivered.extend(session.take_ws_packets())
            return
        session.begin_get(NOW)
        result = session.take_poll_response(NOW)
        if result is None:
            session.abort_get(NOW)  # nothing queued; a real client would wait
            raise AssertionError("GET waited although packets were queued")
        delivered.extend(decode_response(*result, protocol))

    fetch()  # the open packet
    for i, message in enumerate(messages):
        assert session.send_message(message.data)
        if i in fetch_points:
            fetch()
    if session.outbox_size:
        fetch()
    assert delivered[0].type is EnginePacketType.OPEN
    assert delivered[1:] == messages
    assert drain(session) == []


@given(
    st.sampled_from([4, 5]).flatmap(lambda p: st.tuples(st.just(p), sio_packets(p, binary=True))),
    st.sampled_from(["v4", "v3-b64", "v3-binary", "websocket"]),
    st.lists(st.integers(0, 12), max_size=6),
)
def test_binary_packet_split_across_payloads_decodes_the_same(
    case: tuple[int, Any], framing: str, cuts: list[int]
) -> None:
    # A Socket.IO binary packet is a header and N attachments (PROTOCOL.md 2.1); on polling
    # they may come in one payload or spread over several POSTs, in any grouping.
    sio_protocol, packet = case
    messages = encode(packet, protocol=sio_protocol)
    eio_protocol = 4 if framing in ("v4", "websocket") else 3
    # A namespace may hold "\x1e", which v4 polling cannot carry (the sender refuses it).
    assume(framing != "v4" or not any(isinstance(m, str) and SEPARATOR in m for m in messages))
    eio_packets_ = [EnginePacket(EnginePacketType.MESSAGE, m) for m in messages]
    bounds = sorted({0, len(eio_packets_), *(c for c in cuts if c < len(eio_packets_))})
    groups = [eio_packets_[a:b] for a, b in itertools.pairwise(bounds)]
    if framing == "websocket":
        session = new_session("websocket", protocol=eio_protocol)
        for m in messages:
            session.receive_ws(
                encode_ws(EnginePacket(EnginePacketType.MESSAGE, m), protocol=4), NOW
            )
    else:
        session = new_session(protocol=eio_protocol)
        binary = framing == "v3-binary"
        for group in groups:
            session.begin_post(NOW)
            session.end_post(post_body(group, eio_protocol, binary), NOW, binary=binary)
    events = drain(session)
    assert [e.data for e in events if isinstance(e, MessageReceived)] == messages
    decoder = Decoder(protocol=sio_protocol)
    results = [decoder.feed(e.data) for e in events if isinstance(e, MessageReceived)]
    assert results[:-1] == [None] * (len(results) - 1)
    decoded = results[-1]
    assert decoded is not None
    assert normal_packet(decoded) == normal_packet(packet)
    assert normal_json(decoded.data) == normal_json(packet.data)


#: Any text a server program may try to send: separators and lone surrogates included.
server_text_any = st.text(
    alphabet=st.characters(codec=None) | st.sampled_from([SEPARATOR, "\ud800", "\udfff"]),
    max_size=12,
)


@given(
    texts=st.lists(server_text_any, min_size=1, max_size=5),
    transport=st.sampled_from(["polling", "websocket"]),
    protocol=protocols,
)
@example(texts=["hi\x1e1"], transport="polling", protocol=4)
@example(texts=["\ud800"], transport="websocket", protocol=4)
def test_server_sends_arrive_intact_or_are_refused_as_local_errors(
    texts: list[str], transport: str, protocol: int
) -> None:
    # Fuzz-found: lone surrogates and "\x1e" once broke the polling response after the outbox
    # was emptied. Now each send is refused up front (LocalProtocolError) or delivered whole.
    session = new_session(transport, protocol=protocol)
    accepted: list[str] = []
    for text in texts:
        try:
            queued = session.send_message(text)
        except LocalProtocolError:
            continue
        assert queued
        accepted.append(text)
    if transport == "websocket":
        received = session.take_ws_packets()[1:]
    else:
        session.begin_get(NOW)
        response = session.take_poll_response(NOW)
        assert response is not None
        received = decode_response(*response, protocol)[1:]
    assert [p.data for p in received] == accepted
