"""The ThinkJS guide's scenario, end to end: ``thinkio new``, ``thinkio run``, real Node clients.

Two ``socket.io-client`` clients (``tests/node/guide_clients.js``) against the scaffolded app,
served by ``thinkio run`` on asyncio and on trio:

* the first client gets ``opend`` from the open action, and ``joined`` from its broadcast;
* it gets ``joined`` again when the second client connects (broadcast reaches everyone);
* the second client's ``addUser`` reaches its action, which logs what it received.

With socket.io-client 4.x, and with 2.x (the guide's own client, Engine.IO v3: the scaffold
sets ``allow_eio3``). The browser page is checked too: ``/``, ``/thinkio.json`` (where the page
finds the path) and ``/socket.io/socket.io.js``
(the npm package installed in ``tests/node``).
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

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
OPEND = "This client opened successfully!"
JOINED = "There is a new client joined successfully!"


@pytest.fixture(scope="module")
def node() -> str:
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why:
        missing_part(why)
    return str(shutil.which("node"))


@pytest.fixture(scope="module")
def guide_project(tmp_path_factory: pytest.TempPathFactory, node: str) -> Path:
    root = tmp_path_factory.mktemp("guide") / "app"
    result = thinkio("new", str(root))
    assert result.returncode == 0, result.stderr
    # What `npm install` in the project would give: the client package from the registry.
    (root / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    return root


@pytest.fixture(params=["asyncio", "trio", "2 workers"], scope="module")
def served(request: pytest.FixtureRequest, guide_project: Path) -> Iterator[Served]:
    # "2 workers": the guide's stickyCluster. The two clients land on different workers, so
    # "joined" reaching A when B connects crosses processes (ThinkJS's broadcast would not).
    if request.param == "2 workers":
        server = Served(guide_project, "--workers", "2")
    else:
        server = Served(guide_project, "--backend", str(request.param))
    try:
        yield server
    finally:
        status = server.interrupt()
        assert status == 0, server.log


def run_clients(node: str, url: str, flavour: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [node, str(NODE_DIR / "guide_clients.js"), url, flavour],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode == 0, (lines, result.stderr)
    assert lines[-1] == {"done": True}
    return lines[:-1]


@pytest.mark.parametrize("flavour", ["v4", "v2"])
def test_the_guides_scenario(node: str, served: Served, flavour: str) -> None:
    before = served.log.count("addUser data: 'thinkio-user'")
    received = run_clients(node, served.url, flavour)
    a = [(r["event"], r["args"]) for r in received if r["client"] == "A"]
    b = [(r["event"], r["args"]) for r in received if r["client"] == "B"]
    assert a == [("opend", [OPEND]), ("joined", [JOINED]), ("joined", [JOINED])]
    assert b == [("opend", [OPEND]), ("joined", [JOINED])]
    # The second "joined" of A is B's arrival: it came after A's own.
    order = [(r["client"], r["event"]) for r in received]
    assert order.index(("A", "joined")) < order.index(("B", "opend"))
    # addUser reached its action: the scaffold's controller logs ws_data, websocket, is_websocket.
    log = wait_for_log(served, "addUser data: 'thinkio-user'", before + 1)
    assert "thinkio.controller.websocket: websocket: <Socket " in log
    assert "thinkio.controller.websocket: is_websocket: True" in log
    wait_for_log(served, "left: client namespace disconnect", 2 * (before + 1))
    assert "Traceback" not in served.log


def wait_for_log(served: Served, text: str, count: int, timeout: float = 5.0) -> str:
    """The server's log once ``text`` appeared ``count`` times in it."""
    deadline = time.monotonic() + timeout
    while served.log.count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count} times: {served.log}"
        time.sleep(0.02)
    return served.log


def test_the_page_and_its_client_bundle(served: Served) -> None:
    page = httpx.get(served.url + "/", timeout=5)
    assert page.status_code == 200 and "fetch('/thinkio.json')" in page.text
    assert httpx.get(served.url + "/thinkio.json", timeout=5).json() == {"path": "/socket.io"}
    bundle = httpx.get(served.url + "/socket.io/socket.io.js", timeout=5)
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
    installed = json.loads(
        (NODE_DIR / "node_modules" / "socket.io-client" / "package.json").read_text()
    )["version"]
    assert f"Socket.IO v{installed}" in bundle.text[:200]
