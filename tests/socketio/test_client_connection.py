"""ClientConnection: the client side of Socket.IO v5, sans-IO (PROTOCOL.md 2)."""

from __future__ import annotations

from typing import Any

import pytest

from thinkio.errors import LocalProtocolError, RemoteProtocolError
from thinkio.socketio import Connection, ConnectRequest, EventReceived, NamespaceState
from thinkio.socketio.client import (
    AckFailed,
    ClientConnection,
    ClientEvent,
    NamespaceClosed,
    NamespaceConnected,
    NamespaceRefused,
    ServerAck,
    ServerEvent,
)


def events(conn: ClientConnection) -> list[ClientEvent]:
    out = []
    while (event := conn.next_event()) is not None:
        out.append(event)
    return out


def joined(*namespaces: str) -> ClientConnection:
    conn = ClientConnection()
    for ns in namespaces:
        conn.connect(ns)
        prefix = "" if ns == "/" else f"{ns},"
        conn.receive_message(f'0{prefix}{{"sid":"sid-{ns}"}}')
    conn.data_to_send()
    events(conn)
    return conn


def test_connect_packets_with_and_without_auth() -> None:
    conn = ClientConnection()
    conn.connect("/")
    conn.connect("/admin", {"token": "123"})
    assert conn.data_to_send() == ["0", '0/admin,{"token":"123"}']
    assert conn.state_of("/admin") is NamespaceState.CONNECTING
    with pytest.raises(LocalProtocolError):
        conn.connect("/admin")


def test_connect_reply_joins_the_namespace() -> None:
    conn = ClientConnection()
    conn.connect("/admin")
    conn.receive_message('0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}')
    assert events(conn) == [NamespaceConnected("/admin", "oSO0OpakMV_3jnilAAAA")]
    assert conn.state_of("/admin") is NamespaceState.CONNECTED
    assert conn.sid_of("/admin") == "oSO0OpakMV_3jnilAAAA"
    assert conn.namespaces == frozenset({"/admin"})


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('4/random,{"message":"Invalid namespace"}', ("Invalid namespace", None)),
        ('4/random,{"message":"no","data":{"code":42}}', ("no", {"code": 42})),
        ('4/random,"Not authorized"', ("Not authorized", None)),  # the protocol-4 string form
        ('0/random,{"nope":1}', ("CONNECT reply without a sid (a Socket.IO v2 server?)", None)),
    ],
)
def test_refusals(message: str, expected: tuple[str, Any]) -> None:
    conn = ClientConnection()
    conn.connect("/random")
    conn.receive_message(message)
    assert events(conn) == [NamespaceRefused("/random", *expected)]
    assert conn.state_of("/random") is NamespaceState.ABSENT
    conn.connect("/random")  # may try again


def test_emit_and_ack_ids_per_namespace() -> None:
    conn = joined("/", "/admin")
    assert conn.emit("/", ["hey", "Jude"]) is None
    assert conn.emit("/", ["a"], ack=True) == 0
    assert conn.emit("/", ["b"], ack=True) == 1
    assert conn.emit("/admin", ["c"], ack=True) == 0
    assert conn.data_to_send() == ['2["hey","Jude"]', '20["a"]', '21["b"]', '2/admin,0["c"]']


def test_binary_emit() -> None:
    conn = joined("/admin")
    conn.emit("/admin", ["baz", b"\x01\x02", {"x": b"\x03"}], ack=True)
    assert conn.data_to_send() == [
        '52-/admin,0["baz",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]',
        b"\x01\x02",
        b"\x03",
    ]


def test_server_acks_known_ids_only() -> None:
    conn = joined("/")
    ack_id = conn.emit("/", ["q"], ack=True)
    conn.receive_message(f'3{ack_id}["answer"]')
    conn.receive_message(f'3{ack_id}["twice"]')  # already answered: ignored
    conn.receive_message('399["unknown"]')
    assert events(conn) == [ServerAck("/", 0, ["answer"])]
    second = conn.emit("/", ["q"], ack=True)
    assert second is not None
    conn.cancel_ack("/", second)  # its waiter timed out
    conn.receive_message(f"3{second}[]")
    assert events(conn) == []


def test_binary_ack_from_the_server() -> None:
    conn = joined("/")
    conn.emit("/", ["q"], ack=True)
    conn.receive_message('61-0[{"_placeholder":true,"num":0}]')
    assert events(conn) == []
    conn.receive_message(b"\xff")
    assert events(conn) == [ServerAck("/", 0, [b"\xff"])]


