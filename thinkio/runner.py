"""Serving until a signal: the one loop ``thinkio run``, ``App.run`` and the cluster share.

The first SIGINT or SIGTERM starts a graceful shutdown (sessions end, handlers finish); a
second one cancels what is left. Errors come out unwrapped from the task groups that carried
them, so a caller sees ``PortInUse`` or ``ConfigError`` itself, not an exception group.

A process thinkio runs (not one it is embedded in) also gives large freed buffers back to the
operating system: see :func:`return_large_blocks`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
from anyio.abc import TaskStatus

from . import loops
from .errors import ThinkioError
from .net import BoundAddress

__all__ = ("leaf_error", "return_large_blocks", "run_until_signalled", "serve_until_signalled")

log = logging.getLogger("thinkio")

#: Starts serving, reports the bound address through ``task_status``, returns once stopped.
Serve = Callable[..., Awaitable[None]]


#: glibc's mallopt parameter for the size from which blocks are mmap'ed.
_M_MMAP_THRESHOLD = -3
_LARGE_BLOCK = 128 * 1024


def return_large_blocks() -> bool:
    """Have blocks of 128 KiB and more (large payloads, a slow consumer's backlog) mapped on
    their own, so freeing them gives the memory back to the operating system at once.

    glibc does that by default, but raises the threshold after the first such block is freed,
    so later large blocks come from the heap and the process keeps their memory after it
    freed them (measured: a stalled reader's 20 MB stayed in the RSS after its connection was
    cut; with the threshold fixed, the RSS went back to where it was). Returns whether the
    setting took effect (only on glibc; elsewhere nothing is changed).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _LARGE_BLOCK))
    except (OSError, AttributeError):
        return False


def leaf_error(error: BaseException) -> BaseException:
    """The one error inside nested exception groups (task groups wrap what they raise)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    if isinstance(error, BaseExceptionGroup):
        mine = [e for e in error.exceptions if isinstance(leaf_error(e), ThinkioError)]
        if mine:
            return leaf_error(mine[0])
    return error


class _Ready(TaskStatus[BoundAddress]):
    """Hands the bound address to a callback when the server reports it started."""

    def __init__(self, callback: Callable[[BoundAddress], None] | None) -> None:
        self._callback = callback

    def started(self, value: BoundAddress | None = None) -> None:
        if self._callback is not None and value is not None:
            self._callback(value)


async def serve_until_signalled(
    serve: Serve,
    shutdown: Callable[[], Coroutine[Any, Any, None]],
    on_ready: Callable[[BoundAddress], None] | None = None,
) -> None:
    """``await serve(task_status=...)`` until SIGINT / SIGTERM, then ``await shutdown()``.

    Raises:
        Exception: whatever ``serve`` raised, unwrapped.
    """
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                received = 0
                async for signum in signals:
                    received += 1
                    name = signal.Signals(signum).name
                    if received == 1:
                        log.info(
                            "%s: shutting down (a second Ctrl-C or SIGTERM stops at once)", name
                        )
                        tg.start_soon(shutdown)
                    else:
                        log.warning("%s again: stopping at once", name)
                        tg.cancel_scope.cancel()

        tg.start_soon(watch_signals)
        try:
            await serve(task_status=_Ready(on_ready))
        except Exception as exc:  # re-raised below, unwrapped from the task group
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure


def run_until_signalled(
    serve: Serve,
    shutdown: Callable[[], Coroutine[Any, Any, None]],
    *,
    loop: str | None = None,
    on_ready: Callable[[BoundAddress], None] | None = None,
) -> None:
    """:func:`serve_until_signalled` on a new event loop (:mod:`thinkio.loops`).

    Raises:
        Exception: whatever ``serve`` raised, unwrapped from exception groups.
    """
    return_large_blocks()
    try:
        loops.run(serve_until_signalled, serve, shutdown, on_ready, loop=loop)
    except BaseExceptionGroup as group:
        raise leaf_error(group) from None
