"""Where a Python server spends its CPU during one benchmark scenario (py-spy, sampled).

    python -m bench.profile ack-50                    # thinkio on asyncio
    python -m bench.profile bcast-1000 --server thinkio-trio --seconds 10
    python -m bench.profile ack-50 --server python-socketio

Starts the server and the load generator as ``python -m bench`` does, and when the measured
phase starts attaches ``py-spy record`` (``pip install py-spy``) to the server for at most
``--seconds``. Prints the functions with the largest share of the CPU samples, by self time
(the function's own code) and by inclusive time (with everything it calls). Idle time (the
event loop waiting in ``epoll``) is not sampled, so shares are of the time the server was
busy. Ack scenarios get 20 times their rounds so the load outlasts the sampling (``--multiply``).
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .procs import BenchError, Processes, proc_stats
from .run import FULL, LOAD_JS, ROOT, server_specs


def parse_collapsed(path: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Total samples, and samples per function: self (leaf) and inclusive (anywhere)."""
    total = 0
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        # The first frame is the thread ("process 123:..."): not a function.
        frames = [f for f in frames[1:] if f]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return total, self_time, inclusive


def _short(frame: str) -> str:
    """``func (path/to/module.py:123)`` -> ``func (module.py)``, line numbers dropped."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    file = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{name} ({file})" if file else name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=[s.key for s in FULL])
    parser.add_argument(
        "--server", default="thinkio", choices=("thinkio", "thinkio-trio", "python-socketio")
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--multiply",
        type=int,
        default=None,
        help="multiply the scenario's rounds/broadcasts (default: 20 for acks, 1 otherwise)",
    )
    parser.add_argument("--raw", metavar="PATH", help="keep py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 60:
        parser.error("--seconds: above 0, at most 60")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy")
    scenario = next(s for s in FULL if s.key == args.scenario)
    server = server_specs("websockets-sansio")[args.server]
    load_cfg = dict(scenario.load)
    load_cfg["duration"] = args.seconds + 5
    multiply = args.multiply or (20 if load_cfg["scenario"] == "ack" else 1)
    for key in ("rounds", "count"):
        if key in load_cfg:
            load_cfg[key] *= multiply  # keep the server busy for the sampling window
    if load_cfg["scenario"] == "storm":
        load_cfg["clients"] = max(load_cfg["clients"], 3000)
    out = Path(args.raw) if args.raw else Path(tempfile.mkdtemp(prefix="bench-")) / "stacks.txt"
    with Processes(ROOT) as procs:
        proc, port = procs.start_server(server.key, server.argv)
        load_cfg["url"] = f"http://127.0.0.1:{port}"
        load = procs.start("load.js", ("node", str(LOAD_JS), json.dumps(load_cfg)), stdin=True)
        deadline = time.monotonic() + float(load_cfg.get("setup", 60)) + 15
        while json.loads(load.read_line(deadline) or b"{}").get("event") != "ready":
            pass
        before = proc_stats(proc.pid)
        load.write_line("go")
        started = time.monotonic()
        spy = subprocess.run(
            [py_spy, "record", "--pid", str(proc.pid), "--duration", str(int(args.seconds)),
             "--rate", str(args.rate), "--format", "raw", "--nonblocking", "--output", str(out)],
            capture_output=True,
            text=True,
            timeout=args.seconds + 30,
        )  # fmt: skip
        busy = proc_stats(proc.pid).cpu_s - before.cpu_s
        wall = time.monotonic() - started
    if spy.returncode != 0 or not out.exists():
        raise BenchError(f"py-spy failed: {spy.stderr.strip()}")
    total, self_time, inclusive = parse_collapsed(out)
    print(f"{server.key}, {scenario.key}: {total} samples over {wall:.1f} s; server CPU "
          f"{busy:.2f} s ({100 * busy / wall:.0f}% of one core)")  # fmt: skip
    for title, counter in (("self", self_time), ("inclusive", inclusive)):
        print(f"\ntop {args.top} by {title} time (% of busy samples)")
        for name, count in counter.most_common(args.top):
            print(f"{100 * count / max(total, 1):6.1f}%  {name}")
    print(f"\ncollapsed stacks: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