def test_server_events_and_answering_them() -> None:
    conn = joined("/", "/admin")
    conn.receive_message('2["hello",1]')
    conn.receive_message('2/admin,7["question"]')
    conn.receive_message('51-/admin,["blob",{"_placeholder":true,"num":0}]')
    conn.receive_message(b"\x00")
    got = events(conn)
    assert got == [
        ServerEvent("/", ["hello", 1]),
        ServerEvent("/admin", ["question"], 7),
        ServerEvent("/admin", ["blob", b"\x00"]),
    ]
    assert isinstance(got[0], ServerEvent) and got[0].name == "hello" and got[0].params == [1]
    conn.ack("/admin", 7, ["answer"])
    conn.ack("/admin", 8, [b"\x01"])
    assert conn.data_to_send() == [
        '3/admin,7["answer"]',
        '61-/admin,8[{"_placeholder":true,"num":0}]',
        b"\x01",
    ]


def test_packets_for_namespaces_not_joined_are_ignored() -> None:
    conn = joined("/")
    conn.receive_message('2/other,["x"]')
    conn.receive_message("1/other,")
    conn.receive_message('0/other,{"sid":"x"}')  # a reply nobody asked for
    conn.receive_message('4/other,{"message":"x"}')
    assert events(conn) == []
    assert conn.state_of("/other") is NamespaceState.ABSENT


def test_server_disconnect_fails_pending_acks() -> None:
    conn = joined("/", "/admin")
    conn.emit("/admin", ["q"], ack=True)
    conn.receive_message("1/admin,")
    assert events(conn) == [
        NamespaceClosed("/admin", "io server disconnect"),
        AckFailed("/admin", 0, "io server disconnect"),
    ]
    assert conn.state_of("/admin") is NamespaceState.ABSENT
    with pytest.raises(LocalProtocolError):
        conn.emit("/admin", ["x"])


def test_client_disconnect() -> None:
    conn = joined("/admin")
    conn.disconnect("/admin")
    assert conn.data_to_send() == ["1/admin,"]
    assert events(conn) == [NamespaceClosed("/admin", "io client disconnect")]
    conn.disconnect("/admin")  # not joined: nothing
    assert conn.data_to_send() == []


def test_close_reports_every_namespace_and_ack() -> None:
    conn = joined("/", "/admin")
    conn.connect("/pending")
    conn.emit("/", ["q"], ack=True)
    conn.close("ping timeout")
    assert events(conn) == [
        NamespaceClosed("/", "ping timeout"),
        AckFailed("/", 0, "ping timeout"),
        NamespaceClosed("/admin", "ping timeout"),
    ]
    assert conn.closed and conn.data_to_send() == []
    with pytest.raises(LocalProtocolError):
        conn.receive_message('2["late"]')


def test_local_errors_change_nothing() -> None:
    conn = joined("/")
    with pytest.raises(LocalProtocolError):
        conn.emit("/", ["connect"], ack=True)  # reserved name
    with pytest.raises(LocalProtocolError):
        conn.emit("/", [])
    with pytest.raises(LocalProtocolError):
        conn.emit("/nowhere", ["x"])
    assert conn.data_to_send() == []
    assert conn.emit("/", ["ok"], ack=True) == 1  # id 0 was taken and given back unused
    conn.receive_message('30["stale"]')
    assert events(conn) == []


@pytest.mark.parametrize("message", ["9", '2{"not":"an array"}', '2["connect"]', b"\x00", "3[]"])
def test_bad_packets_raise(message: str | bytes) -> None:
    conn = joined("/")
    with pytest.raises(RemoteProtocolError):
        conn.receive_message(message)


def test_round_trip_with_the_server_connection() -> None:
    client, server = ClientConnection(), Connection(now=0.0)

    def to_server() -> list[Any]:
        for payload in client.data_to_send():
            server.receive_message(payload, 0.0)
        out = []
        while (event := server.next_event()) is not None:
            out.append(event)
        return out

    def to_client() -> list[ClientEvent]:
        for payload in server.data_to_send():
            client.receive_message(payload)
        return events(client)

    client.connect("/chat", {"token": "t"})
    assert to_server() == [ConnectRequest("/chat", {"token": "t"})]
    server.accept("/chat", "S")
    assert to_client() == [NamespaceConnected("/chat", "S")]
    client.emit("/chat", ["up", b"\x01"], ack=True)
    assert to_server() == [EventReceived("/chat", ["up", b"\x01"], 0)]
    server.ack("/chat", 0, ["down", b"\x02"])
    server.emit("/chat", ["push"], ack_id=5)
    assert to_client() == [
        ServerAck("/chat", 0, ["down", b"\x02"]),
        ServerEvent("/chat", ["push"], 5),
    ]
