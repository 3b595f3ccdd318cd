"""The official Admin UI dashboard, served by thinkio, in headless Chromium: it logs in over
the /admin namespace and lists the sockets of real clients.

``THINKIO_UPDATE_SCREENSHOT=1`` also writes the screenshot to docs/admin-ui.png.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import anyio
import httpx
import pytest

from thinkio.admin import instrument
from thinkio.client import Client
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
            ids = [first.get_sid("/"), second.get_sid("/")]
            shot = tmp_path / "admin-ui.png"
            with anyio.fail_after(90):
                result = await anyio.run_process(
                    [
                        "node",
                        str(HERE / "dashboard.js"),
                        f"--dashboard={url}/admin/",
                        f"--server={url}",
                        f"--username={USERNAME}",
                        f"--password={PASSWORD}",
                        f"--expect={','.join(str(i) for i in ids)}",
                        f"--screenshot={shot}",
                        f"--executable={CHROMIUM}",
                    ],
                    check=False,
                )
            report = json.loads(result.stdout.decode().strip().splitlines()[-1])
            assert report["ok"], report.get("error") or result.stderr.decode()
            # The Sockets page shows namespace "/": exactly the two clients.
            assert sorted(report["listed"]) == sorted(ids)
            assert report["servers"] == 1
            assert shot.read_bytes().startswith(b"\x89PNG")
            if os.environ.get("THINKIO_UPDATE_SCREENSHOT"):
                shutil.copyfile(shot, REPO / "docs" / "admin-ui.png")
