"""RESP2, Redis's wire protocol: a sans-IO encoder and parser, and a connection on anyio.

Only what a pub/sub adapter needs: commands go out as arrays of bulk strings
(:func:`encode_command`); replies come back as the five RESP2 types, which
:class:`RespParser` turns into Python values:

========================  =====================================================
``+OK``                   ``str``
``-ERR ...``              :class:`~.errors.RedisReplyError` (returned, not raised)
``:42``                   ``int``
``$5 hello`` / ``$-1``    ``bytes`` / ``None``
``*2 ...`` / ``*-1``      ``list`` / ``None``
========================  =====================================================

On a subscribed connection, messages arrive as arrays (``["message", channel, data]``,
``["pmessage", pattern, channel, data]``) with no command asked: the parser does not care,
the caller reads them with :meth:`RedisConnection.receive`.

:class:`RedisConnection` is the I/O half, written once on anyio so it runs on asyncio and
trio. It does not reconnect: :mod:`.link` owns connections and their reconnection.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import unquote, urlsplit

import anyio
import anyio.abc

from ..errors import ConfigError, RemoteProtocolError
from .errors import RedisReplyError, RedisUnavailable

__all__ = (
    "NEED_DATA",
    "RedisAddress",
    "RedisConnection",
    "Reply",
    "RespParser",
    "encode_command",
)

Reply = None | int | str | bytes | RedisReplyError | list["Reply"]


class _Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"


#: Returned by :meth:`RespParser.next_reply` when the buffer holds no complete reply yet.
NEED_DATA: Final = _Sentinel.NEED_DATA

#: Longest status/error/length line: these lines are short; a longer one is garbage.
MAX_LINE_BYTES: Final = 64 * 1024


def encode_command(*args: str | bytes | int) -> bytes:
    """A command as RESP2 sends it: an array of bulk strings (``str`` as UTF-8)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


class _Incomplete(Exception):
    """The buffer ends inside a reply."""


class RespParser:
    """Sans-IO RESP2 reply parser: :meth:`feed` bytes in, :meth:`next_reply` values out.

    Replies may be split across feeds at any byte; the result does not depend on how the
    bytes were chunked.

    Args:
        max_bulk_bytes: the largest bulk string accepted (a pub/sub message body).
        max_elements: the most elements one array may announce.
        max_depth: the deepest array nesting accepted.
    """

    def __init__(
        self,
        *,
        max_bulk_bytes: int = 64 * 1024 * 1024,
        max_elements: int = 1024 * 1024,
        max_depth: int = 8,
    ) -> None:
        self._buf = bytearray()
        self._pos = 0
        self.max_bulk_bytes = max_bulk_bytes
        self.max_elements = max_elements
        self.max_depth = max_depth

    def feed(self, data: bytes) -> None:
        """Add bytes received from Redis."""
        if self._pos and self._pos * 2 >= len(self._buf):
            del self._buf[: self._pos]  # compact once half the buffer is consumed
            self._pos = 0
        self._buf += data

    def next_reply(self) -> Reply | Literal[_Sentinel.NEED_DATA]:
        """The next complete reply, or :data:`NEED_DATA`.

        Raises:
            RemoteProtocolError: the bytes are not RESP2 or break a bound; the connection
                cannot be used any more.
        """
        try:
            value, end = self._parse(self._pos, self.max_depth)
        except _Incomplete:
            return NEED_DATA
        self._pos = end
        return value

    def _line(self, pos: int) -> tuple[bytes, int]:
        end = self._buf.find(b"\r\n", pos, pos + MAX_LINE_BYTES + 2)
        if end < 0:
            if len(self._buf) - pos > MAX_LINE_BYTES:
                raise RemoteProtocolError("RESP line too long")
            raise _Incomplete
        return bytes(self._buf[pos:end]), end + 2

    @staticmethod
    def _int(line: bytes) -> int:
        digits = line[1:] if line[:1] == b"-" else line
        if not digits or not digits.isdigit() or len(digits) > 20:
            raise RemoteProtocolError(f"RESP integer expected, got {line[:40]!r}")
        return int(line)

    def _parse(self, pos: int, depth: int) -> tuple[Reply, int]:
        if pos >= len(self._buf):
            raise _Incomplete
        kind = self._buf[pos]
        line, pos = self._line(pos + 1)
        if kind == 0x2B:  # '+'
            return line.decode("utf-8", "replace"), pos
        if kind == 0x2D:  # '-'
            return RedisReplyError(line.decode("utf-8", "replace")), pos
        if kind == 0x3A:  # ':'
            return self._int(line), pos
        if kind == 0x24:  # '$'
            n = self._int(line)
            if n == -1:
                return None, pos
            if not 0 <= n <= self.max_bulk_bytes:
                raise RemoteProtocolError(f"RESP bulk length {n} out of bounds")
            if len(self._buf) < pos + n + 2:
                raise _Incomplete
            if self._buf[pos + n : pos + n + 2] != b"\r\n":
                raise RemoteProtocolError("RESP bulk string not followed by CRLF")
            return bytes(self._buf[pos : pos + n]), pos + n + 2
        if kind == 0x2A:  # '*'
            n = self._int(line)
            if n == -1:
                return None, pos
            if not 0 <= n <= self.max_elements:
                raise RemoteProtocolError(f"RESP array length {n} out of bounds")
            if depth <= 0:
                raise RemoteProtocolError("RESP arrays nested too deeply")
            items: list[Reply] = []
            for _ in range(n):
                item, pos = self._parse(pos, depth - 1)
                items.append(item)
            return items, pos
        raise RemoteProtocolError(f"unknown RESP2 type byte 0x{kind:02x}")


