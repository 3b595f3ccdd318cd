"""The ``admin`` setting: a project instruments its server for the Admin UI, under
``thinkio run`` with and without ``--workers``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from thinkio import App
from thinkio.client import Client
from thinkio.errors import ConfigError

from .processes import Served, thinkio

ADMIN_NODE_DIR = Path(__file__).resolve().parents[1] / "admin"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = thinkio("new", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "app"


def server_ids(url: str, wanted: int) -> set[str]:
    """Connect to /admin as the dashboard does; the serverIds of the reports seen until
    ``wanted`` servers reported."""
    seen: set[str] = set()

    async def main() -> None:
        done = anyio.Event()

        def stats(report: dict[str, Any]) -> None:
            seen.add(report["serverId"])
            if len(seen) >= wanted:
                done.set()

        dashboard = Client(url, namespaces=("/admin",), reconnection=False)
        dashboard.on("server_stats", stats, namespace="/admin")
        async with dashboard:
            with anyio.fail_after(15):
                await done.wait()

    anyio.run(main)
    return seen


@pytest.mark.parametrize("workers", [1, 2])
def test_thinkio_run_serves_the_admin_ui(project: Path, workers: int) -> None:
    with (project / "config" / "config.py").open("a") as config:
        config.write(
            f'\nadmin = {{"auth": False, "stats_interval": 0.2, "ui": "/admin", '
            f'"ui_dir": {str(ADMIN_NODE_DIR)!r}}}\n'
        )
    if not (ADMIN_NODE_DIR / "node_modules" / "@socket.io" / "admin-ui").is_dir():
        pytest.skip("tests/admin/node_modules is missing: run `make node-deps`")
    served = Served(project, "--workers", str(workers))
    try:
        page = httpx.get(served.url + "/admin/", timeout=5)
        assert page.status_code == 200 and "Socket.IO Admin UI" in page.text
        ids = server_ids(served.url, workers)
        assert len(ids) == workers
    finally:
        assert served.interrupt() == 0, served.log


def test_the_admin_setting_is_checked() -> None:
    app = App(admin={"auth": False, "readonly": True})
    assert app.admin is not None and app.admin.features == ["AGGREGATED_EVENTS", "ALL_EVENTS"]
    with pytest.raises(ConfigError, match="'auth' is required"):
        App(admin={"mode": "production"})
    with pytest.raises(ConfigError, match="unknown key 'uath'"):
        App(admin={"uath": False})
    with pytest.raises(ConfigError, match=r"admin: auth\.password: expected a bcrypt hash"):
        App(admin={"auth": {"username": "a", "password": "plain"}})
    assert App().admin is None
