"""The benchmark's arithmetic and its write-up: ratios, issue 8's targets, the chart, the
refusal to write docs/performance.md from a tree with uncommitted changes.

Results here are given, not measured: these tests check what the bench computes from them.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.report import chart, dirty_files
from bench.run import refuse_dirty_docs
from bench.scenarios import FULL, SERVERS
from bench.table import Results, derive
from tests.support import missing_part

ACK_10 = next(s for s in FULL if s.key == "ack-10")
IDLE = next(s for s in FULL if s.key == "idle-5000")


def _run(**figures: Any) -> dict[str, Any]:
    base = {"window_s": 2.0, "server_cpu_s": 1.0, "server_wait_s": 0.0, "gen_cpu_s": 0.5,
            "gen_wait_s": 0.0, "errors": 0, "rounds": 1000, "connected": 5000,
            "expected": 5000}  # fmt: skip
    return {**base, **figures}


def _results() -> Results:
    servers = [SERVERS[k] for k in ("thinkio-uvloop", "thinkio-trio", "python-socketio", "node")]
    results = Results([ACK_10, IDLE], servers)
    figures = {  # round trips/s, p99 ms, KiB per connection
        "thinkio-uvloop": (8000, 2.0, 16.0),
        "thinkio-trio": (5250, 4.0, 20.0),
        "python-socketio": (2100, 8.0, 80.0),
        "node": (10000, 1.0, 16.0),
    }
    for server in servers:
        rps, p99, kib = figures[server.key]
        for _ in range(3):
            results.add(ACK_10, server, derive(ACK_10, _run(rps=rps, p50_ms=p99 / 2, p99_ms=p99)))
            results.add(IDLE, server, derive(IDLE, _run(kib_per_conn=kib)))
    return results


def test_ratios_say_how_many_times_better_thinkio_is_whatever_the_unit() -> None:
    results = _results()
    rps, _, p99 = ACK_10.metrics[:3]
    assert results.ratio(ACK_10, "thinkio-uvloop", "node", rps) == pytest.approx(0.8)
    assert results.ratio(ACK_10, "thinkio-uvloop", "node", p99) == pytest.approx(0.5)
    assert results.ratio(ACK_10, "thinkio-trio", "python-socketio", rps) == pytest.approx(2.5)
    # CPU per operation comes from the server's CPU time and the operations counted.
    [cpu] = [m for m in ACK_10.metrics if m.key == "cpu_us_per_op"]
    assert results.cell(ACK_10, SERVERS["node"], cpu).value == pytest.approx(1000.0)


def test_targets_hold_at_their_minimum_and_are_named_when_missed() -> None:
    results = _results()
    checks = {(c.metric.key, c.server.key, c.reference.key): c for c in results.all_checks()}
    assert checks["rps", "thinkio-uvloop", "node"].holds  # 0.8x Node: exactly the target
    assert not checks["p99_ms", "thinkio-uvloop", "node"].holds  # twice Node's p99
    assert checks["rps", "thinkio-trio", "python-socketio"].holds  # 2.5x
    assert not checks["rps", "thinkio-uvloop", "python-socketio"].holds  # 3.8x, 4x wanted
    assert checks["kib_per_conn", "thinkio-uvloop", "python-socketio"].holds  # 5x less memory
    rows = {(r[0] or "", r[1]): r for r in results.rows()}
    p99_row = next(r for (_, metric), r in rows.items() if metric == "p99 latency ms")
    assert p99_row[-1] == "✗ uvloop ≥ 1x Node: 0.50x"


def test_the_chart_is_drawn(tmp_path: Path) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        missing_part("the chart needs matplotlib (pip install -e '.[bench]')")
    path = tmp_path / "performance.png"
    chart(_results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_docs_are_refused_while_bench_or_thinkio_has_uncommitted_changes(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        missing_part("git is not installed")
    repo = tmp_path / "repo"
    (repo / "bench").mkdir(parents=True)
    (repo / "docs").mkdir()
    (repo / "bench" / "run.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    refuse_dirty_docs(repo)  # committed: no complaint
    (repo / "docs" / "notes.md").write_text("docs/ may change\n")
    assert dirty_files(repo) == []
    (repo / "bench" / "run.py").write_text("x = 2\n")
    (repo / "thinkio").mkdir()
    (repo / "thinkio" / "new.py").write_text("")
    assert sorted(dirty_files(repo)) == ["bench/run.py", "thinkio/new.py"]
    with pytest.raises(SystemExit, match=r"refused.*bench/run\.py, thinkio/new\.py"):
        refuse_dirty_docs(repo)
