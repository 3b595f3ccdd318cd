"""thinkio side by side with python-socketio (on uvicorn) and Node's socket.io, in one run.

    python -m bench                      # every scenario on every server, table on stdout
    python -m bench --quick              # a smoke run with small counts (< 1 minute)
    python -m bench --write-docs         # ... and the same table into docs/performance.md
    python -m bench --servers thinkio,node --scenarios ack-1,bcast-1000 --repeat 1

Each (scenario, server) pair gets a fresh server process on 127.0.0.1 (port 0) and a fresh
Node load generator (``bench/node/load.js``, socket.io-client 4.8), the same for every server.
The server's CPU time (/proc, every thread) is sampled when the load generator has connected
and warmed up, and again when the measured phase ends. Scenarios run interleaved across servers (server
order rotated on each repeat) so drift on a shared machine hits every column alike; the table
shows the median of the repeats. Every load is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .procs import BenchError, Processes, proc_stats

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "node"
LOAD_JS = NODE_DIR / "load.js"
DOCS = ROOT / "docs" / "performance.md"

#: A figure gets a dagger when the load generator used this share of one core or more: the
#: server may have been waiting for the client, so its figure is a lower bound.
CLIENT_SATURATED_PCT = 85.0


# -- what runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str
    argv: tuple[str, ...]


def server_specs(uvicorn_ws: str) -> dict[str, ServerSpec]:
    py = sys.executable
    return {
        spec.key: spec
        for spec in (
            ServerSpec(
                "thinkio",
                "thinkio asyncio",
                (py, "-m", "bench.servers.thinkio_server", "--backend", "asyncio"),
            ),
            ServerSpec(
                "thinkio-trio",
                "thinkio trio",
                (py, "-m", "bench.servers.thinkio_server", "--backend", "trio"),
            ),
            ServerSpec(
                "python-socketio",
                "python-socketio",
                (py, "-m", "bench.servers.psio_server", "--ws", uvicorn_ws),
            ),
            ServerSpec("node", "Node socket.io", ("node", str(NODE_DIR / "server.js"))),
        )
    }


#: The thinkio columns ratios are computed for, and what they are compared with.
THINKIO = ("thinkio", "thinkio-trio")
REFERENCES = ("python-socketio", "node")
SHORT = {
    "thinkio": "asyncio",
    "thinkio-trio": "trio",
    "python-socketio": "psio",
    "node": "Node",
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool


RPS = Metric("rps", "round trips/s", True)
P50 = Metric("p50_ms", "p50 latency ms", False)
P99 = Metric("p99_ms", "p99 latency ms", False)
MPS = Metric("msgs_per_s", "delivered msgs/s", True)
FIRST = Metric("first_ms", "first delivery ms", False)
LAST = Metric("last_ms", "last delivery ms", False)
CPS = Metric("cps", "connects/s", True)
RSS = Metric("rss_mb", "server RSS MB, all open", False)
CPU = Metric("cpu_us_per_op", "server CPU µs/op", False)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    describe: str
    load: dict[str, Any]
    metrics: tuple[Metric, ...]
    ops_key: str  # the result field that counts operations (for CPU per operation)

    @property
    def kind(self) -> str:
        return str(self.load["scenario"])

    def scaled(self, factor: float) -> Scenario:
        """The same scenario with its counts multiplied by ``factor`` (at least 1 each)."""
        if factor == 1:
            return self
        load = dict(self.load)
        for key in ("clients", "rounds", "count", "warmup"):
            if key in load:
                load[key] = max(1, round(load[key] * factor))
        if "rooms" in load:
            load["clients"] = max(load["clients"], load["rooms"])
        describe = f"{self.describe} Counts scaled by {factor:g}: {json.dumps(load)}."
        return dataclasses.replace(self, load=load, describe=describe)


def _ack(
    key: str,
    title: str,
    transport: str,
    clients: int,
    rounds: int,
    duration: float,
    warmup: int,
    size: int,
) -> Scenario:
    return Scenario(
        key,
        title,
        f"{clients} {transport} client(s), each doing sequential `emitWithAck('echo', i, "
        f"{size}-char string)` round trips, at most {rounds} per client and {duration:g} s "
        f"(after {warmup} unmeasured warm-up round trips per client).",
        {
            "scenario": "ack",
            "transport": transport,
            "clients": clients,
            "rounds": rounds,
            "duration": duration,
            "warmup": warmup,
            "size": size,
        },
        (RPS, P50, P99, CPU),
        "rounds",
    )


def _fanout(
    key: str, title: str, clients: int, count: int, rooms: int, duration: float, size: int
) -> Scenario:
    room = rooms > 0
    target = f"room `room-0` ({clients // rooms} of the clients)" if room else "every client"
    return Scenario(
        key,
        title,
        f"{clients} WebSocket clients connected{f', spread over {rooms} rooms' if room else ''}; "
        f"one asks the server to send {count} broadcasts (`tick`, i, {size}-char string) to "
        f"{target}. Timed from that request to the last tick reaching the last recipient "
        f"(at most {duration:g} s; a 10-broadcast warm-up burst goes first).",
        {
            "scenario": "room" if room else "broadcast",
            "clients": clients,
            "count": count,
            "rooms": max(rooms, 1),
            "warmup": 10,
            "duration": duration,
            "size": size,
            "window": 50,
        },
        (MPS, FIRST, LAST, CPU),
        "delivered",
    )


def _storm(key: str, title: str, clients: int, window: int, duration: float) -> Scenario:
    return Scenario(
        key,
        title,
        f"{clients} clients connect over WebSocket (Engine.IO handshake + namespace CONNECT), "
        f"{window} handshakes in flight at a time, at most {duration:g} s; RSS is read with "
        f"every client still connected.",
        {"scenario": "storm", "clients": clients, "window": window, "duration": duration},
        (CPS, RSS, CPU),
        "connected",
    )


FULL: tuple[Scenario, ...] = (
    _ack("ack-1", "ack, 1 client", "websocket", 1, 5000, 10, 200, 64),
    _ack("ack-50", "ack, 50 clients", "websocket", 50, 1000, 15, 20, 64),
    _fanout("bcast-200", "broadcast, 200 clients", 200, 300, 0, 20, 64),
    _fanout("bcast-1000", "broadcast, 1000 clients", 1000, 60, 0, 20, 64),
    _fanout("room-1000", "room broadcast, 1000 clients", 1000, 500, 10, 20, 64),
    _storm("storm-1000", "connection storm", 1000, 50, 20),
    _ack("poll-20", "polling ack, 20 clients", "polling", 20, 500, 15, 5, 64),
)

QUICK: tuple[Scenario, ...] = (
    _ack("ack-1", "ack, 1 client", "websocket", 1, 300, 3, 20, 64),
    _ack("ack-10", "ack, 10 clients", "websocket", 10, 50, 3, 5, 64),
    _fanout("bcast-50", "broadcast, 50 clients", 50, 40, 0, 5, 64),
    _fanout("room-100", "room broadcast, 100 clients", 100, 40, 10, 5, 64),
    _storm("storm-100", "connection storm", 100, 20, 5),
    _ack("poll-5", "polling ack, 5 clients", "polling", 5, 20, 3, 2, 64),
)


# -- one measurement ----------------------------------------------------------------------------


def _read_event(load: Any, deadline: float) -> dict[str, Any]:
    """The next JSON event from the load generator (other lines are ignored)."""
    while True:
        line = load.read_line(deadline)
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "event" in event:
            if event["event"] == "error":
                raise BenchError(f"load.js: {event.get('message')}")
            return event


def measure(procs: Processes, server: ServerSpec, scenario: Scenario) -> dict[str, Any]:
    """Run one scenario against a fresh server; the load generator's figures plus server's."""
    proc, port = procs.start_server(server.key, server.argv)
    load = None
    try:
        config = {"url": f"http://127.0.0.1:{port}", **scenario.load}
        load = procs.start("load.js", ("node", str(LOAD_JS), json.dumps(config)), stdin=True)
        setup = float(config.get("setup", 60))
        duration = float(config["duration"])
        event = _read_event(load, time.monotonic() + setup + 15)
        if event["event"] != "ready":
            raise BenchError(f"load.js: expected 'ready', got {event}")
        before = proc_stats(proc.pid)
        load.write_line("go")
        event = _read_event(load, time.monotonic() + duration + 15)
        after = proc_stats(proc.pid)
        if event["event"] != "result":
            raise BenchError(f"load.js: expected 'result', got {event}")
        if proc.popen.poll() is not None:
            raise BenchError(f"{server.key} exited during the run: {proc.stderr_tail()}")
        with contextlib.suppress(subprocess.TimeoutExpired):
            load.popen.wait(10)  # it exits by itself; if not, it is killed below
    except BenchError as exc:
        tails = [t for t in (proc.stderr_tail(), load.stderr_tail() if load else "") if t]
        raise BenchError("\n".join([str(exc), *tails])) from None
    finally:
        if load is not None:
            procs.stop(load)
        procs.stop(proc)
    result = dict(event)
    result["server_cpu_s"] = after.cpu_s - before.cpu_s
    result["rss_mb"] = after.rss_mb
    ops = result.get(scenario.ops_key) or 0
    result["cpu_us_per_op"] = result["server_cpu_s"] / ops * 1e6 if ops else None
    elapsed = result.get("elapsed_s") or 0
    result["client_cpu_pct"] = 100 * result["client_cpu_s"] / elapsed if elapsed else None
    return result


def partial(scenario: Scenario, result: dict[str, Any]) -> bool:
    """The run did not do all it was asked (errors, or a time limit cut a burst short)."""
    if scenario.kind == "ack":
        return bool(result.get("errors"))
    if scenario.kind == "storm":
        return result.get("connected") != result.get("expected")
    return not result.get("complete")


def headline(scenario: Scenario, result: dict[str, Any]) -> str:
    metric = scenario.metrics[0]
    value = result.get(metric.key)
    text = f"{fmt(value)} {metric.label}" if value is not None else "no figure"
    return text + (" (partial)" if partial(scenario, result) else "")


# -- the table ----------------------------------------------------------------------------------


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@dataclass
class Cell:
    value: float | None
    flags: str = ""
    error: str | None = None

    def text(self) -> str:
        if self.error is not None and self.value is None:
            return "failed"
        return fmt(self.value) + self.flags


@dataclass
class Results:
    scenarios: Sequence[Scenario]
    servers: Sequence[ServerSpec]
    runs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, scenario: Scenario, server: ServerSpec, result: dict[str, Any]) -> None:
        self.runs.setdefault((scenario.key, server.key), []).append(result)

    def cell(self, scenario: Scenario, server: ServerSpec, metric: Metric) -> Cell:
        runs = self.runs.get((scenario.key, server.key), [])
        ok = [r for r in runs if "error" not in r]
        errors = [r["error"] for r in runs if "error" in r]
        values = [r[metric.key] for r in ok if r.get(metric.key) is not None]
        flags = ""
        if any(partial(scenario, r) for r in ok) or (errors and ok):
            flags += "!"
        if any((r.get("client_cpu_pct") or 0) >= CLIENT_SATURATED_PCT for r in ok):
            flags += "†"
        value = statistics.median(values) if values else None
        return Cell(value, flags, errors[0] if errors else None)

    def rows(self) -> list[list[str]]:
        """Header row, then one row per (scenario, metric)."""
        keys = [s.key for s in self.servers]
        pairs = [(t, r) for t in THINKIO if t in keys for r in REFERENCES if r in keys]
        header = ["scenario", "metric", *(s.label for s in self.servers)]
        header += [f"{SHORT[t]} vs {SHORT[r]}" for t, r in pairs]
        rows = [header]
        by_key = {s.key: s for s in self.servers}
        for scenario in self.scenarios:
            for i, metric in enumerate(scenario.metrics):
                cells = {s.key: self.cell(scenario, s, metric) for s in self.servers}
                row = [scenario.title if i == 0 else "", metric.label]
                row += [cells[s.key].text() for s in self.servers]
                for t, r in pairs:
                    row.append(ratio(cells[by_key[t].key], cells[by_key[r].key], metric))
                rows.append(row)
        return rows

    def usage_rows(self) -> list[list[str]]:
        """Per scenario and server: the server's and the load generator's CPU use (medians).

        Shows whether either side ran out of CPU: a server below 100% of a core was waiting
        (for the client, or for a core on a busy machine), not computing.
        """
        rows = [["scenario", *(s.label for s in self.servers)]]
        for scenario in self.scenarios:
            row = [scenario.title]
            for server in self.servers:
                ok = [
                    r
                    for r in self.runs.get((scenario.key, server.key), [])
                    if "error" not in r and r.get("elapsed_s")
                ]
                if not ok:
                    row.append("—")
                    continue
                srv = statistics.median(100 * r["server_cpu_s"] / r["elapsed_s"] for r in ok)
                cli = statistics.median(r.get("client_cpu_pct") or 0 for r in ok)
                row.append(f"{srv:.0f}% / {cli:.0f}%")
            rows.append(row)
        return rows

    def errors(self) -> list[str]:
        out = []
        for (scenario, server), runs in self.runs.items():
            for r in runs:
                if "error" in r:
                    out.append(f"{scenario} on {server}: {r['error'].splitlines()[0]}")
        return out


def ratio(mine: Cell, theirs: Cell, metric: Metric) -> str:
    """How many times better thinkio's figure is (> 1: thinkio better, whatever the unit)."""
    if not mine.value or not theirs.value:
        return "—"
    r = mine.value / theirs.value if metric.higher_is_better else theirs.value / mine.value
    return f"{r:.2f}x"


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        text_columns = 2 if rows[0][1] == "metric" else 1
        cells = [
            cell.ljust(widths[i]) if i < text_columns else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    text_columns = 2 if rows[0][1] == "metric" else 1
    align = ["---"] * text_columns + ["---:"] * (len(rows[0]) - text_columns)
    return "\n".join([line(rows[0]), "| " + " | ".join(align) + " |", *map(line, rows[1:])])


LEGEND = (
    "Ratios: how many times better thinkio is than the reference, whatever the unit "
    "(throughput: thinkio / reference; latency, CPU and memory: reference / thinkio); "
    "above 1.00x thinkio is better, below it is worse. "
    "`!` partial: errors, or the time limit cut the run short (the figure counts what was "
    f"done). `†` the load generator used ≥ {CLIENT_SATURATED_PCT:.0f}% of a core: the figure "
    "may be capped by the client rather than the server. `server CPU µs/op` is the server "
    "process's CPU time (all threads) during the measured phase per round trip, delivered "
    "message or connection (from /proc: every thread's schedstat run time)."
)


# -- the environment ----------------------------------------------------------------------------


def _run(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _node_package_version(name: str) -> str:
    try:
        data = json.loads((NODE_DIR / "node_modules" / name / "package.json").read_text())
    except (OSError, ValueError):
        return "not installed"
    return str(data.get("version"))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def environment(uvicorn_ws: str) -> dict[str, str]:
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--", "thinkio", "bench"]).splitlines()
    if dirty:
        commit += (
            f" plus uncommitted changes to {len(dirty)} file(s) under thinkio/ or bench/ "
            "(the working tree was measured)"
        )
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": f"{os.cpu_count()} CPUs (nproc {_run(['nproc']) or '?'}), {_cpu_model()}, "
        f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": _run(["node", "--version"]) or "not found",
        "thinkio": _version("thinkio"),
        "python-socketio": f"python-socketio {_version('python-socketio')}, python-engineio "
        f"{_version('python-engineio')}, uvicorn {_version('uvicorn')} (asyncio loop, h11, "
        f"ws={uvicorn_ws}, websockets {_version('websockets')}, no permessage-deflate)",
        "node-socket.io": f"socket.io {_node_package_version('socket.io')}, engine.io "
        f"{_node_package_version('engine.io')}, ws {_node_package_version('ws')}",
        "client": f"socket.io-client {_node_package_version('socket.io-client')} (one Node "
        f"process per scenario, WebSocket transport unless stated, no permessage-deflate)",
        "loadavg_start": _loadavg(),
    }


def busy_machine_note(env: dict[str, str]) -> str:
    """A warning when other work competed for the CPUs during the run, or ''."""
    try:
        peak = max(float(env[k].split()[0]) for k in ("loadavg_start", "loadavg_end"))
    except (KeyError, ValueError, IndexError):
        return ""
    cpus = os.cpu_count() or 1
    if peak <= cpus:
        return ""
    return (
        f"\nThe 1-minute load average reached {peak:.1f} on {cpus} CPUs during this run: the "
        "servers and the load generator waited for a CPU part of the time (see the CPU-use "
        "table), so throughput and latency include that wait. `server CPU µs/op` does not, and "
        "is the steadiest figure here.\n"
    )


def markdown_doc(
    results: Results, env: dict[str, str], command: str, repeat: int, quick: bool
) -> str:
    scenario_lines = "\n".join(
        f"- **{s.title}** (`{s.key}`): {s.describe}" for s in results.scenarios
    )
    errors = results.errors()
    error_text = ""
    if errors:
        error_text = "\n## Failures in this run\n\n" + "\n".join(f"- {e}" for e in errors) + "\n"
    return f"""# Performance

thinkio next to python-socketio (ASGI on uvicorn) and Node's socket.io, measured in one run
by `bench/` (see `bench/run.py`). Generated by the command below; rerun it rather than edit
this file. The machines these runs happen on are shared and noisy: compare columns of one
run (the ratios), not figures across runs.

```
{command}
```

- Date: {env["date"]}
- Commit: {env["commit"]}
- Machine: {env["machine"]}; load average {env["loadavg_start"]} at the start, \
{env["loadavg_end"]} at the end
- Python {env["python"]}, thinkio {env["thinkio"]}; Node {env["node"]}
- python-socketio: {env["python-socketio"]}
- Node server: {env["node-socket.io"]}
- Load generator: {env["client"]}
- {"Quick profile (smoke counts: figures are not meaningful). " if quick else ""}\
Each figure is the median of {repeat} run{"s" if repeat != 1 else ""} of the scenario, \
each against a fresh server process.

## Results
{busy_machine_note(env)}
{markdown_table(results.rows())}

{LEGEND}
{error_text}
CPU use during the measured phase, server / load generator, in % of one core (median):

{markdown_table(results.usage_rows())}

## Scenarios

{scenario_lines}

## Method

- Every server runs the same app (`bench/servers/__init__.py`): `echo` acks with its
  arguments; `broadcast(count, payload)` / `room_broadcast(room, count, payload)` emit `tick`
  `count` times, to everyone or to a room, in a loop in one handler; `join(room)`.
  Sources: `bench/servers/thinkio_server.py` (asyncio, and trio with `--backend trio`),
  `bench/servers/psio_server.py` (`socketio.AsyncServer` + `socketio.ASGIApp` on uvicorn),
  `bench/node/server.js`. Every server listens on 127.0.0.1, port 0, with its defaults
  (no permessage-deflate anywhere; Node and thinkio never negotiate it, uvicorn is told not to).
- The load generator is `bench/node/load.js` (socket.io-client), one process, started fresh
  for each scenario and server. It connects and warms up, then the harness reads the server's
  CPU time (`/proc/<pid>/task/*/schedstat`, every thread), tells the generator to go, and
  reads it again when the measured phase ends. Polling clients get one keep-alive HTTP agent each (two sockets), as a
  browser would.
- Scenarios run interleaved across servers, the server order rotated on each repeat, so
  drift on the machine falls on every column alike.
- The load generator shares the machine with the server (loopback only). Its own CPU use is
  recorded for every run; figures where it came near a full core carry a `†`.
"""


# -- driver -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument(
        "--servers",
        default="thinkio,thinkio-trio,python-socketio,node",
        help="comma-separated: thinkio, thinkio-trio, python-socketio, node",
    )
    parser.add_argument("--scenarios", default="", help="comma-separated scenario keys")
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per (scenario, server); default 3, quick 1"
    )
    parser.add_argument(
        "--uvicorn-ws",
        default="websockets-sansio",
        choices=("websockets-sansio", "websockets", "wsproto"),
        help="uvicorn's WebSocket implementation for python-socketio",
    )
    parser.add_argument(
        "--write-docs",
        nargs="?",
        const=str(DOCS),
        default=None,
        metavar="PATH",
        help=f"also write the table as markdown (default {DOCS.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every client/round/message count by this (0 < SCALE <= 1)",
    )
    parser.add_argument("--json", metavar="PATH", help="write every raw result as JSON")
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
    specs = server_specs(args.uvicorn_ws)
    servers = []
    for key in filter(None, (k.strip() for k in args.servers.split(","))):
        if key not in specs:
            raise SystemExit(f"unknown server {key!r}; known: {', '.join(specs)}")
        servers.append(specs[key])
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


