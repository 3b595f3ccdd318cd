"""thinkio side by side with python-socketio and Node's socket.io, in one run.

    python -m bench                      # every scenario on every server, table on stdout
    python -m bench --quick              # a smoke run with small counts (< 1 minute)
    python -m bench --write-docs         # ... and docs/performance.md + .png (committed tree)
    python -m bench --servers thinkio-uvloop,node --scenarios ack-10,bcast-1000 --repeat 1

Each (scenario, server) pair gets a fresh server process on 127.0.0.1 (port 0), pinned to one
CPU, and a fresh load generator (``bench/load.py``) pinned to another. The generator samples
the server's CPU and its own when the measured phase starts and ends. Scenarios run
interleaved across servers (server order rotated on each repeat) so drift on a shared machine
hits every column alike; the table shows the median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import compiled
from .procs import BenchError, Processes
from .report import chart, dirty_files, environment, loadavg, markdown_doc
from .scenarios import (
    EXTRA_SERVERS,
    FULL,
    NODE_DIR,
    QUICK,
    ROOT,
    SERVERS,
    Scenario,
    ServerSpec,
)
from .table import LEGEND, Results, derive, fmt, partial, text_table

DOCS = ROOT / "docs"
DOC_NAME, CHART_NAME = "performance.md", "performance.png"


def read_event(proc: Any, deadline: float) -> dict[str, Any]:
    """The next JSON event from the load generator (other lines are ignored)."""
    while True:
        line = proc.read_line(deadline)
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "event" in event:
            if event["event"] == "error":
                raise BenchError(f"load generator: {event.get('message')}")
            return dict(event)


def generator_argv(config: dict[str, Any]) -> tuple[str, ...]:
    return (sys.executable, "-m", "bench.load", json.dumps(config))


def measure(
    procs: Processes, server: ServerSpec, scenario: Scenario, cores: tuple[int, int] | None
) -> dict[str, Any]:
    """Run one scenario against a fresh server; the generator's figures plus derived ones."""
    server_cpu, gen_cpu = cores if cores else (None, None)
    env = compiled.server_env(server.compiled, procs.env)
    proc, port = procs.start_server(server.key, server.argv, cpu=server_cpu, env=env)
    load = None
    try:
        config = {
            "url": f"http://127.0.0.1:{port}",
            "server_pid": proc.pid,
            **scenario.load,
            **server.load,
        }
        load = procs.start("load", generator_argv(config), stdin=True, cpu=gen_cpu)
        setup = float(config.get("setup", 60))
        event = read_event(load, time.monotonic() + setup + 30)
        if event["event"] != "ready":
            raise BenchError(f"load generator: expected 'ready', got {event}")
        load.write_line("go")
        event = read_event(load, time.monotonic() + float(config["duration"]) + setup + 30)
        if event["event"] != "result":
            raise BenchError(f"load generator: expected 'result', got {event}")
        if proc.popen.poll() is not None:
            raise BenchError(f"{server.key} exited during the run: {proc.stderr_tail()}")
    except BenchError as exc:
        tails = [t for t in (proc.stderr_tail(), load.stderr_tail() if load else "") if t]
        raise BenchError("\n".join([str(exc), *tails])) from None
    finally:
        if load is not None:
            procs.stop(load)
        procs.stop(proc, grace=0.5)  # a graceful shutdown is not measured: don't wait for it
    return derive(scenario, event)


def headline(scenario: Scenario, result: dict[str, Any]) -> str:
    metric = scenario.metrics[0]
    value = result.get(metric.key)
    text = f"{fmt(value)} {metric.label}" if value is not None else "no figure"
    text += f", server {fmt(result.get('cpu_us_per_op'))} µs/op"
    text += f", generator {result.get('gen_pct', 0):.0f}% of its core"
    return text + (" (partial)" if partial(scenario, result) else "")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help=f"comma-separated, of: {', '.join(SERVERS)}; on request only: "
                             f"{', '.join(EXTRA_SERVERS)}")  # fmt: skip
    parser.add_argument("--scenarios", default="", help="comma-separated scenario keys")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per (scenario, server); default 3, quick 1")  # fmt: skip
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every client/round/message count (0 < SCALE <= 1)")  # fmt: skip
    parser.add_argument("--write-docs", action="store_true",
                        help=f"write docs/{DOC_NAME} and docs/{CHART_NAME} (refused when "
                        "thinkio/ or bench/ has uncommitted changes)")  # fmt: skip
    parser.add_argument("--out", metavar="DIR",
                        help=f"write {DOC_NAME} and {CHART_NAME} into DIR (any tree)")  # fmt: skip
    parser.add_argument("--json", metavar="PATH", help="write every raw result as JSON")
    parser.add_argument("--cores", default="auto", metavar="SERVER,GENERATOR",
                        help="the CPUs to pin server and generator to (default: the first "
                        "two this process may use)")  # fmt: skip
    parser.add_argument("--no-pin", action="store_true", help="do not pin (not comparable)")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if not 1 <= args.repeat <= 20:
        parser.error("--repeat: between 1 and 20")
    if not 0 < args.scale <= 1:
        parser.error("--scale: above 0, at most 1")
    return args


def select(args: argparse.Namespace) -> tuple[list[Scenario], list[ServerSpec]]:
    profile = QUICK if args.quick else FULL
    servers = []
    for key in filter(None, (k.strip() for k in args.servers.split(","))):
        spec = SERVERS.get(key) or EXTRA_SERVERS.get(key)
        if spec is None:
            known = ", ".join([*SERVERS, *EXTRA_SERVERS])
            raise SystemExit(f"unknown server {key!r}; known: {known}")
        servers.append(spec)
    by_key = {s.key: s for s in profile}
    scenarios = list(profile)
    if args.scenarios:
        scenarios = []
        for key in filter(None, (k.strip() for k in args.scenarios.split(","))):
            if key not in by_key:
                raise SystemExit(f"unknown scenario {key!r}; known: {', '.join(by_key)}")
            scenarios.append(by_key[key])
    if not servers or not scenarios:
        raise SystemExit("nothing to run")
    return [s.scaled(args.scale) for s in scenarios], servers


