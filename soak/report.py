"""What a scenario reports: its figures, its goal, and whether the goal held."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ("Result", "mib")


def mib(n: int) -> str:
    """Bytes as ``12.3 MB`` (MiB)."""
    return f"{n / (1024 * 1024):.1f} MB"


@dataclass
class Result:
    """One scenario on one backend.

    Attributes:
        scenario: the scenario's name (``churn``...).
        backend: ``asyncio`` or ``trio``.
        figures: name -> value, in the order they print.
        goal: the goal in words.
        passed: whether the goal held.
        notes: what helps to understand a failure (a server's first traceback, reasons).
        known: the failure is a known one (``--known-failure``): printed, not fatal.
    """

    scenario: str
    backend: str
    figures: dict[str, object] = field(default_factory=dict)
    goal: str = ""
    passed: bool = False
    notes: list[str] = field(default_factory=list)
    known: bool = False
    seconds: float = 0.0

    @property
    def name(self) -> str:
        """``scenario[backend]``."""
        return f"{self.scenario}[{self.backend}]"

    def verdict(self) -> str:
        """PASS, FAIL, FAIL (known) or PASS (listed as a known failure)."""
        if self.passed:
            return "PASS (listed as a known failure: remove it)" if self.known else "PASS"
        return "FAIL (known)" if self.known else "FAIL"

    def fatal(self) -> bool:
        """Whether this result makes the run fail: an unexpected failure, or a known failure
        that passes (so the list of known failures stays true)."""
        return self.passed == self.known

    def line(self) -> str:
        """The one figures line."""
        figures = ", ".join(f"{k} {v}" for k, v in self.figures.items())
        return (
            f"{self.name}: {figures} -- {self.verdict()} (goal: {self.goal}; {self.seconds:.0f} s)"
        )
