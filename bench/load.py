"""The load generator: ``python -m bench.load '<json config>'``, one process per measurement.

It speaks Engine.IO v4 / Socket.IO v5 itself (:mod:`bench.wire`, :mod:`bench.wsclient` on
picows, :mod:`bench.pollclient` on httptools), on uvloop, so that it stays far from
saturating its core when the server is fast (its CPU share is reported with every result).

Config (a JSON object; every count and every wait is bounded):

* ``url`` ``http://127.0.0.1:PORT`` (loopback only), ``server_pid`` the server's process id;
* ``scenario`` ``echo`` | ``ack`` | ``broadcast`` | ``room`` | ``storm`` | ``idle``;
* ``transport`` ``websocket`` | ``polling`` (echo and ack; the others use WebSocket);
* ``deflate`` (optional, a server variant's setting): WebSocket clients offer
  permessage-deflate and inflate compressed frames;
* ``clients``, ``rounds`` (most round trips per client), ``warmup`` (round trips per client,
  or broadcasts, before measuring), ``count`` (broadcasts), ``rooms``, ``size`` (payload
  characters), ``window`` (handshakes in flight), ``duration`` and ``setup`` (seconds).

Protocol with ``bench/run.py``, one JSON object per stdout line: ``{"event": "ready"}`` once
set up, then it waits for a ``go`` line on stdin; ``{"event": "result", ...}`` when the
measured phase is over; ``{"event": "error", "message": ...}`` on failure. Server CPU
(``/proc/<server_pid>``) and its own CPU are sampled here, at the instants the measured phase
starts and ends.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import uvloop

from . import procfs
from .pollclient import PollingClient
from .rounds import Joins, RoundTrips, Ticks, percentile
from .scenarios import ROUND_TRIPS
from .storm import connect_many_raw
from .wire import event_packet, masked_frame
from .wsclient import ConnectFailed, Connections, connect_many

__all__ = ("main",)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULTS: dict[str, Any] = {
    "transport": "websocket",
    "clients": 10,
    "rounds": 1000,
    "warmup": 10,
    "count": 100,
    "rooms": 10,
    "size": 64,
    "window": 50,
    "duration": 10.0,
    "setup": 60.0,
}


class Failed(Exception):
    """The scenario could not run (connections failed, wrong replies, a time limit)."""


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def parse_config(text: str) -> dict[str, Any]:
    cfg = {**DEFAULTS, **json.loads(text)}
    url = urlsplit(cfg["url"])
    if url.hostname not in LOOPBACK or url.port is None:
        raise Failed(f"refusing a target that is not loopback: {cfg['url']!r}")
    cfg["host"], cfg["port"] = url.hostname, url.port
    cfg["ws_url"] = f"ws://{cfg['host']}:{url.port}/socket.io/?EIO=4&transport=websocket"
    for key in ("clients", "rounds", "warmup", "count", "rooms", "size", "window"):
        if not isinstance(cfg[key], int) or not 0 <= cfg[key] <= 1_000_000:
            raise Failed(f"{key}: expected an integer in [0, 1000000]")
    for key in ("duration", "setup"):
        if not 0 < float(cfg[key]) <= 600:
            raise Failed(f"{key}: expected seconds in (0, 600]")
    if not isinstance(cfg.get("server_pid"), int):
        raise Failed("server_pid: expected the server's process id")
    return cfg


class Meter:
    """Server and generator CPU over the measured phase (the window from go to the end)."""

    def __init__(self, server_pid: int) -> None:
        self.pid = server_pid

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.server0 = procfs.cpu_sample(self.pid)
        self.self0 = procfs.cpu_sample()

    def stop(self) -> dict[str, Any]:
        server = procfs.cpu_sample(self.pid) - self.server0
        own = procfs.cpu_sample() - self.self0
        return {
            "window_s": time.perf_counter() - self.t0,
            "server_cpu_s": server.run_s,
            "server_wait_s": server.wait_s,
            "gen_cpu_s": own.run_s,
            "gen_wait_s": own.wait_s,
            "server_rss_kib": procfs.rss_kib(self.pid),
        }


async def wait_for_go(seconds: float) -> None:
    """Until a ``go`` line arrives on stdin (EOF or ``seconds`` without one: :class:`Failed`)."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bool] = loop.create_future()
    fd = sys.stdin.fileno()
    buffer = b""

    def readable() -> None:
        nonlocal buffer
        data = os.read(fd, 4096)
        buffer += data
        if not got.done() and (not data or b"go\n" in buffer):
            got.set_result(bool(data))

    loop.add_reader(fd, readable)
    try:
        async with asyncio.timeout(seconds):
            if not await got:
                raise Failed("stdin closed before 'go'")
    except TimeoutError:
        raise Failed("no 'go' on stdin") from None
    finally:
        loop.remove_reader(fd)


