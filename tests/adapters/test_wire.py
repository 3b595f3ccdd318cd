"""The redis-adapter messages (sans-IO): golden bytes from Node, strict decoding."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.adapters.messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from thinkio.adapters.msgpack import packb
from thinkio.adapters.wire import (
    Channels,
    decode_broadcast,
    decode_request,
    decode_response,
    encode_json,
    encode_message,
    encode_response,
    new_uid,
)
from thinkio.errors import RemoteProtocolError
from thinkio.server.adapter import BroadcastOptions

from .vectors import MSGPACK

BROADCAST_HEX = next(wire for name, _, wire in MSGPACK if name == "a broadcast message")


def keep(ms: int) -> int:
    return ms


def test_channels_are_named_as_node_names_them() -> None:
    ch = Channels("socket.io", "/chat", "AbC123")
    assert ch.broadcast == "socket.io#/chat#"
    assert ch.room("r1") == "socket.io#/chat#r1#"
    assert ch.request == "socket.io-request#/chat#"
    assert ch.response == "socket.io-response#/chat#"
    assert ch.specific_response() == "socket.io-response#/chat#AbC123#"
    assert ch.pattern == "socket.io#/chat#*"
    assert Channels("k", "/a*[b]", "u").pattern == "k#/a\\*\\[b\\]#*"


def test_uids_are_six_alphanumerics() -> None:
    uid = new_uid()
    assert len(uid) == 6 and uid.isalnum() and uid.isascii()


def test_a_broadcast_is_encoded_byte_for_byte_as_node_does() -> None:
    opts = BroadcastOptions(
        rooms=frozenset({"room1"}), except_rooms=frozenset({"sid1"}), volatile=True
    )
    message = Broadcast(opts, ["chat", "hi", b"\x01\x02", {"n": 1.5}])
    channel, body = encode_message(message, "AbC123", Channels("socket.io", "/", "AbC123"))
    assert channel == "socket.io#/#room1#"  # one room: that room's channel
    assert body.hex() == BROADCAST_HEX


def test_a_node_broadcast_is_decoded() -> None:
    uid, nsp, message = decode_broadcast(bytes.fromhex(BROADCAST_HEX), on_date=keep)
    assert (uid, nsp) == ("AbC123", "/")
    assert message.data == ["chat", "hi", b"\x01\x02", {"n": 1.5}]
    assert message.opts.rooms == {"room1"} and message.opts.except_rooms == {"sid1"}
    assert message.opts.volatile and message.opts.local


def test_broadcast_details() -> None:
    # Missing nsp means "/"; numeric rooms become their JS string; missing rooms are empty.
    raw = packb(["u", {"type": 2, "data": ["e"]}, {"rooms": [42, 1.5], "flags": None}])
    _, nsp, message = decode_broadcast(raw, on_date=keep)
    assert nsp == "/"
    assert message.opts.rooms == {"42", "1.5"} and message.opts.except_rooms == frozenset()


def test_every_message_round_trips_through_node_s_format() -> None:
    ch = Channels("k", "/chat", "me0001")
    opts = BroadcastOptions(rooms=frozenset({"a", "b"}), except_rooms=frozenset({"x"}))
    messages = [
        Broadcast(opts, ["e", 1, b"\x00"]),
        Broadcast(opts, ["e", 1], "rid"),
        SocketsJoin(opts, ("r1", "r2")),
        SocketsLeave(opts, ("r1",)),
        DisconnectSockets(opts, True),
        FetchSockets(opts, "rid"),
        AllRooms("rid"),
        ServerSideEmit(["e", {"a": [1]}], "rid"),
        ServerSideEmit(["e"]),
    ]
    for message in messages:
        channel, body = encode_message(message, "me0001", ch)
        if channel == ch.request:
            uid, nsp, back = decode_request(body, on_date=keep)
            assert uid == "me0001" and nsp in (None, "/chat")
        else:
            uid, nsp, back = decode_broadcast(body, on_date=keep)
        local = getattr(back, "opts", None)
        if local is not None:
            assert local.local  # what a peer sent is carried out here only
            back = type(back)(**{**{f: getattr(back, f) for f in back.__slots__}, "opts": opts})
        assert back == message, (message, back)
    responses = [
        FetchSocketsResponse("r", ({"id": "s", "rooms": ["s"], "data": {"b": 1}},)),
        AllRoomsResponse("r", frozenset({"a", "b"})),
        ServerSideEmitResponse("r", {"v": 1}),
        BroadcastClientCount("r", 3),
        BroadcastAck("r", b"\x01"),
    ]
    for response in responses:
        assert decode_response(encode_response(response), on_date=keep) == response


@pytest.mark.parametrize(
    "value",
    [
        {"not": "a list"},
        ["u", {"type": 2, "data": ["e"]}],
        [1, {"type": 2, "data": ["e"]}, {}],
        ["u", {"type": 3, "data": ["e"], "id": 1}, {}],
        ["u", {"type": 2, "data": []}, {}],
        ["u", {"type": 2, "data": ["e"], "nsp": 5}, {}],
        ["u", {"type": 2, "data": ["e"]}, {"rooms": "r"}],
        ["u", {"type": 2, "data": ["e"]}, {"rooms": [None]}],
        ["u", {"type": 2, "data": ["e"]}, {"flags": [1]}],
        ["u", {"type": 2, "data": ["e"]}, []],
    ],
)
def test_malformed_broadcasts_raise_the_peer_error(value: Any) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_broadcast(packb(value), on_date=keep)


def test_requests_as_node_sends_them() -> None:
    fetch = b'{"uid":"n0de01","requestId":"r1","type":5,"opts":{"rooms":["a"],"except":[]}}'
    uid, nsp, message = decode_request(fetch, on_date=keep)
    assert (uid, nsp) == ("n0de01", None) and isinstance(message, FetchSockets)
    assert message.request_id == "r1" and message.opts.rooms == {"a"} and message.opts.local
    join = b'{"uid":"n","type":2,"opts":{"rooms":["s1"],"except":["x"]},"rooms":["r"]}'
    _, _, message = decode_request(join, on_date=keep)
    assert isinstance(message, SocketsJoin) and message.rooms == ("r",)
    assert message.opts.except_rooms == {"x"}
    emitter = b'{"type":4,"opts":{"rooms":[],"except":[]},"close":true}'
    uid, _, message = decode_request(emitter, on_date=keep)
    assert uid is None and isinstance(message, DisconnectSockets) and message.close
    sse = b'{"uid":"n","type":6,"data":["hello",1,{"a":[]}],"requestId":"q"}'
    _, _, message = decode_request(sse, on_date=keep)
    assert message == ServerSideEmit(["hello", 1, {"a": []}], "q")


def test_an_acked_broadcast_request_is_msgpack() -> None:
    body = {
        "uid": "n",
        "requestId": "r",
        "type": 7,
        "packet": {"type": 2, "data": ["q", b"\x00"], "nsp": "/chat"},
        "opts": {"rooms": [], "except": [], "flags": {"timeout": 1500}},
    }
    _, nsp, message = decode_request(packb(body), on_date=keep)
    assert nsp == "/chat" and isinstance(message, Broadcast)
    assert message.data == ["q", b"\x00"] and message.request_id == "r"
    assert message.opts.flags == {"timeout": 1500}


@pytest.mark.parametrize(
    "data",
    [
        b"{not json",
        b"[1]",
        b'{"type":"5"}',
        b'{"type":true}',
        b'{"type":6,"data":[]}',
        b'{"type":6,"data":[1]}',
        b'{"type":5,"opts":[]}',
        b'{"type":7}',
        b'{"type":2,"uid":[]}',
        b'{"uid":"n","requestId":"r","type":3,"sid":"s","room":"r1"}',
        b'{"type":0,"rooms":[]}',
        b"\xc1",
    ],
)
def test_malformed_requests_raise_the_peer_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_request(data, on_date=keep)


def test_responses() -> None:
    fetched = b'{"requestId":"r","sockets":[{"id":"s","handshake":{},"rooms":["s"],"data":{}}]}'
    response = decode_response(fetched, on_date=keep)
    assert isinstance(response, FetchSocketsResponse) and response.sockets[0]["id"] == "s"
    rooms = decode_response(b'{"requestId":"r","rooms":["b","a"]}', on_date=keep)
    assert rooms == AllRoomsResponse("r", frozenset({"a", "b"}))
    ack = decode_response(packb({"type": 9, "requestId": "r", "packet": b"x"}), on_date=keep)
    assert ack == BroadcastAck("r", b"x")
    for bad in (b'{"sockets":[]}', b'{"requestId":"r","sockets":{}}', b'{"requestId":"r"}'):
        with pytest.raises(RemoteProtocolError):
            decode_response(bad, on_date=keep)


def test_json_is_written_as_json_stringify_writes_it() -> None:
    opts = BroadcastOptions(rooms=frozenset({"a"}))
    _, body = encode_message(FetchSockets(opts, "r"), "u", Channels("k", "/", "u"))
    assert body == b'{"uid":"u","requestId":"r","type":5,"opts":{"rooms":["a"],"except":[]}}'
    # A Buffer in socket.data: what JSON.stringify makes of a Node Buffer.
    assert (
        encode_json({"d": b"\x01\x02", "f": 1.0}) == b'{"d":{"type":"Buffer","data":[1,2]},"f":1}'
    )


@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_a_message_or_the_peer_error(data: bytes) -> None:
    for decode in (decode_broadcast, decode_request, decode_response):
        with contextlib.suppress(RemoteProtocolError):
            decode(data, on_date=keep)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "uid",
                "requestId",
                "type",
                "opts",
                "rooms",
                "sid",
                "room",
                "close",
                "data",
                "packet",
                "sockets",
            ]
        ),
        json_values,
    )
)
def test_arbitrary_objects_give_a_message_or_the_peer_error(body: dict[str, Any]) -> None:
    for data in (encode_json(body), packb(body)):
        for decode in (decode_request, decode_response):
            with contextlib.suppress(RemoteProtocolError):
                decode(data, on_date=keep)
