"""The docs' code runs: the ThinkJS guide page's files load, the embedding example serves.

``docs/guide/thinkjs.md``: every ``python`` block compiles; every block starting with
``# file: PATH`` is written, in page order, into a project made by ``thinkio new``, and the
project must load after each one (settings valid, every route resolved).
``docs/examples/embed.py`` runs on asyncio and trio.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from thinkio import App
from thinkio.scaffold import create_project

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "guide" / "thinkjs.md"
FILE_MARK = re.compile(r"# file: (\S+)\n")


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", ["guide/thinkjs.md", "embedding.md"])
def test_every_python_block_compiles(page: str) -> None:
    blocks = python_blocks(DOCS / page)
    assert blocks
    for block in blocks:
        # Fragments of actions and programs may use await at their top level.
        compile(block, page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def test_the_guide_files_load_in_order(tmp_path: Path) -> None:
    root = tmp_path / "app"
    create_project(root)
    files = [b for b in python_blocks(GUIDE) if FILE_MARK.match(b)]
    assert len(files) >= 8
    written = set()
    for block in files:
        path = FILE_MARK.match(block)
        assert path is not None
        (root / path.group(1)).write_text(block, encoding="utf-8")
        written.add(path.group(1))
        app = App.from_project(root)
        assert {r.event for r in app.routes} >= {"open", "addUser"}
    assert written == {"config/config.py", "config/adapter.py", "controller/websocket.py"}
    assert app.config.middleware and app.config.middleware[0].__name__ == "check_token"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_embedding_example_runs(backend: str) -> None:
    result = subprocess.run(
        [sys.executable, str(DOCS / "examples" / "embed.py"), backend],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("serving on http://127.0.0.1:")
    assert lines[1:] == [
        "welcome: hello ann",
        "said: ann: hi",
        "ack: ['delivered']",
        "got a tick from the program's own task",
    ]
