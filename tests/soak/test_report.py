"""The soak suite's verdicts, and the /proc readings its figures come from."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from soak.processes import children, fd_count, peak_rss, rss
from soak.profiles import FULL, QUICK
from soak.report import Result


@pytest.mark.parametrize(
    ("passed", "known", "verdict", "fatal"),
    [
        (True, False, "PASS", False),
        (False, False, "FAIL", True),
        (False, True, "FAIL (known)", False),
        # A known failure that passes fails the run, so the list of known failures stays true.
        (True, True, "PASS (listed as a known failure: remove it)", True),
    ],
)
def test_verdicts(passed: bool, known: bool, verdict: str, fatal: bool) -> None:
    result = Result("churn", "trio", {"cycles": 3}, "a goal", passed=passed, known=known)
    assert (result.verdict(), result.fatal()) == (verdict, fatal)
    assert result.line().startswith("churn[trio]: cycles 3 -- ")


def test_the_full_profile_is_the_issue_s_scale_and_quick_is_smaller() -> None:
    assert FULL.churn_cycles == 20_000 and FULL.flood_inputs >= 50_000
    assert FULL.slowloris_seconds > 60  # past Node's headersTimeout
    for name in ("flood_inputs", "churn_cycles", "blast_count", "slowloris_connections"):
        assert getattr(QUICK, name) < getattr(FULL, name), name


def test_proc_readings_of_a_child() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        assert child.pid in children(os.getpid())
        assert 0 < rss(child.pid) <= peak_rss(child.pid)
        assert fd_count(child.pid) >= 3
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(5)
