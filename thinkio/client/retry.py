"""Reconnection: the retry loop of socket.io-client's ``Manager.reconnect``.

The waits between attempts come from a :class:`~thinkio._backoff.Backoff` (exponential, with
jitter); :data:`RECONNECTION_BACKOFF` holds socket.io-client's defaults.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from .._backoff import Backoff
from ..errors import ConnectionFailed

__all__ = ("RECONNECTION_BACKOFF", "retry")

#: socket.io-client's reconnection delays: 1 s, doubling up to 5 s, +-50 % jitter.
RECONNECTION_BACKOFF = Backoff(1.0, 5.0, 0.5)


async def retry(
    attempt: Callable[[], Awaitable[None]],
    *,
    backoff: Backoff,
    retries: int | None,
    first_now: bool,
    url: str,
    retry_on: tuple[type[BaseException], ...],
    on_error: Callable[[BaseException], Awaitable[None]],
) -> None:
    """Run ``attempt`` until it succeeds or the retries run out (socket.io-client's
    ``Manager.reconnect``).

    Args:
        attempt: one connection attempt.
        backoff: the delays.
        retries: how many attempts after the first failure; None for no limit.
        first_now: make the first attempt at once (a first connect) rather than after the
            first delay (a reconnection).
        url: for the error message.
        retry_on: the errors that count as a failed attempt; others propagate at once.
        on_error: called with each failed attempt's error.

    Raises:
        ConnectionFailed: every allowed attempt failed; the last error is its cause.
    """
    tries = waits = 0
    while True:
        if not first_now or tries:
            waits += 1
            await anyio.sleep(backoff.duration(waits))
        tries += 1
        try:
            await attempt()
            return
        except retry_on as exc:
            await on_error(exc)
            last = exc
        if retries is not None and waits >= retries:
            raise ConnectionFailed(url, tries, last) from last
