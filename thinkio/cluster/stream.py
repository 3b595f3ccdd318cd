"""A TCP connection handed to this process, as an anyio byte stream over the raw socket.

Why not anyio's own ``SocketStream.from_socket``: a handed connection may have to be handed
on again (keep-alive reuse by another session), and then every byte this process has not
parsed must still be somewhere the next owner can get it. On asyncio, anyio's stream reads
ahead into a buffer of its own; this stream calls ``recv`` only when asked, so unread bytes
stay in the kernel, shared by every descriptor of the socket. Closing it never shuts the
connection down (only :meth:`send_eof` does), so the next owner's copy keeps working.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

import anyio
from anyio.abc import ByteStream, SocketAttribute

__all__ = ("HandedStream",)

_READ_SIZE = 65536


class HandedStream(ByteStream):
    """A connected, non-blocking TCP socket, with bytes already read from it served first.

    Args:
        sock: the socket; this stream owns it from now on.
        prefix: bytes another process read from the socket before handing it over.
    """

    def __init__(self, sock: socket.socket, prefix: bytes = b"") -> None:
        sock.setblocking(False)
        self._sock = sock
        self._prefix = prefix
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def receive(self, max_bytes: int = _READ_SIZE) -> bytes:
        """Bytes from the prefix first, then from the socket.

        Raises:
            anyio.EndOfStream: the peer closed its side.
            anyio.BrokenResourceError: the connection failed (reset).
            anyio.ClosedResourceError: this stream was closed.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        if self._prefix:
            data, self._prefix = self._prefix[:max_bytes], self._prefix[max_bytes:]
            return data
        while True:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                data = self._sock.recv(max_bytes)
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            if not data:
                raise anyio.EndOfStream
            return data

    async def send(self, item: bytes) -> None:
        """Write all of ``item``.

        Raises:
            anyio.BrokenResourceError: the connection failed.
            anyio.ClosedResourceError: this stream was closed.
        """
        await anyio.lowlevel.checkpoint_if_cancelled()
        view = memoryview(item)
        while view:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                sent = self._sock.send(view)
            except BlockingIOError:
                await anyio.wait_writable(self._sock)
                continue
            except OSError as exc:
                raise anyio.BrokenResourceError from exc
            view = view[sent:]

    async def send_eof(self) -> None:
        """End our side of the connection (TCP FIN); the peer may still send."""
        if not self._closed:
            try:
                self._sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                raise anyio.BrokenResourceError from exc

    def detach(self) -> tuple[socket.socket, bytes]:
        """Give up the socket (to hand it on): this stream is closed, the socket is not.

        Returns:
            The socket, and the prefix bytes not served yet (they come, in the byte stream,
            after everything this stream already returned).
        """
        self._closed = True
        rest, self._prefix = self._prefix, b""
        return self._sock, rest

    async def aclose(self) -> None:
        """Close our descriptor. Other processes' copies of the socket stay open."""
        if self._closed:
            return
        self._closed = True
        anyio.notify_closing(self._sock)
        self._sock.close()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return {
            SocketAttribute.raw_socket: lambda: self._sock,
            SocketAttribute.family: lambda: self._sock.family,
            SocketAttribute.local_address: lambda: self._sock.getsockname(),
            SocketAttribute.remote_address: lambda: self._sock.getpeername(),
            SocketAttribute.remote_port: lambda: self._sock.getpeername()[1],
            SocketAttribute.local_port: lambda: self._sock.getsockname()[1],
        }
