"""The redis-adapter messages (sans-IO): golden bytes from Node, strict decoding."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.adapters.msgpack import packb
from thinkio.adapters.wire import (
    Channels,
    RequestType,
    decode_broadcast,
    decode_request,
    decode_response,
    encode_broadcast,
    encode_json,
    new_uid,
    request_body,
)
from thinkio.errors import RemoteProtocolError
from thinkio.server.adapter import BroadcastOptions
from thinkio.socketio import Packet, PacketType

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
    packet = Packet(PacketType.EVENT, "/", ["chat", "hi", b"\x01\x02", {"n": 1.5}])
    opts = BroadcastOptions(
        rooms=frozenset({"room1"}), except_rooms=frozenset({"sid1"}), volatile=True
    )
    assert encode_broadcast("AbC123", packet, opts).hex() == BROADCAST_HEX


def test_a_node_broadcast_is_decoded() -> None:
    message = decode_broadcast(bytes.fromhex(BROADCAST_HEX), on_date=keep)
    assert message.uid == "AbC123"
    assert message.namespace == "/"
    assert message.data == ["chat", "hi", b"\x01\x02", {"n": 1.5}]
    assert message.opts.rooms == {"room1"} and message.opts.except_rooms == {"sid1"}
    assert message.opts.volatile and message.opts.local


def test_broadcast_details() -> None:
    # Missing nsp means "/"; numeric rooms become their JS string; missing rooms are empty.
    raw = packb(["u", {"type": 2, "data": ["e"]}, {"rooms": [42, 1.5], "flags": None}])
    message = decode_broadcast(raw, on_date=keep)
    assert message.namespace == "/"
    assert message.opts.rooms == {"42", "1.5"} and message.opts.except_rooms == frozenset()


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
    request = decode_request(fetch, on_date=keep)
    assert (request.type, request.uid, request.request_id) == (5, "n0de01", "r1")
    assert request.opts is not None and request.opts.rooms == {"a"} and request.opts.local
    join = b'{"uid":"n","type":2,"opts":{"rooms":["s1"],"except":["x"]},"rooms":["r"]}'
    request = decode_request(join, on_date=keep)
    assert request.rooms == {"r"} and request.opts is not None
    assert request.opts.except_rooms == {"x"}
    emitter = b'{"type":4,"opts":{"rooms":[],"except":[]},"close":true}'
    request = decode_request(emitter, on_date=keep)
    assert request.uid is None and request.close
    legacy = b'{"uid":"n","requestId":"r","type":3,"sid":"s","room":"r1"}'
    request = decode_request(legacy, on_date=keep)
    assert request.opts is None and (request.sid, request.room) == ("s", "r1")
    sse = b'{"uid":"n","type":6,"data":["hello",1,{"a":[]}],"requestId":"q"}'
    assert decode_request(sse, on_date=keep).data == ["hello", 1, {"a": []}]


def test_an_acked_broadcast_request_is_msgpack() -> None:
    body = {
        "uid": "n",
        "requestId": "r",
        "type": 7,
        "packet": {"type": 2, "data": ["q", b"\x00"], "nsp": "/chat"},
        "opts": {"rooms": [], "except": [], "flags": {"timeout": 1500}},
    }
    request = decode_request(packb(body), on_date=keep)
    assert request.packet_data == ["q", b"\x00"] and request.packet_namespace == "/chat"
    assert request.opts is not None and request.opts.flags == {"timeout": 1500}


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
        b"\xc1",
    ],
)
def test_malformed_requests_raise_the_peer_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_request(data, on_date=keep)


def test_responses() -> None:
    fetched = b'{"requestId":"r","sockets":[{"id":"s","handshake":{},"rooms":["s"],"data":{}}]}'
    response = decode_response(fetched, on_date=keep)
    assert response.request_id == "r" and response.sockets and response.sockets[0]["id"] == "s"
    rooms = decode_response(b'{"requestId":"r","rooms":["b","a"]}', on_date=keep)
    assert rooms.rooms == ["a", "b"]
    ack = decode_response(packb({"type": 9, "requestId": "r", "packet": b"x"}), on_date=keep)
    assert ack.type == 9
    with pytest.raises(RemoteProtocolError):
        decode_response(b'{"sockets":[]}', on_date=keep)
    with pytest.raises(RemoteProtocolError):
        decode_response(b'{"requestId":"r","sockets":{}}', on_date=keep)


def test_json_is_written_as_json_stringify_writes_it() -> None:
    body = request_body("u", RequestType.REMOTE_FETCH, request_id="r", opts={"rooms": []})
    assert encode_json(body) == b'{"uid":"u","requestId":"r","type":5,"opts":{"rooms":[]}}'
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
