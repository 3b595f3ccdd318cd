"""The fuzzer's hand-made frames and requests: wsproto and h11, independent implementations
of RFC 6455 and RFC 9112, read them as the fuzzer says a server must."""

from __future__ import annotations

import struct

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

from fuzz.net.steps import BadFrame
from fuzz.net.strategies import bad_frames
from fuzz.net.wire import OPCODES, http_request, ws_frame

MAX_PAYLOAD = 1_000_000  # protocol/ targets' maxPayload (PROTOCOL.md 5.2)


def server() -> WSConnection:
    """A wsproto server connection, past the handshake."""
    client = WSConnection(ConnectionType.CLIENT)
    conn = WSConnection(ConnectionType.SERVER)
    conn.receive_data(client.send(Request(host="x", target="/")))
    list(conn.events())
    conn.send(AcceptConnection())
    return conn


@given(st.text(max_size=300))
def test_a_valid_frame_is_read_back(text: str) -> None:
    conn = server()
    conn.receive_data(ws_frame(OPCODES["text"], text.encode("utf-8")))
    (event,) = list(conn.events())
    assert isinstance(event, TextMessage) and event.data == text


@settings(max_examples=200)
@given(bad_frames())
def test_wsproto_closes_a_broken_frame_with_the_code_the_fuzzer_expects(frame: BadFrame) -> None:
    if frame.expect == 1009:
        # Too big is the server's own limit: the header announces more than maxPayload.
        marker, length = frame.data[1] & 0x7F, struct.unpack("!Q", frame.data[2:10])[0]
        assert marker == 127 and length > MAX_PAYLOAD
        return
    conn = server()
    conn.receive_data(frame.data)
    codes = [e.code for e in conn.events() if isinstance(e, CloseConnection)]
    assert codes == [frame.expect], frame.violation


@pytest.mark.parametrize(
    ("framing", "error"),
    [("length", False), ("chunked", False), ("bad-chunked", True), ("te-and-length", False)],
)
def test_request_framings(framing: str, error: bool) -> None:
    """h11 reads the good framings and refuses the bad chunk size; CL + TE is ambiguous
    (RFC 9112 6.3 lets a server read it as chunked, but then it must close afterwards)."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(http_request("POST", "/socket.io/?EIO=4", body=b"40", framing=framing))
    body = b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            if event is h11.NEED_DATA or isinstance(event, h11.EndOfMessage):
                break
    except h11.RemoteProtocolError:
        assert error
        return
    assert not error and body == b"40"
