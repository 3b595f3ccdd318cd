"""``python -m soak [--quick] [--only NAME ...] [--backend B ...] [--known-failure NAME ...]``

Runs every scenario on every backend (asyncio and trio), one after the other, printing each
scenario's figures line as it ends and a summary at the end. Exit status 1 if a goal failed
(a ``--known-failure`` that fails is printed but not fatal; one that passes is fatal, so the
list is kept true), 0 otherwise. Logs of every process started go to ``--logs``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import churn, cluster_kill, flood, redis_restart, slowloris, stalled
from .profiles import FULL, QUICK, Profile
from .report import Result

Scenario = Callable[[str, Profile, Path], Result]

#: Name -> scenario, in the order they run.
SCENARIOS: dict[str, Scenario] = {
    "flood": flood.run,
    "churn": churn.run,
    "stalled": stalled.run,
    "slowloris": slowloris.run_slowloris,
    "fd-exhaustion": slowloris.run_fd_exhaustion,
    "redis-restart": redis_restart.run,
    "worker-kill": cluster_kill.run,
}
BACKENDS = ("asyncio", "trio")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the short profile CI runs")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        default=[],
        metavar="NAME",
        help=f"run only these scenarios: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        default=[],
        help="run only on these backends (default: both)",
    )
    parser.add_argument(
        "--known-failure",
        action="append",
        default=[],
        metavar="NAME[:BACKEND]",
        help="a scenario expected to fail today (printed, not fatal)",
    )
    parser.add_argument(
        "--logs",
        type=Path,
        default=None,
        help="folder for the servers' logs (default: a new temporary folder)",
    )
    return parser


def _known(name: str, backend: str, known: list[str]) -> bool:
    return name in known or f"{name}:{backend}" in known


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios; the exit status."""
    args = _parser().parse_args(argv)
    profile = QUICK if args.quick else FULL
    logs = args.logs or Path(tempfile.mkdtemp(prefix="soak-"))
    names = args.only or list(SCENARIOS)
    backends = args.backend or list(BACKENDS)
    print(
        f"soak: profile {profile.name}, scenarios {', '.join(names)}, "
        f"backends {', '.join(backends)}, logs in {logs}",
        flush=True,
    )
    results: list[Result] = []
    started = time.monotonic()
    for name in names:
        for backend in backends:
            began = time.monotonic()
            try:
                result = SCENARIOS[name](backend, profile, logs)
            except Exception as exc:  # a scenario that cannot run is a failure, with why
                result = Result(name, backend, goal="the scenario runs")
                result.notes.append("".join(traceback.format_exception(exc))[-1500:])
            result.seconds = time.monotonic() - began
            result.known = _known(name, backend, args.known_failure)
            results.append(result)
            print(result.line(), flush=True)
            for note in result.notes:
                print("    " + note.replace("\n", "\n    "), flush=True)
    fatal = [r for r in results if r.fatal()]
    print(f"\nsoak summary ({time.monotonic() - started:.0f} s, profile {profile.name}):")
    for r in results:
        print(f"  {r.name:28} {r.verdict()}")
    print(f"  {len(results) - len(fatal)} of {len(results)} as expected", flush=True)
    return 1 if fatal else 0


if __name__ == "__main__":
    sys.exit(main())