def pinning(args: argparse.Namespace, log: Any = sys.stderr) -> tuple[int, int] | None:
    """The (server, generator) CPUs, or None when not pinning."""
    if args.no_pin:
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if args.cores == "auto":
        if len(allowed) < 2 or shutil.which("taskset") is None:
            print("not pinning: needs 2 CPUs and taskset (util-linux); figures are not "
                  "comparable with pinned runs", file=log)  # fmt: skip
            return None
        return allowed[0], allowed[1]
    try:
        server, gen = (int(c) for c in args.cores.split(","))
    except ValueError:
        raise SystemExit("--cores: two CPU numbers, e.g. 0,1") from None
    if server == gen or server not in allowed or gen not in allowed:
        raise SystemExit(f"--cores: two different CPUs among {allowed}; or --no-pin")
    if shutil.which("taskset") is None:
        raise SystemExit("taskset is not installed (Debian: util-linux); or --no-pin")
    return server, gen


def check_prerequisites(servers: Sequence[ServerSpec]) -> None:
    if any(s.key == "node" for s in servers):
        if shutil.which("node") is None:
            raise SystemExit("node is not on PATH: the Node socket.io server needs it")
        if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
            raise SystemExit("bench/node/node_modules is missing: run `make node-deps`")
    if any(s.compiled for s in servers):
        why = compiled.verify(dict(os.environ))
        if why is not None:
            raise SystemExit(f"{why} (or leave the compiled servers out: --servers)")


def _git_head(root: Path) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def refuse_dirty_docs(root: Path = ROOT) -> None:
    """SystemExit, saying why, when ``root`` has uncommitted changes under thinkio/ or bench/."""
    if not _git_head(root):
        raise SystemExit(f"--write-docs refused: {root} is not a git checkout with a commit")
    dirty = dirty_files(root)
    if dirty:
        shown = ", ".join(dirty[:8]) + (" ..." if len(dirty) > 8 else "")
        raise SystemExit(
            f"--write-docs refused: thinkio/ or bench/ has uncommitted changes ({shown}). "
            "docs/performance.md must describe a commit: commit them first, or leave out "
            "--write-docs (make bench BENCH_ARGS=) or write elsewhere with --out DIR."
        )


def run(args: argparse.Namespace, log: Any = sys.stderr) -> tuple[Results, dict[str, str]]:
    scenarios, servers = select(args)
    check_prerequisites(servers)
    cores = pinning(args)
    if cores is not None:
        os.sched_setaffinity(0, {cores[1]})  # the harness stays off the server's CPU
    env = environment(cores)
    results = Results(scenarios, servers)
    total = args.repeat * len(scenarios) * len(servers)
    done = 0
    with Processes(ROOT) as procs:
        for rep in range(args.repeat):
            shift = rep % len(servers)
            order = [*servers[shift:], *servers[:shift]]
            for scenario in scenarios:
                for server in order:
                    done += 1
                    if scenario.polling and not server.polling:
                        continue
                    print(f"[{done}/{total}] {scenario.key} on {server.key} ...", end=" ",
                          flush=True, file=log)  # fmt: skip
                    started = time.monotonic()
                    try:
                        result = measure(procs, server, scenario, cores)
                    except BenchError as exc:
                        result = {"error": str(exc)}
                        print(f"FAILED: {exc}", file=log, flush=True)
                    else:
                        print(f"{headline(scenario, result)} "
                              f"({time.monotonic() - started:.1f} s)", file=log, flush=True)  # fmt: skip
                    results.add(scenario, server, result)
    env["loadavg_end"] = loadavg()
    return results, env


def write_report(
    results: Results, env: dict[str, str], command: str, args: argparse.Namespace, folder: Path
) -> Path:
    chart_name: str | None = CHART_NAME
    try:
        chart(results, folder / CHART_NAME)
    except ValueError as exc:  # a run without thinkio or without a reference: no ratios
        print(f"no chart: {exc}", file=sys.stderr)
        chart_name = None
    path = folder / DOC_NAME
    path.write_text(markdown_doc(results, env, command, args.repeat, args.quick, chart_name))
    return path


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through Processes, which kills every child


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    if args.list:
        for scenario in QUICK if args.quick else FULL:
            print(f"{scenario.key:12} {scenario.describe}")
        return 0
    if args.write_docs:
        refuse_dirty_docs()
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    results, env = run(args)
    print()
    print(text_table(results.rows()))
    print()
    print(LEGEND)
    print()
    print("CPU use during the measured phase, % of one core: server (+wait) / generator (+wait)")
    print(text_table(results.usage_rows()))
    checks = results.all_checks()
    print(f"\nissue 8 targets: {sum(c.holds for c in checks)} of {len(checks)} hold")
    for error in results.errors():
        print(f"failed: {error}")
    if args.json:
        raw = {
            "command": command,
            "environment": env,
            "runs": {f"{sc} @ {srv}": runs for (sc, srv), runs in results.runs.items()},
        }
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")
    for folder in ([DOCS] if args.write_docs else []) + ([Path(args.out)] if args.out else []):
        if folder == DOCS:
            refuse_dirty_docs()  # still committed after the run
        folder.mkdir(parents=True, exist_ok=True)
        print(f"wrote {write_report(results, env, command, args, folder)}")
    return 1 if results.errors() else 0


if __name__ == "__main__":
    sys.exit(main())
