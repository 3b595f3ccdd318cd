"""Node's ClusterAdapter message model (sharded, Streams, worker bus), sans-IO."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinkio.adapters.cluster_codec import from_dict, to_dict
from thinkio.adapters.messages import (
    AllRooms,
    AllRoomsResponse,
    Broadcast,
    BroadcastAck,
    BroadcastClientCount,
    DisconnectSockets,
    FetchSockets,
    FetchSocketsResponse,
    HandedSession,
    RestoreSession,
    RestoreSessionResponse,
    ServerSideEmit,
    ServerSideEmitResponse,
    SocketsJoin,
    SocketsLeave,
)
from thinkio.adapters.msgpack import unpackb
from thinkio.adapters.sharded import decode_cluster_message, encode_cluster_message
from thinkio.adapters.streams import decode_entry, encode_entry
from thinkio.errors import RemoteProtocolError
from thinkio.server.adapter import BroadcastOptions

OPTS = BroadcastOptions(rooms=frozenset({"r"}), except_rooms=frozenset({"x"}))
ITEMS: list[Any] = [
    Broadcast(OPTS, ["e", 1, b"\x00"]),
    Broadcast(OPTS, ["e"], "rid"),
    SocketsJoin(OPTS, ("a", "b")),
    SocketsLeave(OPTS, ("a",)),
    DisconnectSockets(OPTS, True),
    FetchSockets(OPTS, "rid"),
    AllRooms("rid"),
    ServerSideEmit(["e", {"k": [1]}], "rid"),
    ServerSideEmit(["e"]),
    FetchSocketsResponse("rid", ({"id": "s", "rooms": ["s"], "data": {"b": b"\x01"}},)),
    AllRoomsResponse("rid", frozenset({"a"})),
    ServerSideEmitResponse("rid", [1, None]),
    BroadcastClientCount("rid", 2),
    BroadcastAck("rid", "yes"),
    RestoreSession("pid", "abc-1f", "rid"),
    RestoreSessionResponse("rid", None),
    RestoreSessionResponse(
        "rid",
        HandedSession(
            "sid", "pid", ("sid", "room1"), {"b": b"\x01"}, (["tick", 1, "abc-20"],), {"abc": 32}
        ),
    ),
]


def same(item: Any, back: Any) -> bool:
    """Equal, but for ``opts.local``, which a received message always has."""
    opts = getattr(back, "opts", None)
    if opts is not None:
        assert opts.local
        back = type(back)(**{f: getattr(back, f) for f in back.__slots__} | {"opts": OPTS})
    return bool(back == item)


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: type(i).__name__)
def test_every_message_round_trips_through_each_encoding(item: Any) -> None:
    body = to_dict("u1", "/chat", item)
    assert (body["uid"], body["nsp"]) == ("u1", "/chat")
    uid, nsp, back = from_dict(body)
    assert (uid, nsp) == ("u1", "/chat") and same(item, back)
    # The sharded adapter's wire: JSON, or MessagePack when binary is inside.
    wire = encode_cluster_message(body)
    assert same(item, from_dict(decode_cluster_message(wire))[2])
    responses = (
        FetchSocketsResponse,
        AllRoomsResponse,
        ServerSideEmitResponse,
        BroadcastClientCount,
        BroadcastAck,
        RestoreSessionResponse,
    )
    if not isinstance(item, responses):  # responses never go into the stream
        assert same(item, decode_entry(_bytes(encode_entry("u1", "/chat", item)))[2])


def _bytes(fields: dict[str, str]) -> dict[bytes, bytes]:
    return {k.encode(): v.encode() for k, v in fields.items()}


def test_entries_are_written_as_node_writes_them() -> None:
    plain = encode_entry("u1", "/", SocketsJoin(OPTS, ("a",)))
    assert plain["type"] == "4" and plain["uid"] == "u1" and plain["nsp"] == "/"
    assert json.loads(plain["data"]) == {
        "opts": {"rooms": ["r"], "except": ["x"], "flags": {}},
        "rooms": ["a"],
    }
    binary = encode_entry("u1", "/", Broadcast(OPTS, ["e", b"\x01"]))
    assert not binary["data"].startswith("{")  # base64 MessagePack of the data
    data = unpackb(base64.b64decode(binary["data"]))
    assert data["packet"] == {"type": 2, "data": ["e", b"\x01"], "nsp": "/"}


@pytest.mark.parametrize(
    "session",
    [
        "no",
        {"sid": "s", "pid": "p", "rooms": ["s"], "missed": [[1]], "heard": {}},
        {"sid": "s", "pid": "p", "rooms": ["s"], "missed": [], "heard": {"a": "1"}},
        {"sid": 1, "pid": "p", "rooms": ["s"], "missed": [], "heard": {}},
    ],
)
def test_a_malformed_handed_session_is_the_peer_error(session: Any) -> None:
    body = {"uid": "u", "nsp": "/", "type": 103, "data": {"requestId": "r", "session": session}}
    with pytest.raises(RemoteProtocolError):
        from_dict(body)


def test_heartbeats_and_unknown_types_carry_nothing() -> None:
    assert from_dict({"uid": "n", "nsp": "/", "type": 2}) == ("n", "/", None)
    assert from_dict({"uid": "n", "nsp": "/", "type": 77, "data": {}})[2] is None


@given(
    st.dictionaries(
        st.sampled_from(["uid", "nsp", "type", "data"]),
        st.recursive(
            st.none() | st.booleans() | st.integers(0, 20) | st.text(max_size=4),
            lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
            max_leaves=12,
        ),
    )
)
def test_anything_gives_a_message_or_the_peer_error(value: dict[str, Any]) -> None:
    with contextlib.suppress(RemoteProtocolError):
        from_dict(value)
