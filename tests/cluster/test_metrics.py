"""Metrics under ``--workers``: each worker serves its own, labelled with its index."""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from thinkio.cluster import Cluster
from thinkio.server import Server

from .conftest import client

pytestmark = pytest.mark.anyio

APP = "tests.cluster.test_metrics:build_server"


def build_server() -> Server:
    """The worker's app: metrics on, nothing else."""
    return Server(metrics=True)


async def test_each_worker_reports_its_own_sockets(anyio_backend: str) -> None:
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
                for _ in range(4):
                    await stack.enter_async_context(client(url, transports=("websocket",)))
                per_worker: dict[str, float] = {}
                with anyio.fail_after(20):
                    # A scrape reaches the worker the supervisor hands the connection to.
                    while sorted(per_worker) != ["0", "1"]:
                        async with httpx.AsyncClient() as http:
                            text = (await http.get(url + "/metrics")).text
                        for family in text_string_to_metric_families(text):
                            for s in family.samples:
                                if s.name == "thinkio_sockets" and s.labels["namespace"] == "/":
                                    per_worker[s.labels["worker"]] = s.value
            assert sum(per_worker.values()) == 4
        finally:
            with anyio.fail_after(20):
                await cluster.shutdown()
