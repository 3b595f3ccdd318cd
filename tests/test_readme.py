"""The README's examples run, on asyncio and trio, as a new user would paste them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def runnable_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if "anyio.run(main)" in b]
    assert found, "the README lost its runnable example"
    return found


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("code", runnable_blocks(), ids=lambda c: c.splitlines()[0][:30])
def test_readme_example_runs(code: str, backend: str) -> None:
    code = code.replace("anyio.run(main)", f"anyio.run(main, backend={backend!r})")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "serving on http://127.0.0.1:" in result.stdout
    assert "['delivered']" in result.stdout
