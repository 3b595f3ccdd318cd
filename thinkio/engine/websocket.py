"""Engine.IO over WebSocket: a session's transport, or the probe of an upgrade (PROTOCOL.md 1.6).

After the 101, the connection's callbacks come here. Each read is parsed by
:class:`thinkio.websocket.WebSocketConnection` (wsproto, with a fast path for whole data
frames), and every message of the read is handed to the session before anything is written:
a client that sends ``2probe`` and ``5`` back to back never sees a request of its own served
in between, and the answers to a burst go out in one write (Node does the same).

The frames of server packets are built once per packet and shared by every recipient
(:func:`packet_frame`). A transport whose buffer is full stops taking packets (they wait in
the session's bounded outbox); a session closed as a slow consumer is cut at once. A closing
WebSocket sends its close frame and keeps reading (dropping data frames) until the client's
close frame, then closes TCP (RFC 6455 §7.1.1, :class:`thinkio.websocket.ClosingHandshake`);
the client gets ``Limits.websocket_close_timeout`` to flush and finish the handshake.

With permessage-deflate negotiated (:mod:`thinkio.websocket.deflate`), a packet whose frame
payload reaches the threshold is compressed for this connection (the compressor's context is
per connection, so those frames cannot be shared); smaller packets, and packets emitted with
``compress(False)`` (``EnginePacket.compress``, read only here), keep the shared frames.
"""

from __future__ import annotations

import logging
from typing import Any

from ..engineio import EnginePacket, encode_ws
from ..http import HttpExchange
from ..net import StreamProtocol
from ..websocket import ClosingHandshake, WebSocketClosed, WebSocketConnection
from ..websocket.deflate import BoundedDeflate
from .socket import EngineHost, EngineSocket

__all__ = ("EngineWebSocket", "packet_frame")

log = logging.getLogger("thinkio.engineio")


#: The two header bytes of every unmasked, final text or binary frame shorter than 126 bytes.
_TEXT_HEADS = tuple(bytes((0x81, n)) for n in range(126))
_BINARY_HEADS = tuple(bytes((0x82, n)) for n in range(126))


def packet_frame(packet: EnginePacket, protocol: int) -> bytes:
    """The WebSocket frame of an Engine.IO packet, built once and kept on the packet (every
    text frame, and v4 binary frames: what does not depend on the session is shared)."""
    frame = packet.frame
    if frame is not None and (protocol >= 4 or not packet.binary):
        return frame  # type: ignore[return-value]
    message = encode_ws(packet, protocol=protocol)
    if isinstance(message, str):
        payload, head = message.encode(), 0x81
    else:
        payload, head = message, 0x82
    n = len(payload)
    if n < 126:
        frame = (_TEXT_HEADS if head == 0x81 else _BINARY_HEADS)[n] + payload
    elif n < 0x10000:
        frame = bytes((head, 126)) + n.to_bytes(2, "big") + payload
    else:
        frame = bytes((head, 127)) + n.to_bytes(8, "big") + payload
    if protocol >= 4 or head == 0x81:
        packet.frame = frame
    return frame


