"""Exponential backoff: how long to wait before the next try of something that keeps failing.

One value object for every retry loop in thinkio (the client's reconnection, the cluster's
worker restarts, the Redis Streams reader and writer, the accept loop out of descriptors):
attempt ``n`` (counting from 1) waits ``delay * 2 ** (n - 1)`` seconds, never more than
``delay_max``, moved up or down by at most ``randomization_factor`` of itself so that many
peers dropped at once do not all come back at the same instant (socket.io-client's
``backo2``). The caller counts the attempts; :class:`Backoff` is pure, and its random source
is a parameter, so tests pin it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ConfigError

__all__ = ("Backoff",)


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait before each attempt.

    Attributes:
        delay: seconds before the first attempt.
        delay_max: the longest wait.
        randomization_factor: jitter, 0 (none) to 1.
        rand: a source of floats in [0, 1).

    Raises:
        ConfigError: a negative delay, ``delay_max`` below ``delay``, or a factor out of
            [0, 1].
    """

    delay: float
    delay_max: float
    randomization_factor: float = 0.0
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if not self.delay >= 0:
            raise ConfigError(f"backoff delay: expected seconds >= 0, got {self.delay!r}")
        if not self.delay_max >= self.delay:
            raise ConfigError(
                f"backoff delay_max: expected seconds >= delay ({self.delay!r}), "
                f"got {self.delay_max!r}"
            )
        if not 0 <= self.randomization_factor <= 1:
            raise ConfigError(
                "backoff randomization_factor: expected a number in [0, 1], "
                f"got {self.randomization_factor!r}"
            )

    def duration(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1, 2, ...)."""
        # Cap the exponent: past ~64 doublings the value is capped by delay_max anyway.
        base = min(self.delay * 2.0 ** min(max(attempt, 1) - 1, 64), self.delay_max)
        if self.randomization_factor:
            base *= 1 + self.randomization_factor * (2 * self.rand() - 1)
        return max(0.0, min(base, self.delay_max))
