"""One socket's emit with Node's flags: ``socket.timeout(s)`` and ``socket.compress(flag)``.

They hold the socket they were made from and call back into it; they know it only by the
few members below (:class:`EmitTarget`), so this module does not import the socket's.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ("EmitTarget", "FlaggedEmit", "TimedEmit")


class _Cooperates(Protocol):
    async def cooperate(self) -> None: ...


class EmitTarget(Protocol):
    """What the emits need of a :class:`~thinkio.server.Socket`."""

    @property
    def namespace(self) -> _Cooperates: ...

    def send_event(self, data: list[Any], *, compress: bool = True) -> None: ...

    async def call(
        self, event: str, *args: Any, timeout: float | None = 5.0, compress: bool = True
    ) -> list[Any]: ...


class TimedEmit:
    """``socket.timeout(seconds)``: an emit to one socket that waits for the client's ack.

    Chains with ``compress`` either way, as in Node:
    ``socket.timeout(1).compress(False).emit_with_ack(...)`` and
    ``socket.compress(False).timeout(1).emit_with_ack(...)`` are the same emit.
    """

    __slots__ = ("_compress", "_seconds", "_socket")

    def __init__(self, socket: EmitTarget, seconds: float, *, compress: bool = True) -> None:
        if not seconds >= 0:
            raise ValueError(f"timeout: expected seconds >= 0, got {seconds!r}")
        self._socket = socket
        self._seconds = seconds
        self._compress = compress

    def compress(self, value: bool = True) -> TimedEmit:
        """Node's ``compress(flag)`` on this emit (see :meth:`Socket.compress`)."""
        return TimedEmit(self._socket, self._seconds, compress=bool(value))

    async def emit_with_ack(self, event: str, *args: Any) -> list[Any]:
        """Send the event and return the values of the client's ack (Node's
        ``socket.timeout(ms).emitWithAck``).

        Raises:
            AckTimeout: no ack in time, or the socket is (or gets) disconnected first.
        """
        return await self._socket.call(event, *args, timeout=self._seconds, compress=self._compress)


class FlaggedEmit:
    """``socket.compress(flag)``: an emit to one socket with Node's ``compress`` flag."""

    __slots__ = ("_compress", "_socket")

    def __init__(self, socket: EmitTarget, compress: bool) -> None:
        self._socket = socket
        self._compress = compress

    async def emit(self, event: str, *args: Any) -> None:
        """:meth:`Socket.emit` with the flag."""
        self.emit_nowait(event, *args)
        await self._socket.namespace.cooperate()

    def emit_nowait(self, event: str, *args: Any) -> None:
        """:meth:`Socket.emit_nowait` with the flag."""
        self._socket.send_event([event, *args], compress=self._compress)

    def timeout(self, seconds: float) -> TimedEmit:
        """:meth:`Socket.timeout` with the flag: ``await socket.compress(False).timeout(1)
        .emit_with_ack("e", big)``."""
        return TimedEmit(self._socket, seconds, compress=self._compress)

    async def call(self, event: str, *args: Any, timeout: float | None = 5.0) -> list[Any]:
        """:meth:`Socket.call` with the flag."""
        return await self._socket.call(event, *args, timeout=timeout, compress=self._compress)
