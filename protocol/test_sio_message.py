"""Socket.IO DISCONNECT, EVENT, ACK and binary attachments over WebSocket (PROTOCOL.md 2).

Official cases: socket.io "Socket.IO protocol / disconnect / ..." and "... / message / ...".
"""

from __future__ import annotations

import time

import pytest

from ._client import (
    PH0,
    PH1,
    PING_TIMEOUT,
    connect_reply_sid,
    sio_connect,
)
from ._official import official
from ._target import Target

# ------------------------------------------------------------------------------------ disconnect


@official(
    "socket.io", "Socket.IO protocol / disconnect / should disconnect from the main namespace"
)
def test_disconnect_main_namespace(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send("41")
        # Nothing is sent back and the session stays: the next frame is the ping.
        assert ws.recv(timeout=1.0) == "2"


@official(
    "socket.io",
    "Socket.IO protocol / disconnect / should connect then disconnect from a custom namespace",
)
def test_connect_then_disconnect_custom_namespace(server: Target) -> None:
    with sio_connect(server.url) as ws:
        assert ws.recv(timeout=1.0) == "2"  # a ping, left unanswered, as in the official test
        start = time.monotonic()
        ws.send("40/custom")
        connect_reply_sid(ws.recv(), "40/custom,")
        assert ws.recv() == '42/custom,["auth",{}]'
        ws.send("41/custom")
        ws.send('42["message","message to main namespace"]')
        assert ws.recv() == '42["message-back","message to main namespace"]'
        # All of it had to fit in the pingTimeout that runs since the ping (PROTOCOL.md 5.3).
        assert time.monotonic() - start < PING_TIMEOUT


def test_disconnect_then_reconnect_main_namespace(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send("41")
        ws.send("40")
        connect_reply_sid(ws.recv_skipping_pings(), "40")
        assert ws.recv_skipping_pings() == '42["auth",{}]'


def test_event_after_disconnect_closes(server: Target) -> None:
    """After ``41``, ``/`` is no longer joined: an EVENT for it closes the connection (2.3)."""
    with sio_connect(server.url) as ws:
        ws.send("41")
        ws.send('42["message","x"]')
        received = ws.wait_closed(timeout=1.0)
    assert '42["message-back","x"]' not in received


def test_disconnect_with_payload_closes(server: Target) -> None:
    """DISCONNECT carries nothing at all (PROTOCOL.md 2.2, rule 5)."""
    with sio_connect(server.url) as ws:
        ws.send("41{}")
        ws.wait_closed(timeout=1.0)


# --------------------------------------------------------------------------------------- message


@official("socket.io", "Socket.IO protocol / message / should send a plain-text packet")
def test_event(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send('42["message",1,"2",{"3":[true]}]')
        assert ws.recv() == '42["message-back",1,"2",{"3":[true]}]'


@pytest.mark.parametrize(
    "args",
    [
        "",
        ',null,false,0,-1.5,1e+21,""',
        ',"é😀\\n\\"\\u0000"',
        ',[[[[[]]]]],{"z":{},"a":[]}',
    ],
    ids=["no-args", "scalars", "unicode", "nesting"],
)
def test_event_json_round_trip(server: Target, args: str) -> None:
    """Arguments come back exactly as JSON.stringify writes them (PROTOCOL.md 2.1)."""
    with sio_connect(server.url) as ws:
        ws.send(f'42["message"{args}]')
        assert ws.recv() == f'42["message-back"{args}]'


@official(
    "socket.io", "Socket.IO protocol / message / should send a packet with binary attachments"
)
def test_binary_event(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send(f'452-["message",{PH0},{PH1}]')
        ws.send(bytes([1, 2, 3]))
        ws.send(bytes([4, 5, 6]))
        assert ws.recv_skipping_pings(pong=False) == f'452-["message-back",{PH0},{PH1}]'
        assert ws.recv_skipping_pings(pong=False) == bytes([1, 2, 3])
        assert ws.recv_skipping_pings(pong=False) == bytes([4, 5, 6])


def test_binary_event_nested_placeholders(server: Target) -> None:
    """Placeholders at any depth, in objects and arrays (PROTOCOL.md 2.2, rule 6)."""
    with sio_connect(server.url) as ws:
        ws.send(f'452-["message",{{"a":[{PH1}],"b":{{"c":{PH0}}}}}]')
        ws.send(b"first")
        ws.send(b"second")
        # The server numbers attachments in the order it meets them again.
        header = ws.recv_skipping_pings()
        assert header == f'452-["message-back",{{"a":[{PH0}],"b":{{"c":{PH1}}}}}]'
        assert ws.recv_skipping_pings() == b"second"
        assert ws.recv_skipping_pings() == b"first"


def test_binary_event_empty_attachment(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send(f'451-["message",{PH0}]')
        ws.send(b"")
        assert ws.recv_skipping_pings() == f'451-["message-back",{PH0}]'
        assert ws.recv_skipping_pings() == b""


@official("socket.io", "Socket.IO protocol / message / should send a plain-text packet with an ack")
def test_event_with_ack(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
        assert ws.recv() == '43456[1,"2",{"3":[false]}]'


@pytest.mark.parametrize("ack_id", ["0", "7", "9007199254740991"])
def test_event_with_ack_ids(server: Target, ack_id: str) -> None:
    with sio_connect(server.url) as ws:
        ws.send(f'42{ack_id}["message-with-ack"]')
        assert ws.recv() == f"43{ack_id}[]"


@official(
    "socket.io",
    "Socket.IO protocol / message / should send a packet with binary attachments and an ack",
)
def test_binary_event_with_ack(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send(f'452-789["message-with-ack",{PH0},{PH1}]')
        ws.send(bytes([1, 2, 3]))
        ws.send(bytes([4, 5, 6]))
        assert ws.recv_skipping_pings(pong=False) == f"462-789[{PH0},{PH1}]"
        assert ws.recv_skipping_pings(pong=False) == bytes([1, 2, 3])
        assert ws.recv_skipping_pings(pong=False) == bytes([4, 5, 6])


def test_unknown_event_gets_no_reply(server: Target) -> None:
    """Events without a handler are dropped: the next frame is still the ping (5.2, point 6)."""
    with sio_connect(server.url) as ws:
        ws.send('42["nobody-listens",1]')
        ws.send('421["nobody-listens-either",1]')
        ws.send('431["x"]')  # an ACK with an unknown id: ignored
        assert ws.recv(timeout=1.0) == "2"
        ws.send("3")
        ws.send('42["message","alive"]')
        assert ws.recv() == '42["message-back","alive"]'


@official(
    "socket.io",
    "Socket.IO protocol / message / should close the connection upon invalid format (unknown"
    " packet type)",
)
def test_invalid_packet_type_closes(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send("4abc")
        ws.wait_closed(timeout=1.0)


@official(
    "socket.io",
    "Socket.IO protocol / message / should close the connection upon invalid format (invalid"
    " payload format)",
)
def test_invalid_payload_format_closes(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send("42{}")
        ws.wait_closed(timeout=1.0)


@official(
    "socket.io",
    "Socket.IO protocol / message / should close the connection upon invalid format (invalid"
    " ack id)",
)
def test_invalid_ack_id_closes(server: Target) -> None:
    with sio_connect(server.url) as ws:
        ws.send('42abc["message-with-ack",1,"2",{"3":[false]}]')
        ws.wait_closed(timeout=1.0)


# Each of these breaks one decoding rule of PROTOCOL.md 2.2; the whole connection closes.
INVALID = [
    pytest.param("47", id="type-7"),
    pytest.param("4", id="empty-message"),
    pytest.param('42"message"', id="event-not-array"),
    pytest.param("42[]", id="event-empty-array"),
    pytest.param("42[{}]", id="event-name-object"),
    pytest.param("42[null]", id="event-name-null"),
    pytest.param('42["disconnect"]', id="reserved-disconnect"),
    pytest.param('42["connect"]', id="reserved-connect"),
    pytest.param('42["newListener"]', id="reserved-newListener"),
    pytest.param('42["message",NaN]', id="nan"),
    pytest.param('42["message",Infinity]', id="infinity"),
    pytest.param('42["message"', id="truncated-json"),
    pytest.param("431{}", id="ack-not-array"),
    pytest.param('45-["message"]', id="binary-no-count"),
    pytest.param(f'450-["message",{PH0}]', id="binary-zero-count"),
    pytest.param(f'4511-["message",{PH0}]', id="binary-11-attachments"),
    pytest.param(f'45x-["message",{PH0}]', id="binary-bad-count"),
    pytest.param('44{"message":"x"}', id="connect-error-from-client"),
]


@pytest.mark.parametrize("packet", INVALID)
def test_invalid_packet_closes(server: Target, packet: str) -> None:
    with sio_connect(server.url) as ws:
        ws.send(packet)
        received = ws.wait_closed(timeout=1.0)
    assert not any(isinstance(m, str) and m.startswith("42") for m in received), received


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param(['451-["message",{"_placeholder":true,"num":1}]', b"x"], id="num-too-big"),
        pytest.param(['451-["message",{"_placeholder":true,"num":-1}]', b"x"], id="num-negative"),
        pytest.param(['451-["message",{"_placeholder":true,"num":"0"}]', b"x"], id="num-string"),
        pytest.param(
            [f'452-["message",{PH0},{PH1}]', b"x", '42["message","early"]'],
            id="text-before-attachments",
        ),
        pytest.param([b"\x01\x02"], id="binary-without-header"),
        pytest.param([f'451-["message",{PH0}]', b"x", b"extra"], id="extra-attachment"),
    ],
)
def test_invalid_attachments_close(server: Target, frames: list[str | bytes]) -> None:
    """Hostile or misplaced attachments close the connection (PROTOCOL.md 2.2, rule 6)."""
    with sio_connect(server.url) as ws:
        for frame in frames:
            ws.send(frame)
        received = ws.wait_closed(timeout=1.0)
    texts = [m for m in received if isinstance(m, str) and m != "2"]
    if frames[-1] == b"extra":  # the first event is complete and may be echoed before the close
        assert texts in ([], [f'451-["message-back",{PH0}]'])
    else:
        assert texts == [], f"unexpected packets before the close: {received!r}"
