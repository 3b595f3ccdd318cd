"""The README's programs run, on asyncio and trio, as a new user would paste them.

Its other blocks are commands for a terminal, marked as excerpts (tests/docblocks.py checks
that every block is one or the other).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .docblocks import Block, of_kind, run_program


def runnable_blocks() -> list[Block]:
    found = of_kind("program", "README.md")
    assert found, "the README lost its runnable example"
    assert all("anyio.run(main)" in b.code for b in found)
    return found


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("block", runnable_blocks(), ids=lambda b: f"README.md:{b.line}")
def test_readme_example_runs(block: Block, backend: str, tmp_path: Path) -> None:
    result = run_program(block.code, backend, tmp_path)  # checks the "# ['delivered']" line
    assert "serving on http://127.0.0.1:" in result.stdout
    assert "['delivered']" in result.stdout
