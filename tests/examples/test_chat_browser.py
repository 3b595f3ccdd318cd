"""The example chat app (``examples/chat``), end to end, as a user runs it.

``thinkio run examples/chat --port 0 --backend {asyncio,trio}`` in a subprocess, then:

* **headless Chromium** (Debian's ``/usr/bin/chromium``, driven by ``playwright-core`` from npm,
  which downloads no browser): two pages, Alice and Bob, join; Bob learns Alice is here and
  Alice sees Bob join, both see "2 participants"; Alice types and Bob sees "Alice is typing…",
  which goes away after a second of no typing and when she sends; her message reaches Bob as
  text (HTML in it stays text) and is not echoed back; Bob answers; Bob closes his page and
  Alice sees him leave and the count drop. Over ``?transports=websocket`` and
  ``?transports=polling`` (the page's transport badge must show it, start to end), and with
  the page's default (polling, upgraded to WebSocket).
  ``tests/examples/node/chat_browser.js`` does the driving; screenshots go to the test's tmp
  directory (never into git): set ``CHAT_SCREENSHOTS=DIR`` to keep copies.
* the real Node ``socket.io-client`` 4.x (``tests/examples/node/chat_rules.js``): the server's
  rules, exactly: user counts across disconnects, a socket that never picked a name is never
  announced and cannot chat, names are checked, nothing is echoed to its sender.
* the page and the browser bundle are served, and the bundle is the npm package, not in git.

Every wait is bounded (the scripts stop themselves; a subprocess timeout backs them up), and
teardown kills every server, driver and browser this module started, by pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..app.processes import Served
from ..support import missing_part, npm_ci

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat"
NODE_DIR = Path(__file__).resolve().parent / "node"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCRIPT_TIMEOUT = 60.0  # seconds, for one driver run (each script stops itself sooner)


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        missing_part("node is not installed")
    for folder, marker in ((NODE_DIR, "playwright-core"), (CHAT, "socket.io-client")):
        why = npm_ci(folder, marker)
        if why:
            missing_part(why)
    return path


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.is_file():
        missing_part(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    return CHROMIUM


@pytest.fixture(params=["asyncio", "trio"], scope="module")
def served(request: pytest.FixtureRequest, node: str) -> Iterator[Served]:
    server = Served(CHAT, "--backend", str(request.param))
    try:
        yield server
    finally:
        if server.proc.poll() is None:
            try:
                assert server.interrupt() == 0, server.log
            finally:
                server.kill()
    assert "Traceback" not in server.log, server.log


def _browsers_under(folder: Path) -> list[int]:
    """Pids of the Chromium processes whose profile playwright made in ``folder``."""
    mark = f"{folder}{os.sep}playwright_".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if mark in cmdline:
            pids.append(int(entry.name))
    return pids


def run_node(node: str, script: str, *args: str) -> dict[str, Any]:
    """Run a driver script to completion; its one JSON line, or the test fails with its output.

    ``TMPDIR`` is a fresh short folder of the test's own (Chromium puts a Unix socket in it,
    whose path must stay under 108 bytes, which a pytest-xdist worker's ``tmp_path`` can
    pass), so the fresh Chromium profile playwright makes lands there; whatever the driver
    leaves running under it is killed afterwards, by pid.
    """
    short = Path(tempfile.mkdtemp(prefix="tio-", dir="/tmp"))
    try:
        return _run_node(node, script, *args, tmp=short)
    finally:
        shutil.rmtree(short, ignore_errors=True)


def _run_node(node: str, script: str, *args: str, tmp: Path) -> dict[str, Any]:
    proc = subprocess.Popen(
        [node, str(NODE_DIR / script), *args],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp), "CHROMIUM": str(CHROMIUM)},
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=SCRIPT_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # playwright closes its browser on SIGTERM
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
        pytest.fail(f"{script} did not finish in {SCRIPT_TIMEOUT} s\n{out}\n{err}")
    finally:
        for pid in _browsers_under(tmp):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"{script} printed no result (exit {proc.returncode})\n{out}\n{err}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, indent=2) + "\n" + err
    return result


@pytest.mark.parametrize("transport", ["websocket", "polling", "default"])
def test_two_people_chat_in_chromium(
    served: Served, node: str, chromium: Path, transport: str, tmp_path: Path
) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    left_before = served.log.count(" left (")
    started = time.monotonic()
    result = run_node(node, "chat_browser.js", served.url, transport, str(shots))
    assert time.monotonic() - started < SCRIPT_TIMEOUT
    assert result["transport"] == transport
    assert result["steps"][-1] == "the transport never changed"
    for shot in map(Path, result["screenshots"]):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    keep = os.environ.get("CHAT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        backend = served.banner.rsplit("(", 1)[-1].rstrip(")")
        for shot in map(Path, result["screenshots"]):
            shutil.copy(shot, Path(keep) / f"{backend}-{shot.name}")
    # Bob closed his page, then the browser closed with Alice's: the server saw both leave.
    deadline = time.monotonic() + 5
    while served.log.count(" left (") < left_before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.log.count(" left (") == left_before + 2, served.log


@pytest.mark.parametrize("transports", ["polling,websocket", "polling", "websocket"])
def test_server_rules_with_node_client(served: Served, node: str, transports: str) -> None:
    result = run_node(node, "chat_rules.js", served.url, transports)
    assert result["logs"]["carol"] == []  # never picked a name: told nothing
    assert [e[0] for e in result["logs"]["alice"]] == [
        "login",
        "userJoined",
        "userLeft",
        "userJoined",
        "userLeft",
    ]


def test_page_and_browser_bundle_are_served(served: Served, node: str) -> None:
    page = httpx.get(served.url + "/", timeout=5)
    assert page.status_code == 200
    assert '<script src="/socket.io/socket.io.js"></script>' in page.text
    for asset in ("/main.js", "/style.css"):
        assert httpx.get(served.url + asset, timeout=5).status_code == 200
    bundle = httpx.get(served.url + "/socket.io/socket.io.js", timeout=5)
    assert bundle.status_code == 200
    installed = CHAT / "node_modules" / "socket.io-client"
    version = json.loads((installed / "package.json").read_text())["version"]
    assert version.startswith("4.8.")
    assert bundle.content == (installed / "dist" / "socket.io.js").read_bytes()


def test_the_bundle_is_not_in_git() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "examples/chat"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    assert "examples/chat/package-lock.json" in tracked
    assert not [f for f in tracked if "node_modules" in f or f.endswith("socket.io.js")]
    lock = json.loads((CHAT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/socket.io-client"]["version"].startswith("4.8.")
