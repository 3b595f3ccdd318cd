"""What a run is written up with: the environment, the chart, and ``docs/performance.md``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from .scenarios import NODE_DIR, PSIO_TARGETS, REFERENCES, ROOT, THINKIO
from .table import GEN_NEAR_SATURATION_PCT, LEGEND, Results, markdown_table

__all__ = ("chart", "dirty_files", "environment", "loadavg", "markdown_doc")

#: Packages whose versions a reader needs to compare runs.
PYTHON_PACKAGES = (
    "thinkio", "anyio", "h11", "wsproto", "trio", "uvloop", "python-socketio",
    "python-engineio", "uvicorn", "httptools", "websockets", "picows",
)  # fmt: skip


def _run(argv: Sequence[str], cwd: Path = ROOT) -> str:
    """The command's output ('' when it cannot run), leading spaces kept (they carry meaning
    in ``git status --porcelain``)."""
    try:
        out = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.rstrip()


def dirty_files(root: Path = ROOT) -> list[str]:
    """Uncommitted changes (tracked or not) under ``thinkio/`` and ``bench/`` in ``root``."""
    out = _run(["git", "status", "--porcelain", "--untracked-files=all", "--", "thinkio",
                "bench"], cwd=root)  # fmt: skip
    return [line[3:] for line in out.splitlines() if line.strip()]


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


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def environment(cores: tuple[int, int] | None) -> dict[str, str]:
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"]) or "unknown"
    subject = _run(["git", "log", "-1", "--format=%s"])[:100]
    dirty = dirty_files()
    if dirty:
        commit += (f" plus uncommitted changes to {len(dirty)} file(s) under thinkio/ or bench/ "
                   "(the working tree was measured)")  # fmt: skip
    elif subject:
        commit += f" ({subject})"
    pins = (
        f"server on CPU {cores[0]}, load generator on CPU {cores[1]} (`taskset -c`)"
        if cores
        else "not pinned (fewer than 2 CPUs, or --no-pin)"
    )
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": f"{os.cpu_count()} CPUs, {_cpu_model()}, {platform.system()} "
        f"{platform.release()}",
        "pinning": pins,
        "python": f"Python {platform.python_version()}; "
        + ", ".join(f"{d} {_version(d)}" for d in PYTHON_PACKAGES),
        "node": f"Node {_run(['node', '--version']) or 'not found'}; socket.io "
        f"{_node_package_version('socket.io')}, engine.io {_node_package_version('engine.io')}, "
        f"ws {_node_package_version('ws')}",
        "loadavg_start": loadavg(),
    }


def busy_machine_note(env: dict[str, str]) -> str:
    """A warning when other work competed for the CPUs during the run, or ''."""
    try:
        peak = max(float(env[k].split()[0]) for k in ("loadavg_start", "loadavg_end"))
    except (KeyError, ValueError, IndexError):
        return ""
    cpus = os.cpu_count() or 1
    if peak <= cpus / 2:
        return ""
    return (
        f"The 1-minute load average was up to {peak:.1f} on {cpus} CPUs during this run: other "
        "processes competed for the cores (the `*` flags and the `+` waits in the CPU table show "
        "where), so throughput and latency include some waiting. `server CPU µs/op` does not, and "
        "is the steadiest figure here.\n\n"
    )


TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1, 2, 2.5, 3, 4, 5, 10, 20, 50, 100)


def chart(results: Results, path: Path) -> None:
    """A PNG of thinkio's ratios against Node and python-socketio (matplotlib, log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    rows = [(s, s.metrics[0]) for s in results.scenarios]
    mine = [s for s in (results.server(k) for k in THINKIO) if s is not None]
    refs = [s for s in (results.server(k) for k in REFERENCES) if s is not None]
    if not mine or not refs:
        raise ValueError("the chart needs a thinkio column and a reference column")
    colors = {"thinkio-uvloop": "#1f77b4", "thinkio-asyncio": "#2ca02c", "thinkio-trio": "#ff7f0e",
              "thinkio-uvloop-py": "#9ecae1"}  # fmt: skip
    fig, axes = plt.subplots(1, len(refs), figsize=(6.5 * len(refs), 0.55 * len(rows) + 2.2),
                             sharey=True, squeeze=False)  # fmt: skip
    height = 0.8 / len(mine)
    labels = [f"{s.title}\n{m.label}" for s, m in rows]
    for ax, ref in zip(axes[0], refs, strict=True):
        for j, server in enumerate(mine):
            for i, (scenario, metric) in enumerate(rows):
                y = i + (j - (len(mine) - 1) / 2) * height
                r = results.ratio(scenario, server.key, ref.key, metric)
                if r is not None:
                    ax.barh(y, r, height=height * 0.9, color=colors.get(server.key, "grey"),
                            label=server.label if i == 0 else None)  # fmt: skip
                target = None
                if ref.key == "python-socketio" and metric.key in scenario.headline:
                    target = PSIO_TARGETS.get(server.key)
                elif server.key == "thinkio-uvloop":
                    target = scenario.node_targets.get(metric.key)
                if target is not None:
                    ax.plot([target, target], [y - height / 2, y + height / 2], color="black",
                            linewidth=1.5)  # fmt: skip
        ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(TICKS))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"thinkio vs {ref.label} (> 1: thinkio better)")
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.grid(axis="x", which="major", alpha=0.3)
        ax.set_xlabel("ratio (log scale); black tick: issue 8's target")
    axes[0][0].invert_yaxis()  # once: the y axis is shared; first scenario on top
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(mine), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _target_summary(results: Results) -> str:
    checks = results.all_checks()
    if not checks:
        return "No target could be checked (a thinkio or reference column is missing).\n"
    held = sum(c.holds for c in checks)
    lines = [f"{held} of {len(checks)} hold in this run.", ""]
    for c in checks:
        mark = "✓" if c.holds else "✗"
        lines.append(f"- {mark} {c.scenario.title}, {c.metric.label}: {c.text()}")
    return "\n".join(lines) + "\n"


