"""One WebSocket connection's messages, sans-IO: bytes in, whole messages out.

Shared by thinkio's server and its client. wsproto is the WebSocket implementation: it parses
every frame that is not a whole, unfragmented, unextended data frame (control frames, ping,
close, fragments, anything malformed) and validates it, with its own error codes. The common
frame — one complete text or binary message, masked as the role requires — takes a fast path
here: its header is read with two byte lookups and its payload unmasked with one integer XOR
(about half of wsproto's cost per message, ``../shared/perf`` §3.1).

Frames are always handed to wsproto whole, so its buffer is empty between frames and the two
paths never see each other's bytes; while a fragmented message is open every frame goes to
wsproto, which owns the message in between.

permessage-deflate (:mod:`.deflate`), when negotiated: a compressed frame has RSV1 set, so it
is never the common frame and always goes to wsproto, which inflates it with the connection's
extension; uncompressed frames keep the fast path. :meth:`WebSocketConnection.send_compressed`
frames a message through the extension. Without the extension nothing here changes.

Sizes are decided from the frame header, before buffering: a data frame that would make its
message larger than ``max_message`` closes the connection with 1009 at once, and a control
frame longer than 125 bytes with 1002, without waiting for (or holding) the payload.

Theory of operation::

    conn = WebSocketConnection(client=False, max_message=1_000_000)
    for item in conn.receive_data(data):     # data=None: the transport died
        str | bytes                          # a whole message
        WebSocketClosed(code, reason)        # the last item: the connection is over
    conn.data_to_send()                      # pongs and close replies to write
    conn.send("text") / conn.close(1000)     # frames to write
"""

from __future__ import annotations

from dataclasses import dataclass

from wsproto.extensions import Extension
from wsproto.frame_protocol import FrameProtocol, Opcode, ParseFailed

from .deflate import BoundedDeflate
from .frames import OP_BINARY, OP_PONG, OP_TEXT, close_frame, data_frame, frame, unmask

__all__ = ("WebSocketClosed", "WebSocketConnection")

_FAST_TEXT = 0x80 | OP_TEXT  # FIN, no RSV bits, text
_FAST_BINARY = 0x80 | OP_BINARY
_FAST = (_FAST_TEXT, _FAST_BINARY)


@dataclass(frozen=True, slots=True)
class WebSocketClosed:
    """The connection is over (the last item :meth:`WebSocketConnection.receive_data` gives).

    Attributes:
        code: the close code: the peer's, or the one we closed with for its fault (1002
            protocol error, 1007 invalid payload, 1009 too big), or 1006 when the transport
            died without a close frame.
        reason: the close reason text.
        by_peer: the peer closed (or vanished); False when we closed for its fault.
    """

    code: int
    reason: str = ""
    by_peer: bool = True


