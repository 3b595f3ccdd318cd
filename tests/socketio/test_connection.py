"""Connection: the per-session namespace state machine (PROTOCOL.md 2.3-2.6)."""

from __future__ import annotations

import pytest

from thinkio.errors import LocalProtocolError, RemoteProtocolError
from thinkio.limits import Limits
from thinkio.socketio import (
    AckReceived,
    Connection,
    ConnectRequest,
    Event,
    EventReceived,
    NamespaceDisconnected,
    NamespaceState,
)


def events(conn: Connection) -> list[Event]:
    out = []
    while (event := conn.next_event()) is not None:
        out.append(event)
    return out


def connected(namespace: str = "/", *, protocol: int = 5) -> Connection:
    conn = Connection(now=0.0, protocol=protocol)
    if protocol == 5:
        conn.receive_message("0" if namespace == "/" else f"0{namespace},", 0.0)
    assert events(conn) == [ConnectRequest(namespace, {})]
    conn.accept(namespace, "SID")
    conn.data_to_send()
    return conn


# --------------------------------------------------------------------------- connect


def test_connect_accept_to_main_namespace() -> None:
    conn = Connection(now=0.0)
    conn.receive_message('0{"token":"123"}', 0.0)
    assert events(conn) == [ConnectRequest("/", {"token": "123"})]
    assert conn.state_of("/") is NamespaceState.CONNECTING
    assert conn.namespaces == frozenset()
    conn.accept("/", "wZX3oN0bSVIhsaknAAAI")
    assert conn.data_to_send() == ['0{"sid":"wZX3oN0bSVIhsaknAAAI"}']
    assert conn.data_to_send() == []
    assert conn.namespaces == {"/"}


def test_connect_custom_namespace_then_emit_auth() -> None:
    # The suite: 40/custom, -> 40/custom,{"sid":...} then 42/custom,["auth",{}]
    conn = Connection(now=0.0)
    conn.receive_message("0/custom,", 0.0)
    assert events(conn) == [ConnectRequest("/custom", {})]
    conn.accept("/custom", "abc")
    conn.emit("/custom", ["auth", {}])
    assert conn.data_to_send() == ['0/custom,{"sid":"abc"}', '2/custom,["auth",{}]']


def test_unknown_namespace_is_rejected_and_session_stays_usable() -> None:
    conn = Connection(now=0.0)
    conn.receive_message("0/random", 0.0)
    assert events(conn) == [ConnectRequest("/random", {})]
    conn.reject_invalid_namespace("/random")
    assert conn.data_to_send() == ['4/random,{"message":"Invalid namespace"}']
    assert conn.state_of("/random") is NamespaceState.ABSENT
    conn.receive_message("0/random,", 0.0)  # may try again
    assert events(conn) == [ConnectRequest("/random", {})]


def test_middleware_rejection_with_and_without_data() -> None:
    conn = Connection(now=0.0)
    conn.receive_message("0", 0.0)
    conn.receive_message("0/admin,", 0.0)
    conn.reject("/", "Not authorized")
    conn.reject("/admin", "Not authorized", {"retry": False})
    assert conn.data_to_send() == [
        '4{"message":"Not authorized"}',
        '4/admin,{"message":"Not authorized","data":{"retry":false}}',
    ]


def test_reject_with_unencodable_data_changes_nothing() -> None:
    conn = Connection(now=0.0)
    conn.receive_message("0", 0.0)
    with pytest.raises(LocalProtocolError):
        conn.reject("/", "no", float("nan"))
    assert conn.state_of("/") is NamespaceState.CONNECTING
    assert conn.data_to_send() == []


@pytest.mark.parametrize(
    ("messages", "description"),
    [
        (["0", "0"], "CONNECT while connecting"),
        (["0/a,", '2/a,["x"]'], "EVENT while connecting"),
        (['2["x"]'], "EVENT before connect"),
        (["31[]"], "ACK before connect"),
        (["1"], "DISCONNECT before connect"),
        (['4{"message":"x"}'], "CONNECT_ERROR from the client"),
        (["abc"], "bad packet"),
        (["2{}"], "bad payload"),
    ],
)
def test_invalid_state_or_packet_closes_connection(messages: list[str], description: str) -> None:
    conn = Connection(now=0.0)
    with pytest.raises(RemoteProtocolError) as info:
        for message in messages:
            conn.receive_message(message, 0.0)
    assert info.value.close_reason == "parse error"
    assert conn.closed
    with pytest.raises(LocalProtocolError):
        conn.receive_message("0", 0.0)