def markdown_doc(
    results: Results,
    env: dict[str, str],
    command: str,
    repeat: int,
    quick: bool,
    chart_name: str | None,
) -> str:
    scenario_lines = "\n".join(
        f"- **{s.title}** (`{s.key}`): {s.describe}" for s in results.scenarios
    )
    errors = results.errors()
    error_text = ""
    if errors:
        error_text = "\n## Failures in this run\n\n" + "\n".join(f"- {e}" for e in errors) + "\n"
    picture = f"![thinkio's ratios against each peer]({chart_name})\n\n" if chart_name else ""
    smoke = "Quick profile (smoke counts: the figures mean little). " if quick else ""
    return f"""# Performance

thinkio on uvloop, plain asyncio and trio, next to python-socketio (uvicorn with uvloop and
httptools) and Node's socket.io, measured in one run by `bench/` (`make bench`). Generated by
the command below from a committed tree; rerun it rather than edit this file. The machine is
shared and noisy: compare the columns of one run (the ratios), not figures across runs.

The thinkio uvloop, asyncio and trio columns run the compiled build: the wheel `setup.py`
builds with `THINKIO_MYPYC=1`, whose protocol modules are compiled with mypyc (`make
compiled`; `thinkio --version` names it). "thinkio uvloop, pure Python" is the same server
from the Python source, as a source checkout or a pure-Python wheel runs it.

```
{command}
```

- Date: {env["date"]}
- Commit: {env["commit"]}
- Machine: {env["machine"]}; {env["pinning"]}
- Load average (1, 5, 15 min): {env["loadavg_start"]} at the start, {env["loadavg_end"]} at the end
- {env["python"]}
- {env["node"]}
- {smoke}Each figure is the median of {repeat} run{"s" if repeat != 1 else ""} of the \
scenario, each against a fresh server process; servers interleaved, their order rotated on \
each repeat.

{picture}## Results

{busy_machine_note(env)}{markdown_table(results.rows())}

{LEGEND}
{error_text}
### Issue 8's targets

On uvloop ≥ 1.0x Node for broadcast to 1000 (deliveries/s, time to last delivery), the
connection storm and memory per idle connection; ≥ 0.8x Node for echo and ack round trips at
1, 10 and 100 clients, with p99 latency at 10 clients no worse than Node's; ≥ 4x python-socketio
in every scenario (its headline figures); on plain asyncio ≥ 3x, on trio ≥ 2.5x python-socketio.

{_target_summary(results)}
### The load generator

What it reached against the ceiling server (no protocol work: the most it can measure on this
machine), its CPU share there, and the most it was busy (on its CPU or waiting for it) against
any real server in the scenario. A figure whose generator was busy ≥ \
{GEN_NEAR_SATURATION_PCT:.0f}% of the time carries a `†` above.

{markdown_table(results.generator_rows())}

### CPU use

During the measured phase, in % of one core (median): server (+ its wait for a CPU) / load
generator (+ its wait). The `ceiling (raw)` column is the generator against a server that
does no protocol work: the most this generator measures on this machine.

{markdown_table(results.usage_rows())}

## Scenarios

{scenario_lines}

## Method

- Every server runs the same app (`bench/servers/__init__.py`): `echo` emits its arguments
  back, `ack` acks with them, `async_ack` too from an `async` handler that yields to the event
  loop once first, `broadcast(count, payload)` / `room_broadcast(room, count, payload)` emit
  `tick` `count` times to everyone or to a room, `join(room)`. issue 8 set no target for
  `async_ack` (it came later). Sources:
  `bench/servers/thinkio_server.py` (`--loop uvloop|asyncio|trio`; the compiled build from
  `.build/compiled`, see `bench/compiled.py`),
  `bench/servers/psio_server.py` (`socketio.AsyncServer` + `socketio.ASGIApp` on uvicorn with
  uvloop, httptools and websockets-sansio, what `uvicorn[standard]` installs),
  `bench/node/server.js`, and `bench/servers/raw_server.py` (the ceiling: picows answering
  with pre-built bytes, no Socket.IO). Every server listens on 127.0.0.1, port 0, with its
  defaults; no permessage-deflate anywhere.
- The load generator (`bench/load.py`) is one Python process on uvloop that speaks Engine.IO
  v4 / Socket.IO v5 itself: picows (Cython) parses the server's WebSocket frames, requests are
  pre-built masked frames written straight to the socket, polling is raw keep-alive HTTP/1.1
  parsed by httptools; the storm and idle scenarios, which only connect, use a leaner
  handshake client (`bench/storm.py`: one pre-built upgrade request, a minimal frame reader),
  as picows's handshake cost the generator as much CPU as the fastest server spent on a
  connection. A fresh one runs each measurement; it samples the server's and its own
  CPU (`/proc/<pid>/task/*/schedstat`: time on a CPU and time waiting for one) at the start
  and end of the measured phase.
- Server and generator are pinned to different CPUs and start with their open-files soft
  limit raised to the hard limit. Every load is bounded in count and time; loopback only.
"""
