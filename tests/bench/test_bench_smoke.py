"""The benchmark runs end to end and produces a figure for every scenario (thinkio on uvloop).

The quick run's server is the pure-Python one (``thinkio-uvloop-py``); the deflate variant's
runs the compiled build (``bench/compiled.py``), which ``make unit`` builds first.

A smoke test of ``bench/`` (``python -m bench --quick``, tiny counts, about 10 s): it checks
that each scenario yields numbers and that the report is written, never how large the numbers
are. Speed is measured by ``make bench``, not asserted here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.scenarios import QUICK
from tests.support import missing_part

ROOT = Path(__file__).resolve().parents[2]
#: What the load generator and the report need (the bench extra; `make test` installs them).
NEEDED = ("picows", "uvloop", "httptools", "matplotlib")


def test_quick_run_produces_a_figure_for_every_scenario(tmp_path: Path) -> None:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        missing_part(f"the benchmark needs {', '.join(missing)} (pip install -e '.[bench]')")
    raw_path, out = tmp_path / "raw.json", tmp_path / "report"
    argv = ["--quick", "--servers", "thinkio-uvloop-py", "--scale", "0.5"]
    argv += ["--json", str(raw_path), "--out", str(out)]
    # Its own session, so a timeout can kill the harness with every process it started.
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, output
    runs = json.loads(raw_path.read_text())["runs"]
    for scenario in QUICK:
        [result] = runs[f"{scenario.key} @ thinkio-uvloop-py"]
        assert "error" not in result, result
        for metric in scenario.metrics:
            value = result[metric.key]
            assert isinstance(value, int | float) and value >= 0, (scenario.key, metric.key)
        # The server did the work: its CPU was sampled, and the generator's too.
        assert result["server_cpu_s"] > 0 and result["gen_cpu_s"] > 0, scenario.key
    doc = (out / "performance.md").read_text()
    assert "python -m bench --quick --servers thinkio-uvloop-py" in doc
    assert all(scenario.title in doc for scenario in QUICK)


def test_the_deflate_variant_runs_on_request_only(tmp_path: Path) -> None:
    """``thinkio-uvloop-deflate`` (issue 12): not in the default set; when asked for, its
    clients negotiate permessage-deflate (the generator fails the run when no frame came
    compressed) and the echo and broadcast scenarios complete."""
    from bench.run import parse_args

    assert "thinkio-uvloop-deflate" not in parse_args([]).servers.split(",")
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        missing_part(f"the benchmark needs {', '.join(missing)} (pip install -e '.[bench]')")
    raw_path = tmp_path / "raw.json"
    argv = ["--quick", "--servers", "thinkio-uvloop-deflate", "--scale", "0.5"]
    argv += ["--scenarios", "echo-10,bcast-100", "--json", str(raw_path), "--out", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0, output
    runs = json.loads(raw_path.read_text())["runs"]
    for key in ("echo-10", "bcast-100"):
        [result] = runs[f"{key} @ thinkio-uvloop-deflate"]
        assert "error" not in result, result
        assert result["server_cpu_s"] > 0
