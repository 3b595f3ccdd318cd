"""Socket.IO CONNECT (PROTOCOL.md 2.3, 2.4) on ``/socket.io/``, over WebSocket.

Official cases: socket.io "Socket.IO protocol / connect / ...".
"""

from __future__ import annotations

import time

import pytest

from ._client import PING_INTERVAL, connect_reply_sid, open_eio_websocket
from ._official import official
from ._target import Target

MOUNT = "/socket.io/"


@official(
    "socket.io", "Socket.IO protocol / connect / should allow connection to the main namespace"
)
def test_connect_main_namespace(server: Target) -> None:
    ws, handshake = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("40")
        sid = connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{}]'
    # PROTOCOL.md 2.4: the Socket.IO sid is a fresh id, not the Engine.IO one.
    assert sid != handshake["sid"]


@official(
    "socket.io",
    "Socket.IO protocol / connect / should allow connection to the main namespace with a payload",
)
def test_connect_main_namespace_with_auth(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send('40{"token":"123"}')
        connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{"token":"123"}]'


@official(
    "socket.io", "Socket.IO protocol / connect / should allow connection to a custom namespace"
)
def test_connect_custom_namespace(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("40/custom,")
        connect_reply_sid(ws.recv(), "40/custom,")
        assert ws.recv() == '42/custom,["auth",{}]'


@official(
    "socket.io",
    "Socket.IO protocol / connect / should allow connection to a custom namespace with a payload",
)
def test_connect_custom_namespace_with_auth(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send('40/custom,{"token":"abc"}')
        connect_reply_sid(ws.recv(), "40/custom,")
        assert ws.recv() == '42/custom,["auth",{"token":"abc"}]'


def test_connect_custom_namespace_without_comma(server: Target) -> None:
    """``40/custom`` (no comma) is a valid CONNECT (PROTOCOL.md 2.2, rule 3)."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("40/custom")
        connect_reply_sid(ws.recv(), "40/custom,")
        assert ws.recv() == '42/custom,["auth",{}]'


def test_connect_auth_keeps_json_exact(server: Target) -> None:
    """The auth object comes back byte for byte as JSON.stringify writes it (PROTOCOL.md 2.1)."""
    auth = '{"b":1,"a":[true,null,1.5,"é😀"],"c":{"d":-0.25}}'
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(f"40{auth}")
        connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == f'42["auth",{auth}]'


def test_connect_two_namespaces_on_one_connection(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("40")
        main = connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{}]'
        ws.send("40/custom,")
        custom = connect_reply_sid(ws.recv(), "40/custom,")
        assert ws.recv() == '42/custom,["auth",{}]'
        assert main != custom
        ws.send('42["message","both"]')
        assert ws.recv() == '42["message-back","both"]'


@official(
    "socket.io", "Socket.IO protocol / connect / should disallow connection to an unknown namespace"
)
@pytest.mark.parametrize(
    "packet",
    ["40/random", "40/random,", '40/random,{"token":"1"}'],
    ids=["no-comma", "comma", "auth"],
)
def test_connect_unknown_namespace(server: Target, packet: str) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(packet)
        assert ws.recv() == '44/random,{"message":"Invalid namespace"}'
        # The Engine.IO connection stays open and usable (PROTOCOL.md 2.4).
        ws.send("40")
        connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{}]'


@official(
    "socket.io",
    "Socket.IO protocol / connect / should disallow connection with an invalid handshake",
)
def test_connect_invalid_handshake(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("4abc")
        ws.wait_closed(timeout=1.0)


@pytest.mark.parametrize(
    "packet",
    ['40"token"', "40[]", "40{", '40{"a":NaN}', "40/custom,true"],
    ids=["string-auth", "array-auth", "bad-json", "nan", "bool-auth"],
)
def test_connect_invalid_auth_closes(server: Target, packet: str) -> None:
    """CONNECT's payload must be a JSON object (PROTOCOL.md 2.2, rule 5)."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(packet)
        received = ws.wait_closed(timeout=1.0)
    assert not any(isinstance(m, str) and m.startswith("40") for m in received)


@official(
    "socket.io",
    "Socket.IO protocol / connect / should close the connection if no handshake is received",
)
def test_connect_timeout_without_handshake(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.wait_closed(timeout=1.5)


def test_connect_timeout_with_heartbeat(server: Target) -> None:
    """A client that answers pings but never joins a namespace is closed after connectTimeout.

    The reference configuration sets connectTimeout to 1000 ms (PROTOCOL.md 2.3, 5.2).
    """
    ws, _ = open_eio_websocket(server.url, MOUNT)
    start = time.monotonic()
    with ws:
        received = ws.wait_closed(timeout=2.0, pong=True)
    elapsed = time.monotonic() - start
    assert set(received) <= {"2"}, f"unexpected packets: {received!r}"
    assert elapsed >= 1.0 - PING_INTERVAL, f"closed after {elapsed:.3f} s, before connectTimeout"


def test_connect_again_on_joined_namespace_closes(server: Target) -> None:
    """A CONNECT for a namespace already joined closes the connection (PROTOCOL.md 2.3)."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send("40")
        connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{}]'
        ws.send("40")
        received = ws.wait_closed(timeout=1.0)
    assert not any(isinstance(m, str) and m.startswith("40") for m in received)


@pytest.mark.parametrize(
    "packet",
    ['42["message","x"]', "41", "43/custom,1[]", "41/custom,"],
    ids=["event", "disconnect", "ack-custom", "disconnect-custom"],
)
def test_packet_before_connect_closes(server: Target, packet: str) -> None:
    """Anything but CONNECT for a namespace not joined closes the connection (PROTOCOL.md 2.3)."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send(packet)
        received = ws.wait_closed(timeout=1.0)
    assert received == [] or set(received) <= {"2"}, f"unexpected packets: {received!r}"


def test_connect_error_from_client_closes(server: Target) -> None:
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        ws.send('44{"message":"no"}')
        ws.wait_closed(timeout=1.0)


def test_connect_reply_is_quick(server: Target) -> None:
    """The CONNECT reply and the handler's first emit come at once, not at the next ping."""
    ws, _ = open_eio_websocket(server.url, MOUNT)
    with ws:
        start = time.monotonic()
        ws.send("40")
        connect_reply_sid(ws.recv(), "40")
        assert ws.recv() == '42["auth",{}]'
        assert time.monotonic() - start < PING_INTERVAL / 2
