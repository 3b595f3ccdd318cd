"""Socket.IO over HTTP long-polling (PROTOCOL.md 2.1, 3): the official suite only uses WebSocket.

Binary attachments travel as extra ``b<base64>`` packets of a payload, both ways.
"""

from __future__ import annotations

import httpx
import pytest

from ._client import (
    PH0,
    PH1,
    Polling,
    assert_polling_closes,
    connect_reply_sid,
    decode_payload,
)

MOUNT = "/socket.io/"


@pytest.fixture
def polling(http: httpx.Client) -> Polling:
    """A polling session joined to ``/`` (CONNECT reply and ``auth`` event already read)."""
    session = Polling(http, MOUNT)
    session.handshake()
    session.post_ok(["40"])
    reply, auth = session.collect(2)
    connect_reply_sid(reply, "40")
    assert auth == '42["auth",{}]'
    return session


def test_connect_over_polling(http: httpx.Client) -> None:
    session = Polling(http, MOUNT)
    session.handshake()
    session.post_ok(['40/custom,{"token":"abc"}'])
    reply, auth = session.collect(2)
    connect_reply_sid(reply, "40/custom,")
    assert auth == '42/custom,["auth",{"token":"abc"}]'


def test_session_walkthrough(polling: Polling) -> None:
    """PROTOCOL.md 3: two packets in one POST, their answers in order."""
    polling.post_ok(['42["message","x"]', '421["message-with-ack","y"]'])
    assert polling.collect(2) == ['42["message-back","x"]', '431["y"]']


def test_binary_event_over_polling(polling: Polling) -> None:
    response = polling.post(f'451-["message",{PH0}]\x1ebAQID')
    assert (response.status_code, response.text) == (200, "ok")
    assert polling.collect(2) == [f'451-["message-back",{PH0}]', b"\x01\x02\x03"]


def test_binary_event_attachment_wire_form(polling: Polling) -> None:
    """The attachment comes back as the text ``b`` + base64 in a text/plain payload."""
    polling.post_ok([f'451-["message",{PH0}]', b"\x01\x02\x03\x04"])
    texts: list[str] = []
    while len(texts) < 2:
        response = polling.get()
        assert response.status_code == 200
        assert response.headers["content-type"].lower().startswith("text/plain")
        texts += [p for p in response.text.split("\x1e") if p != "2"]
    assert texts == [f'451-["message-back",{PH0}]', "bAQIDBA=="]


def test_binary_ack_over_polling(polling: Polling) -> None:
    polling.post_ok([f'452-7["message-with-ack",{PH0},{PH1}]', b"\x01", b"\x02"])
    assert polling.collect(3) == [f"462-7[{PH0},{PH1}]", b"\x01", b"\x02"]


def test_attachments_in_a_later_post(polling: Polling) -> None:
    """A binary event's attachments may come in later payloads (PROTOCOL.md 2.1)."""
    polling.post_ok([f'452-["message",{PH0},{PH1}]'])
    polling.post_ok([b"\xaa"])
    polling.post_ok([b"\xbb"])
    assert polling.collect(3) == [f'452-["message-back",{PH0},{PH1}]', b"\xaa", b"\xbb"]


def test_unknown_namespace_over_polling(polling: Polling) -> None:
    polling.post_ok(["40/random,"])
    assert polling.collect(1) == ['44/random,{"message":"Invalid namespace"}']
    polling.post_ok(['42["message","still"]'])
    assert polling.collect(1) == ['42["message-back","still"]']


def test_disconnect_over_polling(polling: Polling) -> None:
    polling.post_ok(["41"])
    # Nothing comes back but the next ping; the Engine.IO session stays.
    assert decode_payload(polling.get().text) == ["2"]
    polling.post_ok(["3", "40"])
    reply, auth = polling.collect(2)
    connect_reply_sid(reply, "40")
    assert auth == '42["auth",{}]'


@pytest.mark.parametrize(
    "body",
    ["4abc", "42{}", f'451-["message",{PH1}]\x1ebAQ=='],
    ids=["unknown-type", "invalid-payload", "bad-placeholder"],
)
def test_invalid_packet_over_polling_closes(polling: Polling, body: str) -> None:
    polling.post(body)
    received = assert_polling_closes(polling)
    assert not any(isinstance(p, str) and p.startswith("4") for p in received), received