async def connect_all(cfg: dict[str, Any], n: int) -> Connections:
    conns = await connect_many(
        cfg["ws_url"], n, cfg["window"], cfg["setup"], deflate=cfg.get("deflate", False)
    )
    if conns.errors or len(conns.connected) != n:
        conns.close()
        raise Failed(f"connected {len(conns.connected)}/{n} ({conns.errors} errors: "
                     f"{conns.last_error})")  # fmt: skip
    if cfg.get("deflate") and not any(getattr(c, "inflated", 0) for c in conns.connected):
        conns.close()  # with threshold 0 even the CONNECT reply comes compressed
        raise Failed("permessage-deflate was not negotiated: no compressed frame received")
    return conns


async def round_trips(cfg: dict[str, Any], meter: Meter, ack: bool) -> dict[str, Any]:
    """Sequential round trips on every client: ``ack`` / ``async_ack`` (emitWithAck, the
    event named after the scenario) or ``echo`` (emit back)."""
    n, payload = cfg["clients"], "x" * cfg["size"]
    clients: list[Any]
    wrap: Callable[[bytes], bytes]
    if cfg["transport"] == "polling":
        clients = [PollingClient(cfg["host"], cfg["port"], i) for i in range(n)]
        await asyncio.gather(*(c.open(cfg["setup"]) for c in clients))
        wrap = bytes
    else:
        clients = (await connect_all(cfg, n)).connected
        wrap = masked_frame
    if ack:
        packets = [event_packet(cfg["scenario"], i, payload, ack_id=1) for i in range(n)]
        expected = [b"431" + json.dumps([i, payload], separators=(",", ":")).encode()
                    for i in range(n)]  # fmt: skip
    else:
        packets = [event_packet("echo", i, payload) for i in range(n)]
        expected = packets
    runner = RoundTrips(clients, [wrap(p) for p in packets], expected)
    await runner.run(cfg["warmup"], cfg["setup"], record=False)
    if runner.errors:
        raise Failed(f"warm-up: {runner.errors} bad or missing replies, e.g. {runner.bad!r}")
    emit({"event": "ready"})
    await wait_for_go(cfg["setup"])
    meter.start()
    elapsed = await runner.run(cfg["rounds"], cfg["duration"], record=True)
    result = meter.stop()
    lat = sorted(runner.latencies)
    return {
        **result,
        "rounds": len(lat),
        "expected": n * cfg["rounds"],
        "errors": runner.errors,
        "bad_reply": repr(runner.bad) if runner.bad is not None else None,
        "elapsed_s": elapsed,
        "rps": len(lat) / elapsed if elapsed > 0 else None,
        "p50_ms": percentile(lat, 50) * 1e3 if lat else None,
        "p99_ms": percentile(lat, 99) * 1e3 if lat else None,
    }


async def fan_out(cfg: dict[str, Any], meter: Meter, room: bool) -> dict[str, Any]:
    """One client asks for a burst of broadcasts (to all, or to one room); all count ticks."""
    n, payload = cfg["clients"], "x" * cfg["size"]
    clients = (await connect_all(cfg, n)).connected
    targets = list(range(n))
    if room:
        joins = Joins(clients)
        frames = [masked_frame(event_packet("join", f"room-{i % cfg['rooms']}", ack_id=1))
                  for i in range(n)]  # fmt: skip
        if not await joins.run(frames, cfg["setup"]):
            raise Failed(f"join: {joins.missing} of {n} acks missing")
        targets = [i for i in range(n) if i % cfg["rooms"] == 0]

    def request(count: int) -> bytes:
        if room:
            return masked_frame(event_packet("room_broadcast", "room-0", count, payload))
        return masked_frame(event_packet("broadcast", count, payload))

    ticks = Ticks(clients, targets)
    if cfg["warmup"] and not await ticks.run(clients[0], request(cfg["warmup"]), cfg["warmup"],
                                             cfg["setup"]):  # fmt: skip
        raise Failed(f"warm-up burst: {ticks.delivered()} of {ticks.expected} ticks arrived")
    emit({"event": "ready"})
    await wait_for_go(cfg["setup"])
    meter.start()
    start = time.perf_counter()
    complete = await ticks.run(clients[0], request(cfg["count"]), cfg["count"], cfg["duration"])
    end = ticks.last if complete else time.perf_counter()
    result = meter.stop()
    delivered, elapsed = ticks.delivered(), end - start
    return {
        **result,
        "recipients": len(targets),
        "delivered": delivered,
        "expected": ticks.expected,
        "complete": complete,
        "elapsed_s": elapsed,
        "msgs_per_s": delivered / elapsed if elapsed > 0 else None,
        "first_ms": (ticks.first - start) * 1e3 if ticks.first else None,
        "last_ms": elapsed * 1e3 if complete else None,
    }