class EngineWebSocket(StreamProtocol):
    """The protocol of a WebSocket carrying (or probing for) one Engine.IO session."""

    __slots__ = (
        "_accept",
        "_closing",
        "_closing_handshake",
        "_conn",
        "_deflate",
        "_esock",
        "_exchange",
        "_head",
        "_headers",
        "_lost",
        "_probe",
        "_protocol",
        "_refused",
        "_release",
        "_server",
        "_transport",
        "writable",
    )

    def __init__(
        self,
        server: EngineHost,
        esock: EngineSocket,
        *,
        probe: bool,
        max_message: int,
        deflate: tuple[BoundedDeflate, bytes] | None = None,
        exchange: HttpExchange,
        accept: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self._server = server
        #: Extra headers of the 101 (the session cookie), or None.
        self._headers = headers
        #: The upgrade request's exchange and the 101's key, until :meth:`start`.
        self._exchange: HttpExchange | None = exchange
        self._accept = accept
        self._esock = esock
        self._probe = probe
        self._protocol = esock.protocol
        #: The negotiated extension and the 101's Sec-WebSocket-Extensions value, or None.
        self._deflate = deflate
        self._conn = WebSocketConnection(
            client=False, max_message=max_message, deflate=None if deflate is None else deflate[0]
        )
        self._transport: Any = None
        self._release: Any = None
        #: The transport takes writes now (not paused by a full buffer, not lost).
        self.writable = True
        self._lost = False
        self._closing = False
        self._refused = False
        #: Set once we sent our close frame (we wait for the peer's).
        self._closing_handshake: ClosingHandshake | None = None
        #: The 101 of a new session, until it goes out with the open packet (one write).
        self._head: bytes | None = None

    def start(self) -> None:
        """Take the connection over, answer the upgrade and read what came after it."""
        assert self._exchange is not None
        taken = self._exchange.take_over(self)
        accept = self._accept
        self._exchange = None
        self._transport = taken.transport
        self._release = taken.release
        extensions = b""
        if self._deflate is not None:
            extensions = b"Sec-WebSocket-Extensions: " + self._deflate[1] + b"\r\n"
        if self._headers:
            extensions += b"".join(name + b": " + value + b"\r\n" for name, value in self._headers)
        head = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n" + extensions + b"\r\n"
        )
        if self._probe:
            self._transport.write(head)
        else:
            # A new session's open packet is queued and written at the end of this batch: the
            # 101 goes out with it, in one write (one send, not two, per connection).
            self._head = head
            self._esock.attach_ws(self)
        if taken.leftover:
            self.data_received(taken.leftover)

    # -- transport callbacks ----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        server = self._server
        server.begin()
        try:
            items = conn.receive_data(data)
            control = conn.data_to_send()
            if control:
                self._write_head()
                self._transport.write(control)
            esock = self._esock
            for item in items:
                if type(item) is WebSocketClosed:
                    self._closed_by_peer(item)
                    break
                if self._closing:
                    continue  # we closed: only the peer's close frame matters now
                if self._probe:
                    replies = esock.receive_probe(item)  # type: ignore[arg-type]
                    if replies and not self._lost:
                        self.write_packets(replies)
                    if self._probe and not esock.session.upgrading:
                        self.finish()  # the upgrade was dropped (or the session closed)
                        break
                else:
                    esock.receive_ws(item)  # type: ignore[arg-type]
        finally:
            server.end()

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._lost:
            return
        self._lost = True
        self.writable = False
        handshake = self._closing_handshake
        if handshake is not None:
            handshake.cancel()
            self._server.closing_handshakes.discard(handshake)
        self._release()
        self._esock.websocket_lost(self, probe=self._probe, refused=self._refused)

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        if not self._lost:
            self.writable = True
            self._server.want_flush(self._esock)

    # -- the session's side -----------------------------------------------------------------

    def write_packets(self, packets: list[EnginePacket]) -> None:
        protocol = self._protocol
        if self._deflate is not None:
            data = b"".join([self._deflated_frame(p) for p in packets])
        elif len(packets) == 1:
            data = packet_frame(packets[0], protocol)
        else:
            data = b"".join([packet_frame(p, protocol) for p in packets])
        if self._head is not None:
            self._write_head(data)
        else:
            self._transport.write(data)

    def _write_head(self, frames: bytes = b"") -> None:
        """Write the 101 if it has not gone out yet (with ``frames`` behind it, in one write)."""
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + frames)

    def _deflated_frame(self, packet: EnginePacket) -> bytes:
        """The shared frame under the threshold or for a packet sent with ``compress(False)``
        (Node's rule); at or over the threshold, a compressed one."""
        frame = packet_frame(packet, self._protocol)
        length = frame[1] & 0x7F
        head = 2 if length < 126 else 4 if length == 126 else 10
        assert self._deflate is not None
        if len(frame) - head < self._deflate[0].threshold or not getattr(packet, "compress", True):
            return frame
        return self._conn.send_compressed(encode_ws(packet, protocol=self._protocol))

    def upgraded(self) -> None:
        """The probe became the session's transport."""
        self._probe = False
        self._esock.attach_ws(self)

    def refuse(self) -> None:
        """Close a WebSocket that cannot become the session's transport (1008)."""
        self._refused = True
        self.finish(code=1008, reason="session cannot upgrade")

    def finish(self, *, abort: bool = False, code: int = 1000, reason: str = "") -> None:
        """Close: a close frame, then the connection once the client answered with its own
        (what it sends meanwhile is read and dropped), at most ``websocket_close_timeout``
        later; ``abort`` cuts it at once."""
        if self._lost:
            return
        self._closing = True
        if abort:
            self._transport.abort()
            return
        if self._closing_handshake is None:
            self._write_head()
            server = self._server
            self._closing_handshake = handshake = ClosingHandshake(
                self._transport,
                self._conn.close(code, reason),
                server.timers,
                server.limits.websocket_close_timeout,
                self._cut,
            )
            server.closing_handshakes.add(handshake)

    def _cut(self) -> None:
        log.info(
            "session %s: the client did not finish the closing handshake; cut", self._esock.sid
        )

    def _closed_by_peer(self, closed: WebSocketClosed) -> None:
        if not closed.by_peer:
            log.info(
                "session %s: WebSocket closed with %d: %s",
                self._esock.sid,
                closed.code,
                closed.reason,
            )
        self._closing = True
        self._write_head()
        control = self._conn.data_to_send()
        handshake = self._closing_handshake
        if handshake is not None:
            handshake.finish(control)
            return
        if control:
            self._transport.write(control)
        self._transport.close()
