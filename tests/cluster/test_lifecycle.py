"""A cluster's life: a dying worker is restarted, shutdown is bounded, signals stop ``serve``."""

from __future__ import annotations

import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from thinkio.cluster import Cluster, WorkerFailed
from thinkio.errors import ConfigError
from thinkio.server import PortInUse

from .conftest import Inbox, client, running_cluster, url_of

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_killed_worker_is_restarted_and_serves_new_clients(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="thinkio.cluster")
    async with running_cluster(anyio_backend, workers=2) as cluster:
        url = url_of(cluster)
        old = cluster.worker_pids()
        victim = client(url, transports=("websocket",))
        inbox = Inbox(victim, "disconnect")
        async with victim:
            pid = (await victim.call("whoami"))[0][0]
            index = old.index(pid)
            os.kill(pid, signal.SIGKILL)
            assert (await inbox.wait_for("disconnect", 1, timeout=10))[0][0] == "transport close"
            with anyio.fail_after(20):
                while cluster.worker_pids()[index] in (None, pid):
                    await anyio.sleep(0.05)
        new = cluster.worker_pids()
        assert new[index] != pid and new[1 - index] == old[1 - index]
        assert cluster.restarts == 1
        assert any(
            f"worker {index} (pid {pid}) exited" in r.getMessage()
            and "restarting" in r.getMessage()
            for r in caplog.records
        )
        # New clients land on both workers, the restarted one included, and the bus works.
        clients = [client(url) for _ in range(2)]
        inboxes = [Inbox(c, "news") for c in clients]
        async with clients[0], clients[1]:
            pids = {(await c.call("whoami"))[0][0] for c in clients}
            assert pids == set(new)
            await clients[0].call("broadcast", "after restart")
            for box in inboxes:
                assert (await box.wait_for("news", 1))[0][1] == "after restart"


async def test_graceful_shutdown_closes_sessions_and_stops_workers(anyio_backend: str) -> None:
    async with anyio.create_task_group() as tg:
        cluster = Cluster(
            "tests.cluster.app:build_server", port=0, workers=3, backend=anyio_backend,
            shutdown_timeout=5.0,
        )  # fmt: skip
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        clients = [
            client(url_of(cluster), transports=t)
            for t in [("websocket",), ("polling", "websocket"), ("websocket",)]
        ]
        inboxes = [Inbox(c, "disconnect") for c in clients]
        async with AsyncExitStack() as stack:
            for c in clients:
                await stack.enter_async_context(c)
            pids = [p for p in cluster.worker_pids() if p is not None]
            started = time.monotonic()
            with anyio.fail_after(10):
                await cluster.shutdown()
            elapsed = time.monotonic() - started
            for box in inboxes:  # every client was told, none was cut off
                reason = (await box.wait_for("disconnect", 1))[0][0]
                assert reason in ("transport close", "io server disconnect"), reason
    assert elapsed < 4.0, elapsed  # nobody needed the 5 s of grace
    assert not any(_alive(p) for p in pids)


async def test_a_stuck_worker_is_killed_at_the_shutdown_deadline(
    anyio_backend: str, tmp_path: Path
) -> None:
    async with anyio.create_task_group() as tg:
        cluster = Cluster(
            "tests.cluster.app:build_server", port=0, workers=2, backend=anyio_backend,
            shutdown_timeout=1.0,
        )  # fmt: skip
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        stuck = client(url_of(cluster), transports=("websocket",))
        async with stuck:
            marker = tmp_path / "stuck"
            await stuck.emit("hang", 30, str(marker))  # blocks its worker's event loop
            with anyio.fail_after(10):
                while not marker.exists():  # written by the handler just before it blocks
                    await anyio.sleep(0.01)
            pids = [p for p in cluster.worker_pids() if p is not None]
            started = time.monotonic()
            with anyio.fail_after(10):
                await cluster.shutdown()
            elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 4.0, elapsed
    assert not any(_alive(p) for p in pids)


async def test_a_worker_that_cannot_start_fails_the_cluster(anyio_backend: str) -> None:
    cluster = Cluster("tests.cluster.app:no_such_factory", port=0, workers=2, backend=anyio_backend)
    with anyio.fail_after(30), pytest.raises(WorkerFailed, match="before it was ready"):
        await cluster.run()
    assert all(w.process is None or w.process.returncode is not None for w in cluster.workers)


async def test_port_in_use(anyio_backend: str) -> None:
    async with running_cluster(anyio_backend, workers=1) as cluster:
        assert cluster.address is not None
        other = Cluster("tests.cluster.app:build_server", port=cluster.address.port, workers=1)
        with pytest.raises(PortInUse):
            await other.run()


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="workers"):
        Cluster("tests.cluster.app:build_server", workers=0)
    with pytest.raises(ConfigError, match="backend"):
        Cluster("tests.cluster.app:build_server", backend="curio")
    with pytest.raises(ConfigError, match="import string"):
        Cluster("tests.cluster.app")
    with pytest.raises(ConfigError, match="cannot be imported"):
        Cluster(lambda: None)


def _ready_script(backend: str) -> str:
    return (
        "import logging; logging.basicConfig(level=logging.INFO);"
        "from thinkio.cluster import serve;"
        f"serve('tests.cluster.app:build_server', '127.0.0.1', 0, workers=2, backend={backend!r},"
        " shutdown_timeout=3)"
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_serve_stops_on_a_signal(backend: str, signum: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _ready_script(backend)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put("")  # end of output

    threading.Thread(target=read, daemon=True).start()

    def read_until(text: str, timeout: float) -> str:
        seen = ""
        deadline = time.monotonic() + timeout
        while text not in seen:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {timeout} s:\n{seen}") from None
            if not line:
                raise AssertionError(f"exited ({proc.poll()}) before {text!r}:\n{seen}")
            seen += line
        return seen

    try:
        started = read_until("listening on", 30)
        workers = [int(m.group(1)) for m in re.finditer(r"serving \(pid (\d+)\)", started)]
        assert len(workers) == 2, started
        proc.send_signal(signum)
        read_until("shutting down", 10)
        assert proc.wait(timeout=15) == 0
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in workers):
            assert time.monotonic() < deadline, "workers outlived the supervisor"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


async def test_an_app_object_with_factory_arguments(anyio_backend: str) -> None:
    """The factory gets ``app_args``; the worker serves ``obj.io`` and stops via ``obj.shutdown``."""
    async with anyio.create_task_group() as tg:
        cluster = Cluster(
            "tests.cluster.app:build_wrapped", app_args=["hi there"], port=0, workers=2,
            backend=anyio_backend, shutdown_timeout=3.0,
        )  # fmt: skip
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        c = client(url_of(cluster), transports=("websocket",))
        inbox = Inbox(c, "bye")
        async with c:
            assert await c.call("greeting") == ["hi there"]
            with anyio.fail_after(10):
                await cluster.shutdown()
            assert (await inbox.wait_for("bye", 1))[0] == ("hi there",)