def test_double_connect_to_joined_namespace_is_an_error() -> None:
    conn = connected("/admin")
    with pytest.raises(RemoteProtocolError):
        conn.receive_message("0/admin,", 1.0)


def test_event_on_other_namespace_than_joined_is_an_error() -> None:
    conn = connected("/admin")
    with pytest.raises(RemoteProtocolError):
        conn.receive_message('2["x"]', 1.0)


def test_too_many_namespaces() -> None:
    conn = Connection(now=0.0, limits=Limits(max_namespaces_per_connection=2))
    conn.receive_message("0/a,", 0.0)
    conn.receive_message("0/b,", 0.0)
    with pytest.raises(RemoteProtocolError):
        conn.receive_message("0/c,", 0.0)


# --------------------------------------------------------------------------- events and acks


def test_events_and_acks_in() -> None:
    conn = connected()
    conn.receive_message('2["message",1,"2",{"3":[true]}]', 1.0)
    conn.receive_message('2456["message-with-ack",1]', 1.0)
    conn.receive_message("37[]", 1.0)
    got = events(conn)
    assert got == [
        EventReceived("/", ["message", 1, "2", {"3": [True]}], None),
        EventReceived("/", ["message-with-ack", 1], 456),
        AckReceived("/", 7, []),
    ]
    first = got[0]
    assert isinstance(first, EventReceived)
    assert first.name == "message" and first.params == [1, "2", {"3": [True]}]


def test_binary_event_arrives_after_last_attachment() -> None:
    conn = connected()
    ph = '{"_placeholder":true,"num":%d}'
    conn.receive_message(f'52-789["message-with-ack",{ph % 0},{ph % 1}]', 1.0)
    conn.receive_message(b"\x01\x02\x03", 1.0)
    assert conn.next_event() is None
    conn.receive_message(b"\x04\x05\x06", 1.0)
    assert events(conn) == [
        EventReceived("/", ["message-with-ack", b"\x01\x02\x03", b"\x04\x05\x06"], 789)
    ]
    conn.ack("/", 789, [b"\x01\x02\x03", b"\x04\x05\x06"])
    assert conn.data_to_send() == [
        f"62-789[{ph % 0},{ph % 1}]",
        b"\x01\x02\x03",
        b"\x04\x05\x06",
    ]


def test_emit_and_ack_out() -> None:
    conn = connected("/admin")
    conn.emit("/admin", ["hello", "wörld"], ack_id=0)
    conn.ack("/admin", 13, ["bar"])
    assert conn.data_to_send() == ['2/admin,0["hello","wörld"]', '3/admin,13["bar"]']


def test_emit_rules_are_enforced_before_anything_is_queued() -> None:
    conn = connected()
    for args in ([], ["disconnect"], ["x", float("inf")]):
        with pytest.raises(LocalProtocolError):
            conn.emit("/", args)
    with pytest.raises(LocalProtocolError):
        conn.emit("/other", ["x"])
    assert conn.data_to_send() == []


# --------------------------------------------------------------------------- disconnect


def test_client_disconnect_sends_nothing_and_forgets_namespace() -> None:
    conn = connected("/custom")
    conn.receive_message("0", 1.0)
    conn.accept("/", "s")
    conn.data_to_send()
    conn.receive_message("1/custom", 1.0)
    assert events(conn)[-1] == NamespaceDisconnected("/custom", "client namespace disconnect")
    assert conn.data_to_send() == []
    assert conn.namespaces == {"/"}
    conn.receive_message('2["message","to main"]', 1.0)  # the session is still fine
    assert events(conn) == [EventReceived("/", ["message", "to main"])]
    with pytest.raises(RemoteProtocolError):
        conn.receive_message('2/custom,["x"]', 1.0)  # event after disconnect


def test_client_can_reconnect_after_disconnect() -> None:
    conn = connected()
    conn.receive_message("1", 1.0)
    conn.receive_message("0", 1.0)
    assert events(conn) == [
        NamespaceDisconnected("/", "client namespace disconnect"),
        ConnectRequest("/", {}),
    ]


def test_server_disconnect() -> None:
    conn = connected("/admin")
    conn.disconnect("/admin")
    assert conn.data_to_send() == ["1/admin,"]
    assert conn.namespaces == frozenset()
    assert conn.next_event() is None
    with pytest.raises(LocalProtocolError):
        conn.disconnect("/admin")
    with pytest.raises(RemoteProtocolError):
        conn.receive_message('2/admin,["x"]', 1.0)


