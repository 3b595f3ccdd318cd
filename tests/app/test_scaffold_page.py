"""The page ``thinkio new`` writes, in headless Chromium, served by ``thinkio run``.

* With ``path = "/ws"`` in config/adapter.py, the page still connects: it asks
  ``/thinkio.json`` where Socket.IO is, loads the browser client from there, and connects
  with that path (``opend``, ``joined``, then ``addUser`` reaches the action).
* Without ``npm install`` the page says what is missing instead of staying dead, and the
  server warned at start-up, naming the fix.

``tests/app/node/scaffold_page.js`` drives Debian's ``/usr/bin/chromium`` through
playwright-core; ``socket.io-client`` from the same folder is what ``npm install`` gives a
project (symlinked into it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..support import missing_part, npm_ci
from .processes import Served, thinkio

pytestmark = pytest.mark.interop

NODE_DIR = Path(__file__).resolve().parent / "node"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def node() -> str:
    why = npm_ci(NODE_DIR, "playwright-core")
    if why:
        missing_part(why)
    if not CHROMIUM.is_file():
        missing_part(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    return str(shutil.which("node"))


def new_project(root: Path, *, path: str, installed: bool) -> Path:
    result = thinkio("new", str(root))
    assert result.returncode == 0, result.stderr
    adapter = root / "config" / "adapter.py"
    text = adapter.read_text(encoding="utf-8")
    assert '"path": "/socket.io",' in text
    adapter.write_text(text.replace('"path": "/socket.io",', f'"path": "{path}",'), "utf-8")
    if installed:  # what `npm install` in the project gives
        (root / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    return root


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    project = new_project(tmp_path / "app", **request.param)
    server = Served(project)
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            assert server.interrupt() == 0, server.log
        server.kill()
    assert "Traceback" not in server.log, server.log


def drive(node: str, url: str, name: str) -> dict[str, Any]:
    result = subprocess.run(
        [node, str(NODE_DIR / "scaffold_page.js"), url, name],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {result.returncode})\n{result.stdout}\n{result.stderr}"
    outcome: dict[str, Any] = json.loads(lines[-1])
    return outcome


@pytest.mark.parametrize("served", [{"path": "/ws", "installed": True}], indirect=True)
def test_the_page_follows_a_changed_path(served: Served, node: str) -> None:
    assert httpx.get(f"{served.url}/thinkio.json", timeout=5).json() == {"path": "/ws"}
    assert httpx.get(f"{served.url}/ws/socket.io.js", timeout=5).status_code == 200
    outcome = drive(node, served.url, "ann")
    assert outcome["ok"], outcome
    assert outcome["log"].splitlines() == [
        "opend: This client opened successfully!",
        "joined: There is a new client joined successfully!",
        "addUser: ann (see the server log)",
    ]
    assert "browser client is not installed" not in served.log
    # The click's addUser reached the action, which logs it (a bounded wait for the line).
    deadline = time.monotonic() + 5
    while "addUser data: 'ann'" not in served.log and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "addUser data: 'ann'" in served.log


@pytest.mark.parametrize("served", [{"path": "/socket.io", "installed": False}], indirect=True)
def test_a_project_without_npm_install_says_so(served: Served, node: str) -> None:
    outcome = drive(node, served.url, "-")
    assert outcome["ok"], outcome
    assert outcome["log"] == (
        "the socket.io browser client is missing: run `npm install` in the project\n"
    )
    project = Path(served.banner.split()[2]).resolve()
    (warning,) = [line for line in served.stderr if "WARNING" in line]
    assert warning.split(" WARNING thinkio.app: ")[1].strip() == (
        f"the socket.io browser client is not installed: run `npm install` in {project} "
        "(its package.json lists socket.io-client); until then /socket.io/socket.io.js "
        "answers 404 and pages that load it never connect (set serve_client = False if they "
        "load it from elsewhere)"
    )