# --------------------------------------------------------------------------- I/O


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where Redis is: ``redis://[[username]:password@]host[:port][/db]``."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> RedisAddress:
        """Parse a ``redis://`` URL.

        Raises:
            ConfigError: another scheme (``rediss://`` TLS is not supported), a bad port, or
                a database that is not a number.
        """
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ConfigError(f"url: expected redis://host:port/db, got {url!r}")
        try:
            port = parts.port or 6379
        except ValueError:
            raise ConfigError(f"url: bad port in {url!r}") from None
        path = parts.path.strip("/")
        if path and not path.isdigit():
            raise ConfigError(f"url: the path must be a database number, got {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            db=int(path or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def __str__(self) -> str:
        return f"redis://{self.host}:{self.port}/{self.db}"


class RedisConnection:
    """One TCP connection to Redis speaking RESP2 (no reconnection: see :mod:`.link`).

    Sending is safe from several tasks at once; :meth:`receive` must have one reader.
    """

    def __init__(self, stream: anyio.abc.ByteStream, parser: RespParser | None = None) -> None:
        self._stream = stream
        self._parser = parser or RespParser()
        self._send_lock = anyio.Lock()

    @classmethod
    async def open(cls, address: RedisAddress, *, timeout: float) -> RedisConnection:
        """Connect, authenticate and select the database.

        Raises:
            RedisUnavailable: no connection within ``timeout`` seconds, or it failed.
            RedisReplyError: Redis refused ``AUTH`` or ``SELECT``.
        """
        try:
            with anyio.fail_after(timeout):
                stream = await anyio.connect_tcp(address.host, address.port)
        except (OSError, TimeoutError) as exc:
            raise RedisUnavailable(f"cannot connect to {address}: {exc or 'timed out'}") from exc
        conn = cls(stream)
        try:
            with anyio.fail_after(timeout):
                if address.password is not None:
                    auth = [address.username] if address.username else []
                    await conn.execute("AUTH", *auth, address.password)
                if address.db:
                    await conn.execute("SELECT", address.db)
        except TimeoutError:
            await conn.aclose()
            raise RedisUnavailable(f"{address} did not answer AUTH/SELECT in time") from None
        except BaseException:
            await conn.aclose()
            raise
        return conn

    async def send(self, *args: str | bytes | int) -> None:
        """Send one command without waiting for its reply.

        Raises:
            RedisUnavailable: the connection is broken.
        """
        data = encode_command(*args)
        try:
            async with self._send_lock:
                await self._stream.send(data)
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise RedisUnavailable(f"lost the connection to Redis: {exc!r}") from exc

    async def receive(self) -> Reply:
        """The next reply or pushed message (an error reply is returned, not raised).

        Raises:
            RedisUnavailable: the connection closed or broke.
            RemoteProtocolError: Redis sent something that is not RESP2.
        """
        while True:
            reply = self._parser.next_reply()
            if reply is not NEED_DATA:
                return reply
            try:
                data = await self._stream.receive(65536)
            except anyio.EndOfStream:
                raise RedisUnavailable("Redis closed the connection") from None
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                raise RedisUnavailable(f"lost the connection to Redis: {exc!r}") from exc
            self._parser.feed(data)

    async def execute(self, *args: str | bytes | int) -> Reply:
        """Send a command and return its reply (not for a subscribed connection).

        Raises:
            RedisReplyError: Redis answered with an error.
            RedisUnavailable: the connection is broken.
            RemoteProtocolError: Redis sent something that is not RESP2.
        """
        await self.send(*args)
        reply = await self.receive()
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply

    async def aclose(self) -> None:
        """Close the connection (never raises; shielded, so it also runs when cancelled)."""
        errors = (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError)
        with anyio.CancelScope(shield=True), contextlib.suppress(*errors):
            await self._stream.aclose()
