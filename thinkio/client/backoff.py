"""Reconnection: exponential backoff with jitter, as socket.io-client computes it, and the
retry loop that uses it.

Attempt ``n`` (counting from 1) waits ``delay * 2 ** (n - 1)`` seconds, moved up or down by at
most ``randomization_factor`` of itself so that many clients dropped at once do not all come
back at the same instant, and never more than ``delay_max``. :class:`Backoff` is pure: the
random source is a parameter, so tests pin it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from ..errors import ConfigError, ConnectionFailed

__all__ = ("Backoff", "retry")


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before each reconnection attempt.

    Attributes:
        delay: seconds before the first attempt (socket.io-client: 1 s).
        delay_max: the longest wait (socket.io-client: 5 s).
        randomization_factor: jitter, 0 (none) to 1 (socket.io-client: 0.5).
        rand: a source of floats in [0, 1).
    """

    delay: float = 1.0
    delay_max: float = 5.0
    randomization_factor: float = 0.5
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if not self.delay >= 0:
            raise ConfigError(f"reconnection_delay: expected seconds >= 0, got {self.delay!r}")
        if not self.delay_max >= self.delay:
            raise ConfigError(
                f"reconnection_delay_max: expected >= reconnection_delay, got {self.delay_max!r}"
            )
        if not 0 <= self.randomization_factor <= 1:
            raise ConfigError(
                "randomization_factor: expected a number in [0, 1], "
                f"got {self.randomization_factor!r}"
            )

    def duration(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1, 2, ...)."""
        # Cap the exponent: past ~64 doublings the value is capped by delay_max anyway.
        base = min(self.delay * 2.0 ** min(max(attempt, 1) - 1, 64), self.delay_max)
        if self.randomization_factor:
            base *= 1 + self.randomization_factor * (2 * self.rand() - 1)
        return max(0.0, min(base, self.delay_max))


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
