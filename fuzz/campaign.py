"""Run every fuzz property over and over for a fixed time: ``make fuzz-long SECONDS=600``.

Usage::

    python -m fuzz.campaign --seconds 600 [--profile long] [--only NAME ...]

Each *run* of a property is one Hypothesis call under the chosen profile (``long``: 1000
examples; a state machine gets a quarter of that in programs of up to 60 steps), with fresh
random choices each time. The campaign shares the time fairly: every property runs once,
then the one that has had the least time so far runs next, until the time is up. It never
starts a run it expects to overshoot the time by more than a few seconds (it times each
property's previous run), prints a progress line about every 30 s, and ends with a summary:
test-case executions per property, the total, and every failure with its falsifying example
and reproduction blob. A failing property is not run again (Hypothesis would replay the same
failure from its example database, ``.hypothesis/``, where the shrunk example is saved).

Exit status: 0 if nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import io
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis.reporting import with_reporter
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from fuzz.profiles import PROFILES

#: Modules of plain unit tests, not properties.
NOT_PROPERTIES = frozenset({"fuzz.test_regressions"})


@dataclass
class Property:
    """One fuzz property and what the campaign saw of it."""

    name: str
    run_once: Callable[[], None]
    count: Callable[[], int]
    runs: int = 0
    seconds: float = 0.0
    last_seconds: float = 0.0
    failure: str | None = None
    output: list[object] = field(default_factory=list)


def _given_property(name: str, test: Any) -> Property:
    counter = [0]
    inner = test.hypothesis.inner_test

    @functools.wraps(inner)
    def counted(*args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return inner(*args, **kwargs)

    # Hypothesis documents ``.hypothesis.inner_test`` as the hook to wrap a test's body.
    test.hypothesis.inner_test = counted
    return Property(name, test, lambda: counter[0])


#: A state machine run does a whole program of steps per test case: a campaign run of one
#: takes this fraction of the profile's max_examples, so its runs are as short as the others'.
MACHINE_SHARE = 4


def _machine_property(name: str, machine: type[RuleBasedStateMachine]) -> Property:
    start = getattr(machine, "examples_run", 0)

    def run_once() -> None:
        default = settings.default
        assert default is not None
        chunk = max(10, default.max_examples // MACHINE_SHARE)
        run_state_machine_as_test(machine, settings=settings(max_examples=chunk))

    return Property(name, run_once, lambda: getattr(machine, "examples_run", 0) - start)


def discover(only: list[str]) -> list[Property]:
    """Every @given test and state machine of the fuzz test modules."""
    import fuzz

    found: list[Property] = []
    for info in sorted(pkgutil.iter_modules(fuzz.__path__), key=lambda i: i.name):
        module_name = f"fuzz.{info.name}"
        if not info.name.startswith("test_") or module_name in NOT_PROPERTIES:
            continue
        module = importlib.import_module(module_name)
        for attr, obj in vars(module).items():
            name = f"{info.name}::{attr}"
            if only and not any(o in name for o in only):
                continue
            if (
                attr.startswith("test_")
                and hasattr(obj, "hypothesis")
                and getattr(obj, "__module__", None) == module_name
            ):
                found.append(_given_property(name, obj))
            elif (
                isinstance(obj, type)
                and issubclass(obj, RuleBasedStateMachine)
                and obj.__module__ == module_name
            ):
                found.append(_machine_property(name, obj))
    return found


def _run(prop: Property) -> None:
    captured: list[object] = []
    started = time.monotonic()
    try:
        with with_reporter(captured.append):
            prop.run_once()
    except Exception as exc:
        text = io.StringIO()
        traceback.print_exception(exc, file=text)
        prop.failure = text.getvalue()
        prop.output = captured
    finally:
        prop.last_seconds = time.monotonic() - started
        prop.seconds += prop.last_seconds
        prop.runs += 1


def campaign(
    seconds: float, props: list[Property], *, profile: str, progress_every: float = 30.0
) -> int:
    """Cycle through ``props`` for ``seconds``; print progress and a summary. Exit status."""
    start = time.monotonic()
    try:
        _cycle(start, seconds, props, progress_every)
    except KeyboardInterrupt:
        print("  interrupted", flush=True)
    return _summary(props, time.monotonic() - start, profile)


def _cycle(start: float, seconds: float, props: list[Property], progress_every: float) -> None:
    """Fair shares: always run the property that has had the least time so far (each one
    runs once before any runs twice), skipping runs expected to end past the deadline."""
    deadline = start + seconds
    next_progress = start + progress_every
    slack = 5.0  # how far past the deadline a run may be expected to go
    while True:
        now = time.monotonic()
        candidates = [
            p
            for p in props
            if p.failure is None and (not p.runs or now + p.last_seconds <= deadline + slack)
        ]
        if now >= deadline or not candidates:
            return
        prop = min(candidates, key=lambda p: (p.runs > 0, p.seconds, p.runs))
        _run(prop)
        if prop.failure is not None:
            print(f"  FAILED {prop.name} (run {prop.runs})", flush=True)
        now = time.monotonic()
        if now >= next_progress:
            total = sum(p.count() for p in props)
            failed = sum(p.failure is not None for p in props)
            print(
                f"  [{now - start:5.0f} s] {total} test cases in "
                f"{sum(p.runs for p in props)} runs, {failed} failing",
                flush=True,
            )
            next_progress = now + progress_every


def _summary(props: list[Property], elapsed: float, profile: str) -> int:
    width = max(len(p.name) for p in props)
    print(f"\nfuzz campaign summary ({elapsed:.0f} s, profile {profile!r})")
    print(f"  {'property'.ljust(width)}  {'runs':>5}  {'cases':>9}  {'seconds':>8}  result")
    for p in props:
        result = "ok" if p.failure is None else "FAILED"
        print(f"  {p.name.ljust(width)}  {p.runs:5d}  {p.count():9d}  {p.seconds:8.1f}  {result}")
    total = sum(p.count() for p in props)
    failures = [p for p in props if p.failure is not None]
    print(
        f"  total: {total} test cases in {sum(p.runs for p in props)} runs, "
        f"{len(failures)} failing properties"
    )
    for p in failures:
        print(f"\n=== FAILURE: {p.name} ===")
        if p.output:
            print("\n".join(str(line) for line in p.output))
        print(p.failure)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fuzz.campaign", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, required=True, help="how long to fuzz")
    parser.add_argument("--profile", choices=PROFILES, default="long", help="Hypothesis profile")
    parser.add_argument("--only", nargs="*", default=[], help="run properties matching these")
    parser.add_argument(
        "--progress", type=float, default=30.0, help="seconds between progress lines"
    )
    args = parser.parse_args(argv)
    # The profile must be loaded before the test modules are imported: @given captures the
    # default settings when it decorates.
    settings.load_profile(args.profile)
    props = discover(args.only)
    if not props:
        print("no fuzz property matches", file=sys.stderr)
        return 2
    print(
        f"fuzz campaign: {len(props)} properties, {args.seconds:g} s, profile {args.profile!r}",
        flush=True,
    )
    return campaign(args.seconds, props, profile=args.profile, progress_every=args.progress)


if __name__ == "__main__":
    sys.exit(main())
