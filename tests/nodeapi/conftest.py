"""Fixtures for Node's server API on thinkio: both backends, an in-process server, and runs of
the real socket.io-client 4.x (``tests/node/server_api.js``)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Generator
from pathlib import Path
from typing import Any

import anyio
import pytest

from ..support import missing_part, npm_ci

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
SCRIPT = NODE_DIR / "server_api.js"
TRANSPORTS = ["polling", "websocket"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Checks with the real client (marked ``interop``) go into the interop table, when
    ``pytest tests/interop tests/nodeapi --interop-table PATH`` writes one."""
    report = yield
    from ..interop import table  # only when the interop table may be written

    recorder = item.config.stash.get(table.RECORDER, None)
    backend = getattr(getattr(item, "callspec", None), "params", {}).get("anyio_backend")
    if recorder is not None and backend and item.get_closest_marker("interop"):
        recorder.record_api(item, report, backend)
    return report


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, once tests/node's socket.io-client is installed."""
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why:
        missing_part(why)
    return str(shutil.which("node"))


async def node_client(
    node: str, url: str, transport: str, scenario: str, *extra: str, timeout: float = 20
) -> list[dict[str, Any]]:
    """Run one scenario of ``server_api.js``; its result lines (the final ``done`` checked)."""
    with anyio.fail_after(timeout):
        result = await anyio.run_process(
            [node, str(SCRIPT), url, transport, scenario, *extra],
            check=False,
            env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        )
    out = result.stdout.decode()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert result.returncode == 0 and lines and lines[-1] == {"done": True}, (
        out,
        result.stderr.decode()[-2000:],
    )
    return lines[:-1]