def check_prerequisites() -> None:
    if shutil.which("node") is None:
        raise SystemExit("node is not on PATH: the load generator is a Node program")
    if not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        raise SystemExit("bench/node/node_modules is missing: run `npm ci` in bench/node")


def run(args: argparse.Namespace, log: Any = sys.stderr) -> tuple[Results, dict[str, str]]:
    scenarios, servers = select(args)
    check_prerequisites()
    env = environment(args.uvicorn_ws)
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
                    print(
                        f"[{done}/{total}] {scenario.key} on {server.key} ...",
                        end=" ",
                        flush=True,
                        file=log,
                    )
                    started = time.monotonic()
                    try:
                        result = measure(procs, server, scenario)
                    except BenchError as exc:
                        result = {"error": str(exc)}
                        print(f"FAILED: {exc}", file=log, flush=True)
                    else:
                        print(
                            f"{headline(scenario, result)} "
                            f"({time.monotonic() - started:.1f} s)",
                            file=log,
                            flush=True,
                        )
                    results.add(scenario, server, result)
    env["loadavg_end"] = _loadavg()
    return results, env


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through Processes, which kills every child


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = parse_args(argv)
    if args.list:
        for scenario in QUICK if args.quick else FULL:
            print(f"{scenario.key:12} {scenario.describe}")
        return 0
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    results, env = run(args)
    rows = results.rows()
    print()
    print(text_table(rows))
    print()
    print(LEGEND)
    print()
    print("CPU use during the measured phase, server / load generator, % of one core:")
    print(text_table(results.usage_rows()))
    for error in results.errors():
        print(f"failed: {error}")
    if args.json:
        raw = {
            "command": command,
            "environment": env,
            "runs": {f"{sc} @ {srv}": runs for (sc, srv), runs in results.runs.items()},
        }
        Path(args.json).write_text(json.dumps(raw, indent=2) + "\n")
    if args.write_docs:
        path = Path(args.write_docs)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markdown_doc(results, env, command, args.repeat, args.quick))
        print(f"wrote {path}")
    return 1 if results.errors() else 0


if __name__ == "__main__":
    sys.exit(main())
