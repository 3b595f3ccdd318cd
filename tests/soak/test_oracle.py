"""The network fuzzer's oracle (fuzz/net/model.py) says what PROTOCOL.md says.

The cases are PROTOCOL.md's own examples and the packets protocol/ checks against every
server (test_sio_message.py's INVALID list), so the oracle cannot drift from the suite that
Node's reference server and thinkio both pass.
"""

from __future__ import annotations

import pytest

from fuzz.net.model import Effect, SioState, eio_effect, handshake_answer, handshake_errors
from fuzz.net.steps import Handshake

ALLOWED = "http://allowed.example"


def answer(**fields: object) -> tuple[int, int | None]:
    h = Handshake(**fields)  # type: ignore[arg-type]
    restricted = h.mount == "/restricted/"
    got = handshake_answer(h, restricted=restricted, allowed_origin=ALLOWED)
    return got.status, got.code


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (200, None)),
        ({"transport": "websocket", "upgrade": True}, (101, None)),
        ({"transport": None}, (400, 0)),
        ({"transport": "abc", "eio": "abc", "method": "POST"}, (400, 0)),  # transport first
        ({"unknown_sid": "nope", "method": "POST"}, (400, 1)),  # session before method
        ({"method": "PUT", "eio": "3"}, (400, 2)),  # method before version
        ({"transport": "websocket"}, (400, 3)),  # websocket without the upgrade
        ({"transport": "websocket", "eio": "abc"}, (400, 3)),
        ({"eio": None}, (400, 5)),
        ({"eio": "04"}, (400, 5)),  # Node: EIO must be exactly "4"
        ({"mount": "/restricted/", "origin": "http://evil.example"}, (403, 4)),
        ({"mount": "/restricted/", "origin": "http://evil.example", "eio": "3"}, (403, 4)),
        ({"mount": "/restricted/", "origin": ALLOWED}, (200, None)),
        ({"mount": "/restricted/"}, (200, None)),  # no Origin: not a browser, let in
        ({"method": "OPTIONS", "eio": None}, (204, None)),  # a preflight, before any check
    ],
)
def test_handshake_answers_follow_the_order_of_protocol_1_8(
    fields: dict[str, object], expected: tuple[int, int | None]
) -> None:
    assert answer(**fields) == expected


def test_a_refused_upgrade_needs_the_capability_only_where_node_upgrades_first() -> None:
    bad_eio = handshake_answer(Handshake(transport="websocket", upgrade=True, eio="3"),
                               restricted=False, allowed_origin=ALLOWED)  # fmt: skip
    assert (bad_eio.status, bad_eio.capability) == (400, "ws-refuses-before-upgrade")
    unknown = handshake_answer(Handshake(transport="websocket", upgrade=True, unknown_sid="x"),
                               restricted=False, allowed_origin=ALLOWED)  # fmt: skip
    assert (unknown.status, unknown.capability) == (400, None)


def test_every_broken_rule_is_listed_in_order() -> None:
    h = Handshake(mount="/restricted/", transport="websocket", eio="3", method="GET",
                  origin="http://evil.example")  # fmt: skip
    codes = [e.code for e in handshake_errors(h, restricted=True, allowed_origin=ALLOWED)]
    assert codes == [3, 4, 5]


@pytest.mark.parametrize(
    ("packet", "effect"),
    [("4hello", Effect.OK), ("3", Effect.OK), ("", Effect.CLOSES), ("abc", Effect.CLOSES),
     ("1", Effect.CLOSES), ("2", Effect.CLOSES), ("2probe", Effect.CLOSES), ("6", Effect.UNSURE)],
)  # fmt: skip
def test_engine_io_packets_from_a_client(packet: str, effect: Effect) -> None:
    assert eio_effect(packet) is effect


#: protocol/test_sio_message.py's INVALID packets (without the Engine.IO "4").
INVALID = ["7", "", '2"message"', "2[]", "2[{}]", "2[null]", '2["disconnect"]', '2["connect"]',
           '2["newListener"]', '2["message",NaN]', '2["message",Infinity]', '2["message"',
           "31{}", '5-["message"]', '50-["message",{"_placeholder":true,"num":0}]',
           '511-["message",{"_placeholder":true,"num":0}]',
           '5x-["message",{"_placeholder":true,"num":0}]', '4{"message":"x"}', "2{}",
           '2abc["message-with-ack",1]', "abc", "1{}"]  # fmt: skip


@pytest.mark.parametrize("packet", INVALID)
def test_packets_protocol_rejects_close_the_session(packet: str) -> None:
    state = SioState(joined={"/"})
    assert state.text(packet) == (Effect.CLOSES, None)


def test_connect_event_ack_and_unknown_namespace() -> None:
    state = SioState()
    effect, reply = state.text("0")
    assert effect is Effect.OK and reply is not None and reply.head == "40"
    assert state.text("0")[0] is Effect.CLOSES  # CONNECT to a namespace already joined


def test_replies_of_the_suite_app() -> None:
    state = SioState(joined={"/"})
    _, reply = state.text('2["message",1,"2"]')
    assert reply is not None and (reply.head, reply.data) == ("42", ["message-back", 1, "2"])
    _, reply = state.text('27["message-with-ack",{"a":[true]}]')
    assert reply is not None and (reply.head, reply.data) == ("437", [{"a": [True]}])
    _, reply = state.text("0/random,")
    assert reply is not None and reply.head == "44/random,"
    assert reply.data == {"message": "Invalid namespace"}
    assert state.text('2["nobody-listens"]') == (Effect.OK, None)
    assert state.text('31["x"]') == (Effect.OK, None)  # an ack nobody waits for


def test_binary_packets_wait_for_their_attachments() -> None:
    state = SioState(joined={"/"})
    header = '52-["message",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]'
    assert state.text(header) == (Effect.OK, None)
    assert state.binary(b"a") == (Effect.OK, None)
    effect, reply = state.binary(b"b")
    assert effect is Effect.OK and reply is not None
    assert (reply.head, reply.attachments) == ("452-", (b"a", b"b"))


@pytest.mark.parametrize(
    "frames",
    [['51-["message",{"_placeholder":true,"num":1}]', b"x"],
     ['51-["message",{"_placeholder":true,"num":-1}]', b"x"],
     ['51-["message",{"_placeholder":true,"num":"0"}]', b"x"],
     ['52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"x",
      '2["message","early"]'],
     [b"\x01\x02"]],
)  # fmt: skip
def test_hostile_or_misplaced_attachments_close(frames: list[str | bytes]) -> None:
    state = SioState(joined={"/"})
    effects = [state.text(f)[0] if isinstance(f, str) else state.binary(f)[0] for f in frames]
    assert effects[-1] is Effect.CLOSES and Effect.CLOSES not in effects[:-1]


def test_once_unsure_the_state_stays_unsure() -> None:
    state = SioState(joined={"/"})
    assert state.text('2["message",{"_placeholder":true,"num":0}]')[0] is Effect.UNSURE
    assert state.text('2["message",1]') == (Effect.UNSURE, None)


def test_message_with_an_ack_id_may_be_answered_with_one() -> None:
    """Node's suite app hands the client's ack callback on to ``message-back``, which then
    asks for an ack of its own: ``420["message"]`` may be answered ``4254["message-back"]``."""
    _, reply = SioState(joined={"/"}).text('20["message"]')
    assert reply is not None and reply.any_ack_id
    _, reply = SioState(joined={"/"}).text('2["message"]')
    assert reply is not None and not reply.any_ack_id
