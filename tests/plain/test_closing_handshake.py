"""The closing handshake of the plain WebSocket (the ``ws`` type and SockJS's ``websocket``
transport): the server's close frame, then the connection stays open, reading and dropping
what the client still sends, until the client's close frame; only then is TCP closed (RFC 6455
§7.1.1), so a client closed while it sends gets the close frame, not a reset.

The protocol on an in-memory transport and a fake clock (deterministic), then a raw client
that goes on sending after a SockJS close over loopback, on asyncio and trio.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import anyio
import anyio.to_thread
import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage
from wsproto.frame_protocol import FrameProtocol, Opcode

from thinkio import App
from thinkio.http import TakenOver
from thinkio.limits import Limits
from thinkio.net import TimerService
from thinkio.plain import PlainWebSocket
from thinkio.testing import FakeClock, MemoryTransport
from thinkio.websocket import close_frame, data_frame

from .test_ws_type import TIMEOUT, serving


class Recorder:
    """A :class:`thinkio.plain.WebSocketListener` that keeps what it hears."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.reasons: list[str] = []

    def message(self, text: str) -> None:
        self.messages.append(text)

    def ended(self, reason: str) -> None:
        self.reasons.append(reason)


def open_socket(
    close_timeout: float = 30.0,
) -> tuple[PlainWebSocket, MemoryTransport, FakeClock, Recorder, FrameProtocol]:
    """A PlainWebSocket after its 101 on an in-memory transport; the client's frame parser."""
    clock = FakeClock()
    ws = PlainWebSocket(
        limits=Limits(websocket_close_timeout=close_timeout),
        timers=TimerService(clock),
        max_message=65536,
    )
    transport = MemoryTransport(ws)
    recorder = Recorder()
    ws.listener = recorder
    ws.start(TakenOver(transport, b"", lambda: None), b"token")  # type: ignore[arg-type]
    assert transport.take().startswith(b"HTTP/1.1 101 ")
    return ws, transport, clock, recorder, FrameProtocol(client=True, extensions=[])


def frames_from(client: FrameProtocol, data: bytes) -> list[tuple[Opcode, Any]]:
    client.receive_bytes(data)
    return [(f.opcode, f.payload) for f in client.received_frames()]


def message(n: int) -> bytes:
    """A client's (masked) text frame."""
    return data_frame(json.dumps({"event": "quick", "data": n}), mask=True)


def test_after_its_close_frame_the_server_reads_until_the_clients() -> None:
    ws, transport, clock, recorder, client = open_socket()
    transport.feed(message(1))
    ws.close(1008, "too many messages queued")  # as the hub closes a flood
    assert frames_from(client, transport.take()) == [
        (Opcode.CLOSE, (1008, "too many messages queued"))
    ]
    # The client had not seen it yet and goes on sending: read and dropped, the connection
    # stays open (closing TCP now is what resets the client's connection).
    for n in range(2, 200):
        transport.feed(message(n))
    assert not transport.closing
    assert recorder.messages == [json.dumps({"event": "quick", "data": 1})]
    ws.send_text("late")  # nothing is sent after the close frame
    assert transport.take() == b""
    # Its close frame ends the handshake: TCP is closed (not cut: no time passed).
    transport.feed(message(200) + close_frame(1008, mask=True))
    assert transport.lost
    assert recorder.messages == [json.dumps({"event": "quick", "data": 1})]
    assert recorder.reasons == ["too many messages queued"]
    assert clock.next_deadline() is None  # the close timeout was cancelled


def test_a_client_that_never_answers_is_cut_at_the_close_timeout() -> None:
    ws, transport, clock, recorder, client = open_socket(close_timeout=30)
    ws.close(1001, "server shutting down")
    assert frames_from(client, transport.take()) == [(Opcode.CLOSE, (1001, "server shutting down"))]
    transport.feed(message(1))
    clock.advance(29.9)
    assert not transport.closing
    clock.advance(0.2)
    assert transport.lost
    assert recorder.reasons == ["server shutting down"]


def test_a_client_that_closes_tcp_instead_ends_it_too() -> None:
    ws, transport, clock, recorder, _client = open_socket()
    ws.close(1000, "bye")
    transport.feed_eof()
    assert transport.lost
    assert recorder.reasons == ["bye"]
    assert clock.next_deadline() is None


def test_a_close_started_by_the_client_is_answered_and_closed_at_once() -> None:
    _ws, transport, clock, recorder, client = open_socket()
    transport.feed(close_frame(1000, "done", mask=True))
    assert frames_from(client, transport.take()) == [(Opcode.CLOSE, (1000, ""))]
    assert transport.lost
    assert recorder.reasons == ["client close"]
    assert clock.next_deadline() is None


def raw_client(host: str, port: int, target: str) -> tuple[socket.socket, WSConnection]:
    """A wsproto client over a blocking socket, past the 101."""
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=f"{host}:{port}", target=target)))
    while True:
        ws.receive_data(sock.recv(65536))
        if any(isinstance(e, AcceptConnection) for e in ws.events()):
            return sock, ws


def read_until_closed(sock: socket.socket, ws: WSConnection) -> tuple[int, str | None]:
    """Read (the messages dropped) up to the server's close frame; answer it; then read to the
    end of the connection, which must be a clean one (EOF), not a reset."""
    while True:
        data = sock.recv(65536)  # a reset raises ConnectionResetError here
        assert data, "the connection ended without a close frame"
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, CloseConnection):
                sock.sendall(ws.send(event.response()))
                while sock.recv(65536):  # the server closes once it has our close frame
                    pass
                return event.code, event.reason


@pytest.mark.anyio
async def test_a_sockjs_websocket_closed_while_the_client_sends_gets_the_close_frame() -> None:
    app = App({"websocket": {"type": "sockjs", "sockjs": {"messages": {}}}})
    async with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])

        def run() -> tuple[int, str | None]:
            sock, ws = raw_client("127.0.0.1", port, "/sockjs/000/s1/websocket")
            with sock:
                # Broken framing closes with 3000; the client does not wait for it and goes on
                # sending 2 MB the server reads and drops.
                sock.sendall(ws.send(TextMessage("{broken")))
                for n in range(2000):
                    sock.sendall(ws.send(TextMessage(json.dumps([f"{n}" + "x" * 1000]))))
                return read_until_closed(sock, ws)

        with anyio.fail_after(TIMEOUT * 2):
            assert await anyio.to_thread.run_sync(run) == (3000, "Broken framing.")
