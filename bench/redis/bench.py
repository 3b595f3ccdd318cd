"""Broadcasts per second across two nodes over one Redis: thinkio next to Node's socket.io.

    .venv/bin/python bench/redis/bench.py [--count 10000] [--repeat 3] [--write-docs]

Starts a ``redis-server`` on 127.0.0.1 (a free port, no persistence), then for each pair of
nodes A and B (thinkio on asyncio, thinkio on trio, Node's socket.io 4.8 on
@socket.io/redis-adapter 8.3, and the mixed pairs), each node its own process: one receiving
client on B (a raw WebSocket that only counts frames, so it is never the bottleneck) and a
control client on A that asks A to broadcast ``count`` events to everyone, as fast as A can.
The figure is ``count`` divided by the time from the request to the last event reaching the
client on B: the rate at which broadcasts cross from one node to the other through Redis.
Bounded: each run gives up after 60 s (what has not arrived is reported as lost).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import websockets

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LISTENING = re.compile(r"listening on [\d.]+:(\d+)")
KINDS = {
    "thinkio asyncio": [sys.executable, str(HERE / "py_server.py"), "{url}", "{key}", "asyncio"],
    "thinkio trio": [sys.executable, str(HERE / "py_server.py"), "{url}", "{key}", "trio"],
    "node": ["node", str(HERE / "node_server.js"), "{url}", "{key}"],
}
PAIRS = [
    ("thinkio asyncio", "thinkio asyncio"),
    ("thinkio trio", "thinkio trio"),
    ("node", "node"),
    ("thinkio asyncio", "node"),
    ("node", "thinkio asyncio"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def start_node(kind: str, url: str, key: str) -> tuple[subprocess.Popen[str], int]:
    command = [part.format(url=url, key=key) for part in KINDS[kind]]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NODE_ENV": "production"}
    proc = subprocess.Popen(command, cwd=HERE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = LISTENING.search(line)
    if not match:
        proc.kill()
        raise RuntimeError(f"{kind} did not start: {line!r}")
    return proc, int(match.group(1))


async def one_run(port_a: int, port_b: int, count: int, size: int) -> tuple[float, int]:
    """Seconds until ``count`` broadcasts from A reached B's client, and how many arrived."""
    path = "/socket.io/?EIO=4&transport=websocket"
    async with (
        websockets.connect(f"ws://127.0.0.1:{port_b}{path}", max_size=None) as rx,
        websockets.connect(f"ws://127.0.0.1:{port_a}{path}", max_size=None) as ctl,
    ):
        for ws, nsp in ((rx, ""), (ctl, "/control,")):
            await ws.recv()  # the Engine.IO open packet
            await ws.send(f"40{nsp}")
            while not str(await ws.recv()).startswith(f"40{nsp}"):
                pass
        received = 0
        start = time.perf_counter()
        await ctl.send(f'42/control,1["burst",{count},{size}]')
        end = start
        try:
            async with asyncio.timeout(60):
                while received < count:
                    frame = await rx.recv()
                    if isinstance(frame, str):
                        if frame == "2":
                            await rx.send("3")
                        elif frame.startswith('42["tick"'):
                            received += 1
                            end = time.perf_counter()
        except TimeoutError:
            pass
        return end - start, received


async def bench(count: int, size: int, repeat: int) -> list[tuple[str, str, float, int]]:
    redis, url = start_redis()
    rows = []
    try:
        for index, (kind_a, kind_b) in enumerate(PAIRS):
            key = f"bench{index}"
            a, port_a = start_node(kind_a, url, key)
            b, port_b = start_node(kind_b, url, key)
            try:
                await one_run(port_a, port_b, min(count, 500), size)  # warm-up
                rates, lost = [], 0
                for _ in range(repeat):
                    seconds, received = await one_run(port_a, port_b, count, size)
                    rates.append(received / seconds if seconds > 0 else 0.0)
                    lost += count - received
                rows.append((kind_a, kind_b, statistics.median(rates), lost))
                rate = statistics.median(rates)
                print(f"{kind_a:>16} -> {kind_b:<16} {rate:>10,.0f} /s  lost {lost}")
            finally:
                for proc in (a, b):
                    proc.terminate()
                    proc.wait(timeout=10)
    finally:
        redis.kill()
        redis.wait()
    return rows


def table(rows: list[tuple[str, str, float, int]], args: argparse.Namespace) -> str:
    lines = [
        f"| node A (broadcasts) | node B (its client counts) "
        f"| broadcasts/s, median of {args.repeat} | lost |",
        "|---|---|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {rate:,.0f} | {lost} |" for a, b, rate, lost in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=16, help="bytes of text per event")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--write-docs", action="store_true", help="write docs/adapters/benchmark.md"
    )
    args = parser.parse_args()
    for tool in ("redis-server", "node"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (make system-deps / node-deps)")
    if not (HERE / "node_modules" / "@socket.io" / "redis-adapter").is_dir():
        sys.exit("run `npm ci` in bench/redis (make node-deps does)")
    load_before = os.getloadavg()[0]
    rows = asyncio.run(bench(args.count, args.size, args.repeat))
    load_after = os.getloadavg()[0]
    result = table(rows, args)
    result += (
        f"\n\nLoad average (1 min) before / after the run: {load_before:.1f} / {load_after:.1f} "
        f"on {os.cpu_count()} CPUs."
    )
    print(result)
    if args.write_docs:
        command = (
            f"bench/redis/bench.py --count {args.count} --size {args.size} --repeat {args.repeat}"
        )
        page = ROOT / "docs" / "adapters" / "benchmark.md"
        page.write_text(
            "# Broadcasts across two nodes over one Redis\n\n"
            "Generated by `.venv/bin/python " + command + "` (see the script's docstring for "
            "the method) on this project's 2-core machine, one process per node, the Redis "
            "adapter (Node's classic format) on both sides. The machine is shared: compare "
            "rows of one run, not runs.\n\n" + result + "\n"
        )


if __name__ == "__main__":
    main()
