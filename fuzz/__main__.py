"""``python -m fuzz``: the network fuzzer, pointed at a live Socket.IO server.

::

    python -m fuzz --url http://127.0.0.1:3000 [--minutes N] [--seed S] [--kind KIND]
    python -m fuzz --start thinkio:asyncio --start thinkio:trio --start node [--seconds N]
    python -m fuzz --url URL --replay fuzz-findings/reply-1234.json

The server must be set up as ``protocol/README.md`` says (``/engine.io/`` echo,
``/socket.io/`` with the suite's handlers, ``/restricted/``). ``--start`` starts thinkio's
suite server (``python -m protocol.server``) or Node's reference server
(``protocol/node_reference``) itself, fuzzes it, counts the tracebacks in its log, and stops
it. ``--kind`` / ``--lacks`` declare what the target lacks (see ``fuzz/net/checks.py``).
Exit status: 0 if no invariant broke, 1 if one did, 2 if the harness itself failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .net.checks import CAPABILITIES, KINDS
from .net.runner import fuzz, replay
from .net.sessions import Target

STARTABLE = ("thinkio:asyncio", "thinkio:trio", "node")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the server to fuzz, e.g. http://127.0.0.1:3000")
    where.add_argument(
        "--start",
        action="append",
        choices=STARTABLE,
        help="start this server and fuzz it (repeatable: one after the other)",
    )
    time_group = parser.add_mutually_exclusive_group()
    time_group.add_argument("--minutes", type=float, help="how long per target (default 1)")
    time_group.add_argument("--seconds", type=float, help="how long per target, in seconds")
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (default: random)")
    parser.add_argument("--steps", type=int, default=25, help="most steps per program")
    parser.add_argument(
        "--kind",
        choices=sorted(KINDS),
        default=None,
        help="what the target is known to lack (default: strict for --url, "
        "thinkio / node for a started server)",
    )
    parser.add_argument(
        "--lacks",
        action="append",
        default=[],
        choices=sorted(CAPABILITIES),
        metavar="CAPABILITY",
        help="one more capability the target lacks",
    )
    parser.add_argument(
        "--server-log",
        type=Path,
        default=None,
        help="the --url server's log: its new tracebacks count as findings",
    )
    parser.add_argument(
        "--replay", type=Path, default=None, help="run this saved script instead of fuzzing"
    )
    parser.add_argument(
        "--findings",
        type=Path,
        default=Path("fuzz-findings"),
        help="where failing scripts are written (default fuzz-findings/)",
    )
    return parser


def _run_one(args: argparse.Namespace, url: str, kind: str,
             traceback_count: Callable[[], int] | None = None) -> int:  # fmt: skip
    target = Target(url.rstrip("/"), KINDS[kind] | frozenset(args.lacks))
    if args.replay is not None:
        return replay(target, args.replay)
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes or 1)
    return fuzz(
        target,
        seconds=seconds,
        run_seed=args.seed,
        steps=args.steps,
        findings_dir=args.findings,
        traceback_count=traceback_count,
    )


def main(argv: list[str] | None = None) -> int:
    """Fuzz (or replay); the exit status."""
    args = _parser().parse_args(argv)
    if args.url:
        count = None
        if args.server_log is not None:
            log: Path = args.server_log

            def count() -> int:
                return log.read_text(errors="replace").count("Traceback (most recent call last)")

        return _run_one(args, args.url, args.kind or "strict", count)
    from soak.processes import start_protocol_server, start_server  # the suite's launcher

    logs = Path(tempfile.mkdtemp(prefix="fuzz-"))
    worst = 0
    for name in args.start:
        if name == "node":
            server = start_server(
                "node", ["node", "protocol/node_reference/server.js", "--port", "0"], logs
            )
        else:
            backend = name.split(":")[1]
            server = start_protocol_server(f"thinkio-{backend}", logs, backend=backend)
        print(f"\n=== {name} ({server.url}; log {server.log_path})", flush=True)
        try:
            status = _run_one(args, server.url, args.kind or name.split(":")[0], server.tracebacks)
            if server.tracebacks():
                print(server.first_traceback())
        finally:
            server.stop()
        worst = max(worst, status)
    return worst


if __name__ == "__main__":
    sys.exit(main())
