"""The official Admin UI dashboard, served by thinkio, in headless Chromium: it logs in over
the /admin namespace and lists the sockets of real clients.

``THINKIO_UPDATE_SCREENSHOT=1`` also writes the screenshot to docs/admin-ui.png.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from thinkio.admin import instrument
from thinkio.client import Client
from thinkio.cluster import Cluster
from thinkio.server import Server, Socket

from ..server.conftest import running
from .conftest import HASH, PASSWORD, USERNAME

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = os.environ.get("THINKIO_CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = REPO / "tests" / "interop" / "node" / "node_modules" / "playwright-core"


def missing() -> str | None:
    """Why the dashboard cannot be driven here (None: it can)."""
    if shutil.which("node") is None:
        return "node is not installed (make system-deps)"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (make system-deps)"
    for needed in (PLAYWRIGHT, HERE / "node_modules" / "@socket.io" / "admin-ui"):
        if not needed.exists():
            return f"{needed} is missing: run `make node-deps`"
    return None


def require_browser() -> None:
    reason = missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"prerequisite missing in CI: {reason}")
        pytest.skip(reason)


async def drive_dashboard(url: str, ids: list[str], *extra: str) -> dict[str, Any]:
    """``dashboard.js`` against the dashboard at ``url/admin/`` (which must list ``ids``);
    its report, checked ok."""
    with anyio.fail_after(90):
        result = await anyio.run_process(
            [
                "node",
                str(HERE / "dashboard.js"),
                f"--dashboard={url}/admin/",
                f"--server={url}",
                f"--username={USERNAME}",
                f"--password={PASSWORD}",
                f"--expect={','.join(ids)}",
                f"--executable={CHROMIUM}",
                *extra,
            ],
            check=False,
        )
    report: dict[str, Any] = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert report["ok"], report.get("error") or result.stderr.decode()
    return report


async def test_the_dashboard_lists_the_connected_sockets(tmp_path: Path) -> None:
    require_browser()
    io = Server()

    @io.on("connect")
    def connected(socket: Socket) -> None:
        socket.join("lobby")
        socket.data["user"] = f"user-{len(io.sockets.sockets)}"

    instrument(
        io,
        auth={"type": "basic", "username": USERNAME, "password": HASH},
        server_id="thinkio-docs",
        ui="/admin",
        ui_dir=HERE,
    )
    async with running(io) as url:
        async with httpx.AsyncClient() as http:
            redirect = await http.get(url + "/admin")
            assert redirect.status_code == 301 and redirect.headers["location"] == "/admin/"
            page = await http.get(url + "/admin/")
            assert page.status_code == 200 and "Socket.IO Admin UI" in page.text
        async with (
            Client(url, transports=("websocket",), reconnection=False) as first,
            Client(url, transports=("polling",), reconnection=False) as second,
        ):
            ids = [str(first.get_sid("/")), str(second.get_sid("/"))]
            shot = tmp_path / "admin-ui.png"
            report = await drive_dashboard(url, ids, f"--screenshot={shot}")
            # The Sockets page shows namespace "/": exactly the two clients.
            assert sorted(report["listed"]) == sorted(ids)
            assert report["servers"] == 1
            assert shot.read_bytes().startswith(b"\x89PNG")
            if os.environ.get("THINKIO_UPDATE_SCREENSHOT"):
                shutil.copyfile(shot, REPO / "docs" / "admin-ui.png")


def build_cluster_server() -> Server:
    """A worker's app: the dashboard (its files, basic auth), and ``pid`` answering which worker
    a client reached."""
    io = Server()
    instrument(
        io,
        auth={"type": "basic", "username": USERNAME, "password": HASH},
        ui="/admin",
        ui_dir=HERE,
        stats_interval=0.5,
    )

    @io.on("pid")
    def pid(socket: Socket) -> int:
        return os.getpid()

    return io


async def test_the_dashboard_shows_every_worker(anyio_backend: str) -> None:
    require_browser()
    cluster = Cluster(
        "tests.admin.test_dashboard:build_cluster_server",
        host="127.0.0.1",
        port=0,
        workers=2,
        backend=anyio_backend,
        shutdown_timeout=2.0,
    )
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        try:
            assert cluster.address is not None
            url = cluster.address.url
            async with AsyncExitStack() as stack:
                users = [
                    await stack.enter_async_context(
                        Client(url, transports=("websocket",), reconnection=False)
                    )
                    for _ in range(4)
                ]
                with anyio.fail_after(10):
                    pids = {(await user.call("pid"))[0] for user in users}
                # handshakes go round robin: the sockets are on both workers
                assert pids == {worker.pid for worker in cluster.workers}
                ids = [str(user.get_sid("/")) for user in users]
                # the dashboard reaches one worker; it lists the other's sockets too
                report = await drive_dashboard(url, ids, "--servers=2")
            assert sorted(report["listed"]) == sorted(ids)
            assert report["servers"] == 2
        finally:
            with anyio.fail_after(20):
                await cluster.shutdown()
