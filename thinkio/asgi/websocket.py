"""Engine.IO over an ASGI ``websocket`` scope: a session's transport, or an upgrade's probe.

The ASGI server speaks the WebSocket protocol; what arrives here are whole messages
(``websocket.receive``) and what leaves is whole messages (``websocket.send``).
:class:`AsgiWebSocket` is the :class:`thinkio.engine.WebSocketTransport` the Engine.IO server
drives, as it drives its own :class:`~thinkio.engine.EngineWebSocket`: messages go to the
session (:meth:`EngineSocket.receive_ws`, or ``receive_probe`` while probing) in one batch
of the server, and packets the session flushes are queued as messages for a writer task
(``send()`` is a coroutine; the session's flush is not).

The writer's queue is bounded the way a socket's buffer is: above :data:`HIGH_WATER` bytes the
transport stops taking packets (they wait in the session's bounded outbox, which closes a
slow consumer), below :data:`LOW_WATER` it takes them again. A message larger than the
session's ``max_payload_bytes`` closes the WebSocket with 1009 (RFC 6455 7.4.1), as on
thinkio's own server.
"""

from __future__ import annotations

import logging
from collections import deque

import anyio

from ..engine import EngineHost, EngineSocket
from ..engineio import EnginePacket, encode_ws
from .types import Message, Receive, Send

__all__ = ("HIGH_WATER", "LOW_WATER", "AsgiWebSocket")

log = logging.getLogger("thinkio.asgi")

#: Bytes queued for ``send()`` above which the transport stops taking packets.
HIGH_WATER = 256 * 1024
#: Bytes queued below which it takes them again.
LOW_WATER = 64 * 1024


def _size(data: str | bytes) -> int:
    if isinstance(data, bytes) or data.isascii():
        return len(data)
    return len(data.encode())


class AsgiWebSocket:
    """One ASGI WebSocket carrying (or probing for) an Engine.IO session (see the module
    docstring). :meth:`run` serves it until it ends."""

    def __init__(
        self, server: EngineHost, esock: EngineSocket, *, probe: bool, max_message: int
    ) -> None:
        self._server = server
        self._esock = esock
        self._probe = probe
        self._protocol = esock.protocol
        self._max_message = max_message
        self._out: deque[Message] = deque()
        self._queued = 0
        self._wake: anyio.Event | None = None
        self._closing = False
        self._refused = False
        self._lost = False
        #: The transport takes writes now (its queue is not full, it is not lost).
        self.writable = True
        #: The session accepted this WebSocket (:meth:`start` ran).
        self.started = False

    # -- the server's side (WebSocketTransport) ---------------------------------------------

    def start(self) -> None:
        self.started = True
        self._push({"type": "websocket.accept"}, 0)
        if not self._probe:
            self._esock.attach_ws(self)

    def write_packets(self, packets: list[EnginePacket]) -> None:
        protocol = self._protocol
        for packet in packets:
            message = encode_ws(packet, protocol=protocol)
            if isinstance(message, str):
                self._push({"type": "websocket.send", "text": message}, len(message))
            else:
                self._push({"type": "websocket.send", "bytes": message}, len(message))
        if self._queued > HIGH_WATER:
            self.writable = False

    def upgraded(self) -> None:
        self._probe = False
        self._esock.attach_ws(self)

    def refuse(self) -> None:
        self._refused = True
        self.finish(code=1008, reason="session cannot upgrade")

    def finish(self, *, abort: bool = False, code: int = 1000, reason: str = "") -> None:
        """Close (``abort``: drop what is still queued first)."""
        if self._closing or self._lost:
            return
        self._closing = True
        if abort:
            self._out.clear()
            self._queued = 0
        self._push({"type": "websocket.close", "code": code, "reason": reason}, 0)

    def _push(self, message: Message, size: int) -> None:
        self._out.append(message)
        self._queued += size
        if self._wake is not None:
            self._wake.set()

    # -- the ASGI side ----------------------------------------------------------------------

    async def run(self, receive: Receive, send: Send) -> None:
        """Serve the WebSocket: messages in to the session, queued messages out, until either
        side closes; then tell the session its transport is gone."""
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._write, send, tg.cancel_scope)
                await self._read(receive)
                tg.cancel_scope.cancel()
        finally:
            self._connection_lost()

    async def _read(self, receive: Receive) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.disconnect":
                return
            if kind != "websocket.receive" or self._closing:
                continue  # after our close, only the peer's answer to it matters
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if _size(data) > self._max_message:
                log.info("session %s: a message over %d bytes", self._esock.sid, self._max_message)
                self.finish(code=1009, reason="message too big")
                continue
            self._deliver(data)

    def _deliver(self, data: str | bytes) -> None:
        server = self._server
        esock = self._esock
        server.begin()
        try:
            if self._probe:
                replies = esock.receive_probe(data)
                if replies:
                    self.write_packets(replies)
                if self._probe and not esock.session.upgrading:
                    self.finish()  # the upgrade was dropped (or the session closed)
            else:
                esock.receive_ws(data)
        finally:
            server.end()

    async def _write(self, send: Send, scope: anyio.CancelScope) -> None:
        out = self._out
        try:
            while True:
                while not out:
                    self._wake = anyio.Event()
                    await self._wake.wait()
                    self._wake = None
                message = out.popleft()
                await send(message)
                if message["type"] == "websocket.send":
                    self._queued -= len(message.get("text") or message.get("bytes") or b"")
                    if not self.writable and self._queued < LOW_WATER and not self._lost:
                        self.writable = True
                        self._server.want_flush(self._esock)
                elif message["type"] == "websocket.close":
                    # The ASGI server finishes the closing handshake; give the peer the
                    # close timeout to answer, then stop reading.
                    with anyio.move_on_after(self._server.limits.websocket_close_timeout):
                        await anyio.sleep_forever()
                    scope.cancel()
                    return
        except Exception as exc:  # the client went away: each ASGI server says it its way
            log.info("session %s: WebSocket send failed: %r", self._esock.sid, exc)
            scope.cancel()

    def _connection_lost(self) -> None:
        if self._lost:
            return
        self._lost = True
        self.writable = False
        self._out.clear()
        self._esock.websocket_lost(self, probe=self._probe, refused=self._refused)
