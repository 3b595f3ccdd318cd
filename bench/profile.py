"""Where a Python server spends its CPU during one benchmark scenario (py-spy, sampled).

    python -m bench.profile ack-10                          # thinkio on uvloop
    python -m bench.profile bcast-1000 --server thinkio-trio --seconds 10
    python -m bench.profile ack-10 --server python-socketio

Starts the server and the load generator as ``python -m bench`` does (pinned to CPUs 0 and 1),
attaches ``py-spy record`` to the server as the measured phase starts, for at most
``--seconds``, and prints the server's CPU per operation, then its busy samples summed by
layer (thinkio's I/O layer, its sans-I/O core, anyio, the event loop, wsproto, h11, ...) and
the functions with the largest share, by self time (the function's own code) and inclusive
time (with what it calls). Idle time (the loop waiting in ``epoll``) is not sampled, so
shares are of the time the server was busy. The scenario's load is stretched to outlast the
sampling (round trips get the whole window; bursts and storms get more messages or clients).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import compiled
from .procs import BenchError, Processes
from .run import generator_argv, read_event
from .scenarios import FULL, ROOT, ROUND_TRIPS, SERVERS
from .table import derive

#: (layer, where its frames' files start), first match wins. py-spy gives paths relative to
#: sys.path (``anyio/_core/_tasks.py``) and counts time spent in C (syscalls, uvloop, the json
#: encoder) against the Python function that called it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("thinkio I/O layer (thinkio/server)", ("thinkio/server/",)),
    ("thinkio sans-I/O core (engineio, socketio, _json)",
     ("thinkio/engineio/", "thinkio/socketio/", "thinkio/_json")),
    ("thinkio, other", ("thinkio/",)),
    ("anyio (+ sniffio)", ("anyio/", "sniffio/")),
    ("trio", ("trio/", "outcome/")),
    ("event loop: asyncio / uvloop (uvloop's C code counts in Runner.run)",
     ("asyncio/", "selectors.py", "uvloop/")),
    ("wsproto", ("wsproto/",)),
    ("h11", ("h11/",)),
    ("json (stdlib)", ("json/",)),
    ("python-socketio / python-engineio", ("socketio/", "engineio/")),
    ("uvicorn / websockets / httptools", ("uvicorn/", "websockets/", "httptools/")),
)  # fmt: skip
OTHER = "other (stdlib, dataclasses, enum, ...)"


def _file(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``path/to/module.py``."""
    return frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]


def layer_of(frame: str) -> str:
    file = _file(frame)
    for name, prefixes in LAYERS:
        if any(file.startswith(p) or f"/{p}" in file for p in prefixes):
            return name
    return OTHER


def parse_collapsed(path: Path) -> tuple[int, dict[str, collections.Counter[str]]]:
    """Total samples, and samples per function (self, inclusive) and per layer (self)."""
    total = 0
    counters: dict[str, collections.Counter[str]] = {
        k: collections.Counter() for k in ("self", "inclusive", "layer")
    }
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = frames[1:]  # with --threads, the first "frame" names the thread
        if not frames:
            continue
        total += count
        counters["self"][_short(frames[-1])] += count
        counters["layer"][layer_of(frames[-1])] += count
        for frame in {_short(f) for f in frames}:
            counters["inclusive"][frame] += count
    return total, counters


def _short(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``, line numbers dropped."""
    name, file = frame.partition(" (")[0], _file(frame)
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{name} ({file})" if file else name


def stretched(load: dict[str, object], seconds: float) -> dict[str, object]:
    """The scenario's load, made to last at least the sampling window."""
    out = dict(load)
    out["duration"] = seconds + 2
    kind = out["scenario"]
    if kind in ROUND_TRIPS:
        out["rounds"] = 1_000_000
    elif kind in ("broadcast", "room"):
        out["count"] = int(out["count"]) * 10  # type: ignore[call-overload]
    elif kind == "storm":
        out["clients"] = max(int(out["clients"]), 3000)  # type: ignore[call-overload]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=[s.key for s in FULL])
    parser.add_argument("--server", default="thinkio-uvloop-py",
                        choices=[k for k in SERVERS if k not in ("node", "ceiling")],
                        help="default: the pure-Python build, whose every function py-spy "
                             "sees (in the compiled build's, the protocol modules are C: "
                             "their time counts against their Python callers)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=200, help="samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--raw", metavar="PATH", help="keep py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds: between 1 and 60")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy (the bench extra)")
    scenario = next(s for s in FULL if s.key == args.scenario)
    server = SERVERS[args.server]
    if server.compiled:
        why = compiled.verify(dict(os.environ))
        if why is not None:
            raise SystemExit(why)
    out = Path(args.raw) if args.raw else Path(tempfile.mkdtemp(prefix="bench-")) / "stacks.txt"
    with Processes(ROOT) as procs:
        env = compiled.server_env(server.compiled, procs.env)
        proc, port = procs.start_server(server.key, server.argv, cpu=0, env=env)
        config = {"url": f"http://127.0.0.1:{port}", "server_pid": proc.pid,
                  **stretched(scenario.load, args.seconds)}  # fmt: skip
        load = procs.start("load", generator_argv(config), stdin=True, cpu=1)
        if read_event(load, time.monotonic() + 90)["event"] != "ready":
            raise BenchError("the load generator did not get ready")
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(proc.pid), "--duration", str(int(args.seconds)),
             "--rate", str(args.rate), "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(0.5)  # py-spy attaches before the load starts
        load.write_line("go")
        try:
            _, spy_err = spy.communicate(timeout=args.seconds + 30)
        finally:
            if spy.poll() is None:
                spy.kill()
        result = derive(scenario, read_event(load, time.monotonic() + args.seconds + 60))
    if spy.returncode != 0 or not out.exists():
        raise BenchError(f"py-spy failed: {spy_err.strip()}")
    total, counters = parse_collapsed(out)
    ops = result.get(scenario.ops_key)
    print(f"{server.key}, {scenario.key}: {ops} operations in {result['window_s']:.1f} s; "
          f"server CPU {result['server_cpu_s']:.2f} s = {result['cpu_us_per_op'] or 0:.1f} µs/op "
          f"({result['server_pct']:.0f}% of its core); {total} busy samples")  # fmt: skip
    print("\nby layer (self time, % of busy samples)")
    for name, count in counters["layer"].most_common():
        print(f"{100 * count / max(total, 1):6.1f}%  {name}")
    for title in ("self", "inclusive"):
        print(f"\ntop {args.top} functions by {title} time (% of busy samples)")
        for name, count in counters[title].most_common(args.top):
            print(f"{100 * count / max(total, 1):6.1f}%  {name}")
    print(f"\ncollapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