async def _connect_lean(cfg: dict[str, Any]) -> Connections:
    """The clients of the storm and idle scenarios: connections only, so the lean handshake
    client (:mod:`bench.storm`), unless they offer permessage-deflate (picows's, which
    inflates)."""
    if cfg.get("deflate", False):
        return await connect_many(
            cfg["ws_url"], cfg["clients"], cfg["window"], cfg["duration"], deflate=True
        )
    return await connect_many_raw(cfg["ws_url"], cfg["clients"], cfg["window"], cfg["duration"])


async def storm(cfg: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """``clients`` connections (WebSocket + Engine.IO open + CONNECT), ``window`` at a time."""
    emit({"event": "ready"})
    await wait_for_go(cfg["setup"])
    meter.start()
    conns = await _connect_lean(cfg)
    result = meter.stop()
    connected = len(conns.connected)
    return {
        **result,
        "connected": connected,
        "expected": cfg["clients"],
        "errors": conns.errors,
        "last_error": conns.last_error or None,
        "elapsed_s": conns.elapsed_s,
        "cps": connected / conns.elapsed_s if conns.elapsed_s > 0 else None,
    }


async def settle(pid: int, seconds: float, quiet: float = 0.3) -> float:
    """Wait until the server used < 1% of a CPU for ``quiet`` s (at most ``seconds``); the
    time waited."""
    start = time.perf_counter()
    before = procfs.cpu_sample(pid)
    while time.perf_counter() - start < seconds:
        await asyncio.sleep(quiet)
        now = procfs.cpu_sample(pid)
        if (now - before).run_s < 0.01 * quiet:
            break
        before = now
    return time.perf_counter() - start


async def idle(cfg: dict[str, Any], meter: Meter) -> dict[str, Any]:
    """Server memory per idle connection: RSS with ``clients`` more connections, less before.

    One connection is made first (so code paths loaded on first use are in the baseline), and
    both readings wait until the server is idle.
    """
    first = await connect_all(cfg, 1)
    await settle(cfg["server_pid"], 10)
    emit({"event": "ready"})
    await wait_for_go(cfg["setup"])
    meter.start()
    base = procfs.rss_kib(cfg["server_pid"])
    conns = await _connect_lean(cfg)
    connect_s = conns.elapsed_s
    waited = await settle(cfg["server_pid"], 10)
    result = meter.stop()
    connected = len(conns.connected)
    first.close()
    return {
        **result,
        "connected": connected,
        "expected": cfg["clients"],
        "errors": conns.errors,
        "last_error": conns.last_error or None,
        "elapsed_s": connect_s + waited,
        "cps": connected / connect_s if connect_s > 0 else None,
        "rss_base_kib": base,
        "kib_per_conn": (result["server_rss_kib"] - base) / connected if connected else None,
    }


async def run(cfg: dict[str, Any]) -> dict[str, Any]:
    meter = Meter(cfg["server_pid"])
    scenario = cfg["scenario"]
    if scenario in ROUND_TRIPS:
        return await round_trips(cfg, meter, ack=scenario != "echo")
    if scenario in ("broadcast", "room"):
        return await fan_out(cfg, meter, room=scenario == "room")
    if scenario == "storm":
        return await storm(cfg, meter)
    if scenario == "idle":
        return await idle(cfg, meter)
    raise Failed(f"unknown scenario {scenario!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) != 1:
            raise Failed("usage: python -m bench.load '<json config>'")
        cfg = parse_config(args[0])
        procfs.raise_open_files_limit()
        limit = float(cfg["setup"]) * 2 + float(cfg["duration"]) + 30
        result = uvloop.run(asyncio.wait_for(run(cfg), limit))
    except (Failed, ConnectFailed, OSError, ValueError) as exc:
        emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 2
    except TimeoutError:
        emit({"event": "error", "message": "hard time limit reached"})
        return 2
    emit({"event": "result", "scenario": cfg["scenario"], **result})
    return 0


if __name__ == "__main__":
    code = main()
    # Leave at once: closing thousands of sockets one by one adds nothing to the figures.
    os._exit(code)
