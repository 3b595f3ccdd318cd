"""What the benchmark runs: the servers, the scenarios, their metrics and issue 8's targets."""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = (
    "EXTRA_SERVERS",
    "FULL",
    "QUICK",
    "REFERENCES",
    "ROUND_TRIPS",
    "SERVERS",
    "THINKIO",
    "Metric",
    "Scenario",
    "ServerSpec",
)

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "node"


@dataclass(frozen=True)
class ServerSpec:
    key: str
    label: str  # column heading
    short: str  # in ratio headings
    argv: tuple[str, ...]
    polling: bool = True  # serves Engine.IO long-polling
    load: dict[str, Any] = field(default_factory=dict)  # extra generator settings
    compiled: bool = False  # runs thinkio's compiled build (bench/compiled.py)


def _py(module: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", module, *args)


#: The thinkio columns run the compiled build (setup.py's ``THINKIO_MYPYC=1``: the protocol
#: modules compiled with mypyc), as its wheels install; ``thinkio-uvloop-py`` is the same
#: server from the Python source, as a source checkout or a pure wheel runs it.
SERVERS: dict[str, ServerSpec] = {
    spec.key: spec
    for spec in (
        ServerSpec("thinkio-uvloop", "thinkio uvloop", "uvloop",
                   _py("bench.servers.thinkio_server", "--loop", "uvloop"), compiled=True),
        ServerSpec("thinkio-asyncio", "thinkio asyncio", "asyncio",
                   _py("bench.servers.thinkio_server", "--loop", "asyncio"), compiled=True),
        ServerSpec("thinkio-trio", "thinkio trio", "trio",
                   _py("bench.servers.thinkio_server", "--loop", "trio"), compiled=True),
        ServerSpec("thinkio-uvloop-py", "thinkio uvloop, pure Python", "uvloop-py",
                   _py("bench.servers.thinkio_server", "--loop", "uvloop")),
        ServerSpec("python-socketio", "python-socketio", "psio", _py("bench.servers.psio_server")),
        ServerSpec("node", "Node socket.io", "Node", ("node", str(NODE_DIR / "server.js"))),
        ServerSpec("ceiling", "ceiling (raw)", "raw", _py("bench.servers.raw_server"),
                   polling=False),
    )
}  # fmt: skip

#: Variants run only when asked for (``--servers``): the default set and its figures stay as
#: they are. ``thinkio-uvloop-deflate``: permessage-deflate with threshold 0, so every message
#: of every scenario is compressed (the worst case: Engine.IO's default threshold, 1024 bytes,
#: would leave the scenarios' 64-character payloads uncompressed); its generator offers the
#: extension and inflates what it receives.
EXTRA_SERVERS: dict[str, ServerSpec] = {
    spec.key: spec
    for spec in (
        ServerSpec("thinkio-uvloop-deflate", "thinkio uvloop deflate", "deflate",
                   _py("bench.servers.thinkio_server", "--loop", "uvloop", "--deflate", "0"),
                   load={"deflate": True}, compiled=True),
    )
}  # fmt: skip

#: The thinkio columns ratios are computed for, and what they are compared with.
THINKIO = ("thinkio-uvloop", "thinkio-asyncio", "thinkio-trio", "thinkio-uvloop-py")
REFERENCES = ("node", "python-socketio")
#: Issue 8: each thinkio column's least ratio over python-socketio, in every scenario.
PSIO_TARGETS = {"thinkio-uvloop": 4.0, "thinkio-asyncio": 3.0, "thinkio-trio": 2.5}


#: The load generator's kinds of sequential round trips (each names the event it sends,
#: ``echo`` emitted back, the others acked).
ROUND_TRIPS = ("echo", "ack", "async_ack")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool
    ratio: bool = True  # False: shown, never compared (the generator's own CPU)


RPS = Metric("rps", "round trips/s", True)
P50 = Metric("p50_ms", "p50 latency ms", False)
P99 = Metric("p99_ms", "p99 latency ms", False)
MPS = Metric("msgs_per_s", "deliveries/s", True)
FIRST = Metric("first_ms", "first delivery ms", False)
LAST = Metric("last_ms", "time to last delivery ms", False)
CPS = Metric("cps", "connections/s", True)
KIB = Metric("kib_per_conn", "KiB per idle connection", False)
CPU = Metric("cpu_us_per_op", "server CPU µs/op", False)
GEN = Metric("gen_pct", "generator CPU % of its core", False, ratio=False)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    describe: str
    load: dict[str, Any]
    metrics: tuple[Metric, ...]
    ops_key: str  # the result field that counts operations (for CPU per operation)
    headline: tuple[str, ...]  # metric keys the python-socketio targets apply to
    node_targets: dict[str, float] = field(default_factory=dict)  # metric key -> least ratio

    @property
    def kind(self) -> str:
        return str(self.load["scenario"])

    @property
    def polling(self) -> bool:
        return self.load.get("transport") == "polling"

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
        title = f"{self.title} (counts x{factor:g})"
        return dataclasses.replace(self, title=title, load=load, describe=describe)


def _round_trips(
    kind: str, clients: int, seconds: float, transport: str = "websocket", rounds: int = 100_000,
    warmup: int = 20, size: int = 64, node: float | None = 0.8, p99: bool = False,
    psio: bool = True,
) -> Scenario:  # fmt: skip
    """``node``: the least ratio to Node's round trips/s (None: no target); ``psio``: whether
    python-socketio's targets apply (issue 8's scenarios; ``async_ack`` came later)."""
    polling = transport == "polling"
    what = {
        "ack": f"`emitWithAck('ack', i, {size}-char string)`, the server acks with the same "
        "arguments",
        "async_ack": f"`emitWithAck('async_ack', i, {size}-char string)`, an `async` handler "
        "yields to the event loop once, then acks with the same arguments (every server's "
        "handlers are coroutines here, thinkio's too)",
        "echo": f"`emit('echo', i, {size}-char string)`, the server emits `echo` back with them",
    }[kind]
    node_targets = {} if node is None else {"rps": node}
    if p99:
        node_targets["p99_ms"] = 1.0
    return Scenario(
        f"{'poll' if polling else kind.replace('_', '-')}-{clients}",
        f"{'polling ack' if polling else kind.replace('_', ' ')}, {clients} "
        f"client{'s' if clients > 1 else ''}",
        f"{clients} {transport} client(s), each doing sequential round trips: {what}. At most "
        f"{rounds} per client and {seconds:g} s, after {warmup} unmeasured ones per client "
        f"(whose replies are checked against the request).",
        {"scenario": kind, "transport": transport, "clients": clients, "rounds": rounds,
         "duration": seconds, "warmup": warmup, "size": size},
        (RPS, P50, P99, CPU, GEN),
        "rounds",
        ("rps",) if psio else (),
        node_targets,
    )  # fmt: skip


def _fan_out(clients: int, count: int, rooms: int, seconds: float, size: int = 64) -> Scenario:
    room = rooms > 0
    target = f"room `room-0` ({clients // rooms} of the clients)" if room else "every client"
    return Scenario(
        f"{'room' if room else 'bcast'}-{clients}",
        f"{'room broadcast' if room else 'broadcast'}, {clients} clients",
        f"{clients} WebSocket clients connected{f', spread over {rooms} rooms' if room else ''}; "
        f"one asks the server to send {count} broadcasts (`tick`, i, {size}-char string) to "
        f"{target}. Timed from that request to the last tick reaching the last recipient "
        f"(at most {seconds:g} s; a 10-broadcast warm-up burst goes first).",
        {"scenario": "room" if room else "broadcast", "clients": clients, "count": count,
         "rooms": max(rooms, 1), "warmup": 10, "duration": seconds, "size": size},
        (MPS, LAST, FIRST, CPU, GEN),
        "delivered",
        ("msgs_per_s", "last_ms"),
        {} if room else {"msgs_per_s": 1.0, "last_ms": 1.0},
    )  # fmt: skip


def _storm(clients: int, window: int, seconds: float) -> Scenario:
    return Scenario(
        f"storm-{clients}",
        "connection storm",
        f"{clients} clients connect over WebSocket (upgrade, Engine.IO open, Socket.IO CONNECT "
        f"acked), {window} handshakes in flight at a time, at most {seconds:g} s.",
        {"scenario": "storm", "clients": clients, "window": window, "duration": seconds},
        (CPS, CPU, GEN),
        "connected",
        ("cps",),
        {"cps": 1.0},
    )  # fmt: skip


def _idle(clients: int, window: int, seconds: float) -> Scenario:
    return Scenario(
        f"idle-{clients}",
        f"memory, {clients} idle connections",
        f"With one client connected and the server idle, its RSS is read; then {clients} more "
        f"connect ({window} at a time, at most {seconds:g} s), the server is left to go idle "
        f"(< 1% CPU for 0.3 s, at most 10 s), and RSS is read again: (RSS after - RSS before) "
        f"/ {clients}. Connections answer the server's pings.",
        {"scenario": "idle", "clients": clients, "window": window, "duration": seconds},
        (KIB, CPU, GEN),
        "connected",
        ("kib_per_conn",),
        {"kib_per_conn": 1.0},
    )  # fmt: skip


FULL: tuple[Scenario, ...] = (
    _round_trips("echo", 1, 3),
    _round_trips("echo", 10, 3, p99=True),
    _round_trips("echo", 100, 3, warmup=5),
    _round_trips("ack", 1, 3),
    _round_trips("ack", 10, 3, p99=True),
    _round_trips("ack", 100, 3, warmup=5),
    _round_trips("async_ack", 10, 3, node=None, psio=False),
    _fan_out(1000, 60, 0, 30),
    _fan_out(1000, 300, 10, 30),
    _storm(1000, 50, 30),
    _idle(5000, 50, 60),
    _round_trips("ack", 20, 3, transport="polling", warmup=5, node=None),
)

QUICK: tuple[Scenario, ...] = (
    _round_trips("echo", 10, 0.3, warmup=5, p99=True),
    _round_trips("ack", 10, 0.3, warmup=5, p99=True),
    _round_trips("async_ack", 10, 0.3, warmup=5, node=None, psio=False),
    _fan_out(100, 10, 0, 10),
    _fan_out(100, 10, 10, 10),
    _storm(100, 20, 10),
    _idle(100, 50, 10),
    _round_trips("ack", 5, 0.3, transport="polling", warmup=2, node=None),
)
