"""A time-bounded fuzzing run against one target, and the replay of a saved script.

:func:`fuzz` runs programs (:class:`~fuzz.net.machine.NetworkMachine`) in chunks, each with
its own seed derived from ``--seed``, until ``seconds`` have passed; a failure is shrunk for
at most :data:`SHRINK_SECONDS` more. It then prints what ran, each capability check's tally,
and every broken invariant with its shortest program, written to ``fuzz-findings/`` as a
script that ``python -m fuzz --replay FILE`` runs again.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, seed, settings
from hypothesis.errors import Flaky
from hypothesis.reporting import with_reporter
from hypothesis.stateful import run_state_machine_as_test

from .checks import Checks, Finding
from .executor import Executor
from .machine import Campaign, NetworkMachine
from .sessions import Target
from .steps import dump, load, render

__all__ = ("fuzz", "replay")

#: Programs per Hypothesis call: small, so the clock is looked at often.
CHUNK = 4
#: The most seconds a failure may be shrunk after the run's time is up (and at most as long
#: as the run itself, so a short CI run stays short).
SHRINK_SECONDS = 60.0


def _settings(steps: int) -> settings:
    return settings(
        max_examples=CHUNK,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        print_blob=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )


def fuzz(
    target: Target,
    *,
    seconds: float,
    run_seed: int | None,
    steps: int = 25,
    findings_dir: Path = Path("fuzz-findings"),
    traceback_count: Callable[[], int] | None = None,
) -> int:
    """Fuzz ``target`` for ``seconds``; print the report. The exit status (1: a finding).

    Args:
        target: the server.
        seconds: how long to generate programs.
        run_seed: the run's seed (None: a random one, printed).
        steps: the most steps per program.
        findings_dir: where failing scripts are written.
        traceback_count: a callable giving the server log's traceback count, if known.
    """
    run_seed = random.randrange(2**32) if run_seed is None else run_seed
    started = time.monotonic()
    shrink = min(SHRINK_SECONDS, seconds)
    campaign = Campaign(target, Checks(target.lacks), stop_at=started + seconds + shrink)
    count_before = traceback_count() if traceback_count is not None else None
    print(f"fuzz: {target.url} for {seconds:.0f} s, seed {run_seed}, lacks "
          f"{', '.join(sorted(target.lacks)) or 'nothing'}", flush=True)  # fmt: skip
    chunk = 0
    harness_errors = 0
    try:
        while time.monotonic() < started + seconds:
            machine = type("Program", (NetworkMachine,), {"campaign": campaign})
            seed(run_seed * 100_003 + chunk)(machine)
            chunk += 1
            try:
                with with_reporter(lambda message: None):
                    run_state_machine_as_test(machine, settings=_settings(steps))
            except Exception as exc:
                if not _is_finding(exc):
                    harness_errors += 1
                    print("fuzz: the harness itself failed (a bug in fuzz/net):", flush=True)
                    traceback.print_exception(exc)
            # An invariant broken once is only counted from now on, so the rest of the run
            # looks for other ones instead of shrinking the same failure again.
            campaign.checks.mute(set(campaign.failures))
    finally:
        campaign.stop()
    tracebacks = None
    if traceback_count is not None and count_before is not None:
        tracebacks = traceback_count() - count_before
    status = _report(campaign, time.monotonic() - started, run_seed, tracebacks, findings_dir)
    return 2 if harness_errors else status


def _is_finding(exc: BaseException) -> bool:
    """A Finding, or Hypothesis's report that one did not fail the same way when replayed
    (a failure that depends on timing: the shortest program that did fail is kept)."""
    if isinstance(exc, Finding):
        return True
    if isinstance(exc, BaseExceptionGroup):
        inner = list(exc.exceptions)
        return any(_is_finding(e) for e in inner) and all(
            _is_finding(e) or isinstance(e, Flaky) for e in inner
        )
    return False


def _report(campaign: Campaign, elapsed: float, run_seed: int, tracebacks: int | None,
            findings_dir: Path) -> int:  # fmt: skip
    print(f"fuzz: {campaign.programs} programs, {campaign.steps} steps in {elapsed:.0f} s "
          f"(seed {run_seed})")  # fmt: skip
    failed = bool(campaign.failures)
    if tracebacks is not None:
        print(f"  server tracebacks: {tracebacks}")
        try:
            campaign.checks.require(
                "tracebacks",
                tracebacks == 0,
                f"the server logged {tracebacks} tracebacks (see its log)",
            )
        except Finding as broken:
            failed = True
            print(f"FINDING {broken}")
    for line in campaign.checks.summary():
        print(f"  {line}")
    if campaign.bystander is not None:
        print(f"  bystander round trips: {campaign.bystander.round_trips}")
    for check, (finding, steps) in sorted(campaign.failures.items()):
        findings_dir.mkdir(parents=True, exist_ok=True)
        path = findings_dir / f"{check}-{run_seed}.json"
        path.write_text(dump(steps, url=campaign.target.url, finding=str(finding),
                             lacks=sorted(campaign.target.lacks)))  # fmt: skip
        print(f"\nFINDING {finding}\n  shortest program ({len(steps)} steps), saved as {path}:")
        for step in steps:
            print(f"    {render(step)}")
        print(f"  replay: python -m fuzz --url URL --replay {path}")
    print("fuzz: " + ("FAIL" if failed else "PASS"), flush=True)
    return 1 if failed else 0


def replay(target: Target, script: Path) -> int:
    """Run a saved script against ``target``; 1 if it still breaks an invariant."""
    steps, meta = load(script.read_text())
    print(f"replay: {len(steps)} steps from {script} against {target.url} "
          f"(recorded: {meta.get('finding', '?')})")  # fmt: skip
    campaign = Campaign(target, Checks(target.lacks), stop_at=time.monotonic() + 3600)
    executor = Executor(target, campaign.checks, campaign.fresh_bystander())
    try:
        for step in steps:
            print(f"  {render(step)}", flush=True)
            executor.run(step)
        executor.finish()
    except Finding as finding:
        print(f"replay: FAIL {finding}")
        return 1
    finally:
        executor.close()
        campaign.stop()
    for line in campaign.checks.summary():
        print(f"  {line}")
    print("replay: PASS (the script no longer breaks an invariant)")
    return 0
