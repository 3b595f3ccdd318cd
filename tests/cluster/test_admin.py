"""The Admin UI under ``--workers``: each worker reports its own stats, the dashboard sees every
worker's sockets, whichever worker it is connected to."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest

from thinkio.admin import instrument
from thinkio.cluster import Cluster
from thinkio.server import Server

from ..admin.conftest import Inbox
from .conftest import client

pytestmark = pytest.mark.anyio

APP = "tests.cluster.test_admin:build_server"


def build_server() -> Server:
    """The worker's app: an instrumented server (no auth: the test's own machine)."""
    io = Server()
    instrument(io, auth=False, stats_interval=0.2)
    return io


async def test_the_dashboard_sees_every_worker(anyio_backend: str) -> None:
    cluster = Cluster(
        APP, host="127.0.0.1", port=0, workers=2, backend=anyio_backend, shutdown_timeout=2.0
    )
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        try:
            assert cluster.address is not None
            url = cluster.address.url
            async with AsyncExitStack() as stack:
                users = [
                    await stack.enter_async_context(client(url, transports=("websocket",)))
                    for _ in range(4)
                ]
                ids = {u.get_sid("/") for u in users}
                dashboard = client(url, namespaces=("/admin",))
                inbox = Inbox(dashboard, "/admin")
                async with dashboard:
                    (everyone,) = await inbox.wait_until("all_sockets", lambda s: True, 10)
                    listed = {s["id"] for s in everyone if s["nsp"] == "/"}
                    assert listed == ids

                    def both_reported(*_: Any) -> bool:
                        return len({s["serverId"] for (s,) in inbox.items["server_stats"]}) == 2

                    await inbox.wait_until("server_stats", both_reported, 10)
            reports = {s["serverId"]: s for (s,) in inbox.items["server_stats"]}
            pids = {s["pid"] for s in reports.values()}
            assert pids == {w.pid for w in cluster.workers}
            assert all("#" in server_id for server_id in reports)  # host#pid, as Node's workers
            # The sockets per worker add up to the four clients (the stats of one moment).
            latest: dict[str, int] = {}
            for (s,) in inbox.items["server_stats"]:
                latest[s["serverId"]] = {n["name"]: n["socketsCount"] for n in s["namespaces"]}["/"]
            assert sum(latest.values()) == 4
        finally:
            with anyio.fail_after(20):
                await cluster.shutdown()