class WebSocketConnection:
    """The message layer of one WebSocket, for either role.

    Args:
        client: our role: the client masks what it sends and receives unmasked frames.
        max_message: the largest message accepted, in bytes (larger: close with 1009).
        deflate: the permessage-deflate extension negotiated in the handshake, or None.
    """

    __slots__ = (
        "_buffer",
        "_client",
        "_deflate",
        "_fragmented",
        "_max",
        "_out",
        "_parts",
        "_proto",
        "_size",
        "close_code",
        "close_sent",
        "closed",
    )

    def __init__(
        self, *, client: bool, max_message: int, deflate: BoundedDeflate | None = None
    ) -> None:
        self._client = client
        self._deflate = deflate
        self._max = max_message
        self._buffer = b""
        self._proto: FrameProtocol | None = None
        self._fragmented = False
        self._parts: list[str | bytes] = []
        self._size = 0
        self._out: list[bytes] = []
        #: No more messages will come.
        self.closed = False
        #: We sent our close frame.
        self.close_sent = False
        #: The close code of the connection once it ended.
        self.close_code: int | None = None

    # -- sending ----------------------------------------------------------------------------

    def send(self, message: str | bytes) -> bytes:
        """The frame for one message (empty once our close frame went out)."""
        if self.close_sent:
            return b""
        return data_frame(message, mask=self._client)

    def send_compressed(self, message: str | bytes) -> bytes:
        """The frame for one message compressed by the negotiated extension (RSV1 set).

        Raises:
            RuntimeError: no extension was negotiated (call :meth:`send`).
        """
        if self._deflate is None:
            raise RuntimeError("permessage-deflate was not negotiated")
        if self.close_sent:
            return b""
        return bytes(self._frame_protocol().send_data(message, fin=True))

    def _frame_protocol(self) -> FrameProtocol:
        proto = self._proto
        if proto is None:
            deflate = self._deflate
            extensions: list[Extension] = [] if deflate is None else [deflate]
            proto = self._proto = FrameProtocol(client=self._client, extensions=extensions)
        return proto

    def close(self, code: int = 1000, reason: str = "") -> bytes:
        """Our close frame (once; empty afterwards)."""
        if self.close_sent:
            return b""
        self.close_sent = True
        if self.close_code is None:
            self.close_code = code
        return close_frame(code, reason, mask=self._client)

    def data_to_send(self) -> bytes:
        """Control frames the received data calls for (pongs, the close reply)."""
        if not self._out:
            return b""
        out, self._out = self._out, []
        return b"".join(out)

    # -- receiving --------------------------------------------------------------------------

    def receive_data(self, data: bytes | None) -> list[str | bytes | WebSocketClosed]:
        """Feed bytes read off the transport (None: it died); returns what they complete."""
        if self.closed:
            return []
        if data is None:
            return [self._end(1006, "", by_peer=True)]
        if (
            not self._buffer
            and len(data) > 6
            and data[0] == _FAST_TEXT
            and not self._client
            and not self._fragmented
            and 0x80 < data[1] < 0x80 + 126
            and len(data) == data[1] - 0x80 + 6
            and len(data) - 6 <= self._max
        ):
            # The usual read on a server: exactly one small, masked, whole text frame.
            try:
                return [unmask(data[2:6], data[6:]).decode("utf-8")]
            except UnicodeDecodeError:
                pass  # the general path below closes with 1007
        buf = self._buffer + data if self._buffer else data
        out: list[str | bytes | WebSocketClosed] = []
        pos = 0
        end = len(buf)
        want_mask = 0 if self._client else 0x80
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if end - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if b1 & 0x80:
                head += 4
            if b0 & 0x08:  # a control frame (opcode 8 and above)
                if length > 125:
                    out.append(self._fail(1002, "control frame too long"))
                    break
            elif length + self._size > self._max:
                out.append(self._fail(1009, "message too big"))
                break
            stop = pos + head + length
            if stop > end:
                break
            if b0 in _FAST and not self._fragmented and b1 & 0x80 == want_mask:
                payload = buf[pos + head : stop]
                if want_mask:
                    payload = unmask(buf[pos + head - 4 : pos + head], payload)
                elif not isinstance(payload, bytes):
                    payload = bytes(payload)
                if b0 == _FAST_TEXT:
                    try:
                        out.append(payload.decode("utf-8"))
                    except UnicodeDecodeError:
                        out.append(self._fail(1007, "invalid UTF-8 in a text message"))
                        break
                else:
                    out.append(payload)
            elif not self._slow(buf[pos:stop], b0, out):
                break
            pos = stop
        if self.closed:
            self._buffer = b""
        else:
            self._buffer = buf[pos:] if pos < end else b""
        return out

    def _slow(self, raw: bytes, b0: int, out: list[str | bytes | WebSocketClosed]) -> bool:
        """Hand one whole frame to wsproto; False once the connection is over."""
        proto = self._frame_protocol()
        opcode = b0 & 0x0F
        if opcode in (0x0, 0x1, 0x2):
            # A data frame opens a fragmented message unless FIN; a final continuation ends it.
            self._fragmented = not b0 & 0x80
        proto.receive_bytes(raw)
        try:
            for frame_ in proto.received_frames():
                op = frame_.opcode
                if op is Opcode.TEXT or op is Opcode.BINARY or op is Opcode.CONTINUATION:
                    payload = frame_.payload
                    assert isinstance(payload, str | bytes | bytearray)
                    # Counted in bytes, as the limit is (wsproto hands text out decoded), and
                    # after inflating (a compressed frame's header says less).
                    self._size += (
                        len(payload.encode("utf-8", "surrogatepass"))
                        if isinstance(payload, str)
                        else len(payload)
                    )
                    if self._size > self._max:
                        out.append(self._fail(1009, "message too big"))
                        return False
                    self._parts.append(payload if isinstance(payload, str) else bytes(payload))
                    if frame_.message_finished:
                        parts, self._parts, self._size = self._parts, [], 0
                        if op is Opcode.TEXT or isinstance(parts[0], str):
                            out.append("".join(p for p in parts if isinstance(p, str)))
                        else:
                            out.append(b"".join(p for p in parts if isinstance(p, bytes)))
                elif op is Opcode.PING:
                    if not self.close_sent:
                        ping = frame_.payload
                        assert isinstance(ping, bytes | bytearray)
                        self._out.append(frame(OP_PONG, bytes(ping), mask=self._client))
                elif op is Opcode.CLOSE:
                    closing = frame_.payload  # (code, reason), validated by wsproto
                    assert isinstance(closing, tuple)
                    code, reason = int(closing[0]), str(closing[1])
                    if not self.close_sent:
                        self.close_sent = True
                        # Echo the code (none for "no status", which cannot be sent).
                        echo = None if code in (1005, 1006) else code
                        self._out.append(close_frame(echo, mask=self._client))
                    out.append(self._end(code, reason, by_peer=True))
                    return False
                # PONG: nothing to do.
        except ParseFailed as exc:
            code = int(exc.code)
            # 1009 from wsproto here is our deflate bound (.deflate.BoundedDeflate).
            out.append(self._fail(code, "message too big" if code == 1009 else str(exc)))
            return False
        return True

    def _fail(self, code: int, reason: str) -> WebSocketClosed:
        """Close for the peer's fault: queue our close frame, end the connection."""
        if not self.close_sent:
            self._out.append(self.close(code, reason))
        return self._end(code, reason, by_peer=False)

    def _end(self, code: int, reason: str, *, by_peer: bool) -> WebSocketClosed:
        self.closed = True
        if self.close_code is None:
            self.close_code = code
        self._parts = []
        self._buffer = b""
        return WebSocketClosed(code, reason, by_peer)