def test_close_disconnects_joined_namespaces_with_reason() -> None:
    conn = connected()
    conn.receive_message("0/a,", 1.0)
    conn.accept("/a", "x")
    conn.receive_message("0/pending,", 1.0)
    events(conn)
    conn.emit("/", ["unsent"])
    conn.close("transport close")
    assert sorted(events(conn), key=repr) == [
        NamespaceDisconnected("/", "transport close"),
        NamespaceDisconnected("/a", "transport close"),
    ]
    assert conn.closed and conn.data_to_send() == []
    with pytest.raises(LocalProtocolError):
        conn.emit("/", ["x"])
    with pytest.raises(LocalProtocolError):
        conn.accept("/pending", "p")
    conn.close("transport close")
    assert conn.next_event() is None


def test_server_calls_in_wrong_state_are_local_errors() -> None:
    conn = Connection(now=0.0)
    with pytest.raises(LocalProtocolError):
        conn.accept("/", "s")
    with pytest.raises(LocalProtocolError):
        conn.reject("/", "no")
    with pytest.raises(LocalProtocolError):
        conn.ack("/", 1, [])
    conn.receive_message("0", 0.0)
    with pytest.raises(LocalProtocolError):
        conn.emit("/", ["too early"])
    with pytest.raises(LocalProtocolError):
        conn.disconnect("/")
    conn.accept("/", "s")
    with pytest.raises(LocalProtocolError):
        conn.accept("/", "s")


# --------------------------------------------------------------------------- connect timeout


def test_connect_timeout_without_any_namespace() -> None:
    conn = Connection(now=10.0, connect_timeout=1.0)
    assert conn.next_deadline() == 11.0
    conn.handle_timeout(10.999)
    conn.receive_message("0", 10.5)  # connecting does not count as joined
    with pytest.raises(RemoteProtocolError) as info:
        conn.handle_timeout(11.0)
    assert info.value.close_reason == "connect timeout"
    assert conn.closed and conn.next_deadline() is None


def test_connect_timeout_is_disarmed_by_a_join() -> None:
    conn = Connection(now=0.0, connect_timeout=1.0)
    conn.receive_message("0", 0.5)
    conn.accept("/", "s")
    conn.handle_timeout(1.0)
    assert conn.next_deadline() is None
    assert not conn.closed


def test_late_connect_is_refused_even_without_handle_timeout() -> None:
    conn = Connection(now=0.0, connect_timeout=1.0)
    with pytest.raises(RemoteProtocolError) as info:
        conn.receive_message("0", 2.0)
    assert info.value.close_reason == "connect timeout"


def test_no_connect_timeout() -> None:
    conn = Connection(now=0.0, connect_timeout=None)
    assert conn.next_deadline() is None
    conn.handle_timeout(1e9)
    conn.receive_message("0", 1e9)
    assert events(conn) == [ConnectRequest("/", {})]


# --------------------------------------------------------------------------- protocol 4


def test_v4_root_is_connected_by_the_server() -> None:
    conn = Connection(now=0.0, protocol=4)
    assert conn.state_of("/") is NamespaceState.CONNECTING
    assert events(conn) == [ConnectRequest("/", {})]
    conn.accept("/", "eio-sid")
    assert conn.data_to_send() == ["0"]
    conn.emit("/", ["news", {"hello": "world"}])
    assert conn.data_to_send() == ['2["news",{"hello":"world"}]']


def test_v4_namespace_with_query_and_error_string() -> None:
    conn = connected(protocol=4)
    conn.receive_message("0/admin?token=abc,", 1.0)
    assert events(conn) == [ConnectRequest("/admin", {"token": "abc"})]
    conn.reject("/admin", "Not authorized")
    conn.receive_message("0/admin,", 1.0)
    conn.reject("/admin", "Not authorized", {"code": 7})
    conn.receive_message("0/nope,", 1.0)
    conn.reject_invalid_namespace("/nope")
    conn.receive_message("0/ok,", 1.0)
    conn.accept("/ok", "/ok#eio-sid")
    assert conn.data_to_send() == [
        '4/admin,"Not authorized"',
        '4/admin,{"code":7}',
        '4/nope,{"message":"Invalid namespace"}',
        "0/ok,",
    ]


def test_v4_client_connect_to_root_is_a_duplicate() -> None:
    conn = Connection(now=0.0, protocol=4)
    with pytest.raises(RemoteProtocolError):
        conn.receive_message("0", 0.0)
