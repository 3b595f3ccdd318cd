"""The supervisor <-> worker channel: framed JSON messages, raw binary blobs, passed sockets.

One UNIX stream socket pair per worker carries everything: connections handed over (with
their file descriptor), bus messages, and control (ready, stop). A frame is::

    u32 body length | u32 header length | header (JSON, UTF-8) | (u32 blob length | blob)*

The header is a JSON object with a ``"t"`` (type) key. Blobs carry bytes as they are: the
already-read start of a connection, encoded Socket.IO payloads with their binary
attachments. Nothing is pickled: a peer can only make us parse JSON.

Passing descriptors over a *stream* socket needs care: the kernel attaches a descriptor to
the first byte of the ``sendmsg`` that carried it, and a plain ``recv`` that reads over that
byte silently drops (closes) it. So every read here is a ``recvmsg`` with room for a
descriptor (anyio's ``receive_fds``) that never asks for more than the rest of the current
frame: a frame's descriptor always arrives with that frame, never with its neighbour.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import UNIXSocketStream

from ..errors import ThinkioError

__all__ = ("Channel", "ChannelError", "Frame", "decode_body", "encode_frame")

_U32 = struct.Struct("!I")
#: Largest frame accepted: a broadcast of a maximal payload with its attachments fits.
MAX_FRAME = 64 * 1024 * 1024


class ChannelError(ThinkioError):
    """The other end of a channel sent something that is not a valid frame."""


@dataclass(slots=True)
class Frame:
    """One frame: its JSON header, its blobs, and the descriptor that came with it."""

    header: dict[str, Any]
    blobs: list[bytes] = field(default_factory=list)
    #: A descriptor passed along (the receiver owns it and must close it).
    fd: int | None = None

    @property
    def type(self) -> str:
        return str(self.header.get("t", ""))


def encode_frame(header: dict[str, Any], blobs: Sequence[bytes] = ()) -> bytes:
    """One frame, ready to write.

    Raises:
        ChannelError: the frame would be larger than :data:`MAX_FRAME`.
        TypeError, ValueError: the header is not JSON (a bug in the caller).
    """
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode()
    parts = [b"", _U32.pack(len(head)), head]
    for blob in blobs:
        parts += [_U32.pack(len(blob)), blob]
    size = sum(len(p) for p in parts)
    if size > MAX_FRAME:
        raise ChannelError(f"frame of {size} bytes is larger than {MAX_FRAME}")
    parts[0] = _U32.pack(size)
    return b"".join(parts)


def decode_body(body: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """Split a frame body into its header and blobs.

    Raises:
        ChannelError: the body is malformed.
    """
    if len(body) < 4:
        raise ChannelError("frame too short")
    (head_len,) = _U32.unpack_from(body, 0)
    end = 4 + head_len
    if end > len(body):
        raise ChannelError("frame header runs past the frame")
    try:
        header = json.loads(body[4:end])
    except ValueError as exc:
        raise ChannelError(f"frame header is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ChannelError("frame header is not a JSON object")
    blobs: list[bytes] = []
    pos = end
    while pos < len(body):
        if pos + 4 > len(body):
            raise ChannelError("blob length runs past the frame")
        (size,) = _U32.unpack_from(body, pos)
        pos += 4
        if pos + size > len(body):
            raise ChannelError("blob runs past the frame")
        blobs.append(body[pos : pos + size])
        pos += size
    return header, blobs


class Channel:
    """Framed messages over one connected UNIX stream socket.

    One task reads (:meth:`receive`); any number of tasks may :meth:`send`.
    """

    def __init__(self, stream: UNIXSocketStream) -> None:
        self.stream = stream
        self._send_lock = anyio.Lock()

    @classmethod
    async def from_socket(cls, sock: socket.socket | int) -> Channel:
        """Wrap a connected ``AF_UNIX`` / ``SOCK_STREAM`` socket (or its descriptor)."""
        return cls(await UNIXSocketStream.from_socket(sock))

    async def send(
        self, header: dict[str, Any], blobs: Sequence[bytes] = (), fd: int | None = None
    ) -> None:
        """Send one frame, with a descriptor if given (the caller still owns and closes it).

        Raises:
            anyio.BrokenResourceError: the other end is gone.
            anyio.ClosedResourceError: this channel was closed.
            ChannelError: the frame is too large.
        """
        frame = encode_frame(header, blobs)
        async with self._send_lock:
            if fd is None:
                await self.stream.send(frame)
            else:
                await self.stream.send_fds(frame, [fd])

    async def receive(self) -> Frame:
        """The next frame.

        Raises:
            anyio.EndOfStream: the other end closed the channel between frames.
            anyio.BrokenResourceError: the other end went away mid-frame.
            ChannelError: a frame is malformed or too large.
        """
        fds: list[int] = []
        try:
            (size,) = _U32.unpack(await self._read_exact(4, fds, first=True))
            if size < 4 or size > MAX_FRAME:
                raise ChannelError(f"bad frame length {size}")
            header, blobs = decode_body(await self._read_exact(size, fds))
        except BaseException:
            _close_fds(fds)
            raise
        _close_fds(fds[1:])  # one descriptor per frame at most; drop any extra
        return Frame(header, blobs, fds[0] if fds else None)

    async def _read_exact(self, size: int, fds: list[int], *, first: bool = False) -> bytes:
        chunks: list[bytes] = []
        got = 0
        while got < size:
            try:
                data, new_fds = await self.stream.receive_fds(size - got, 1)
            except anyio.EndOfStream:
                if first and got == 0:
                    raise
                raise anyio.BrokenResourceError("channel closed mid-frame") from None
            fds += new_fds
            chunks.append(data)
            got += len(data)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the channel (the other end sees end of stream)."""
        await self.stream.aclose()


def _close_fds(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
