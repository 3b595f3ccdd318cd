"""The benchmark harness runs and produces a figure for every scenario (thinkio only).

A smoke test of ``bench/`` (``python -m bench --quick``) with tiny counts: it checks that each
scenario yields numbers, never how large they are. Speed is measured by ``make bench``, not
asserted here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import QUICK

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("node") is None, reason="the load generator needs node"),
    pytest.mark.skipif(
        not (ROOT / "bench" / "node" / "node_modules" / "socket.io-client").is_dir(),
        reason="bench/node/node_modules missing: `make node-deps` (npm ci in bench/node)",
    ),
]


def test_quick_run_produces_a_figure_for_every_scenario(tmp_path: Path) -> None:
    raw_path = tmp_path / "raw.json"
    doc_path = tmp_path / "performance.md"
    argv = ["--quick", "--servers", "thinkio", "--scale", "0.2"]
    argv += ["--json", str(raw_path), "--write-docs", str(doc_path)]
    # Its own session, so a timeout can kill the harness with every server it started.
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
    for scenario in QUICK:
        [result] = runs[f"{scenario.key} @ thinkio"]
        assert "error" not in result, result
        for metric in scenario.metrics:
            value = result[metric.key]
            assert isinstance(value, int | float) and value >= 0, (scenario.key, metric.key)
    doc = doc_path.read_text()
    assert "python -m bench --quick --servers thinkio" in doc
    assert all(scenario.title in doc for scenario in QUICK)
