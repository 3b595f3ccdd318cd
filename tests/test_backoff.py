"""Backoff: exponential delays with jitter (socket.io-client's rule), the random source pinned."""

from __future__ import annotations

import pytest

from thinkio._backoff import Backoff
from thinkio.errors import ConfigError


def test_doubles_up_to_the_maximum_without_jitter() -> None:
    backoff = Backoff(1.0, 5.0, 0.0)
    assert [backoff.duration(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.duration(10_000) == 5.0  # no overflow


@pytest.mark.parametrize(("rand", "expected"), [(0.0, 0.5), (0.5, 1.0), (0.999999, 1.5)])
def test_jitter_moves_the_delay_by_at_most_the_factor(rand: float, expected: float) -> None:
    backoff = Backoff(1.0, 5.0, 0.5, rand=lambda: rand)
    assert backoff.duration(1) == pytest.approx(expected, abs=1e-5)


def test_jitter_never_exceeds_the_maximum() -> None:
    backoff = Backoff(1.0, 5.0, 1.0, rand=lambda: 0.999999)
    assert backoff.duration(8) == 5.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delay": -1.0},
        {"delay": 2.0, "delay_max": 1.0},
        {"randomization_factor": 1.5},
        {"delay": float("nan")},
    ],
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        Backoff(**{"delay": 1.0, "delay_max": 5.0, **kwargs})  # type: ignore[arg-type]
