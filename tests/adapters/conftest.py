"""Fixtures for the adapter tests: both backends, a real ``redis-server``, thinkio servers.

``redis`` is one ``redis-server`` for the whole session (127.0.0.1, a free port, no
persistence). Tests that stop Redis take ``own_redis`` instead. Each test uses its own key
prefix (``key``), so servers of one test never see messages of another.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest

from thinkio.adapters import redis_adapter
from thinkio.client import Client
from thinkio.server import Server

from ..support import Inbox, missing_part

STARTUP_TIMEOUT = 10.0
#: Short timeouts, so failures show quickly.
FAST = {"connect_timeout": 2.0, "command_timeout": 2.0}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """A ``redis-server`` on 127.0.0.1 that a test can stop and start again on its port."""

    def __init__(
        self, *extra_args: str, password: str | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.port = free_port()
        self.password = password
        #: With a context: the server speaks TLS only (its plain port is off).
        self.tls = tls
        self.extra_args = list(extra_args)
        if password is not None:
            self.extra_args += ["--requirepass", password]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password is not None else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--loglevel",
                "warning",
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as raw:
                    s = self.tls.wrap_socket(raw, server_hostname="127.0.0.1") if self.tls else raw
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def started_redis(*args: str, password: str | None = None) -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        missing_part("redis-server is not installed (apt-get install redis-server; make unit does)")
    server = RedisProcess(*args, password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisProcess]:
    """A redis-server shared by the session."""
    yield from started_redis()


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server for one test, which may stop and restart it."""
    yield from started_redis()


@pytest.fixture
def secret_redis() -> Iterator[RedisProcess]:
    """A redis-server for one test that wants a password (``secret``)."""
    yield from started_redis(password="secret")


@pytest.fixture
def key() -> str:
    """A key prefix of the test's own."""
    return f"t-{uuid.uuid4().hex[:10]}"


def cluster_server(url: str, key: str, **kwargs: Any) -> Server:
    """A thinkio server on the Redis adapter, with short timeouts."""
    kwargs.setdefault("ping_interval", 0.5)
    kwargs.setdefault("ping_timeout", 0.5)
    factory = redis_adapter(url, key=key, requests_timeout=2.0, **FAST)
    return Server(adapter=factory, **kwargs)


@asynccontextmanager
async def running(*servers: Server) -> AsyncIterator[list[str]]:
    """Serve each server on a free port for the block; yields their URLs."""
    async with anyio.create_task_group() as tg:
        urls = []
        for io in servers:
            bound = await tg.start(io.serve, "127.0.0.1", 0)
            urls.append(bound.url)
        try:
            yield urls
        finally:
            with anyio.fail_after(10):
                for io in servers:
                    await io.shutdown(timeout=2)


def client(url: str, inbox: Inbox | None = None, *events: str, **kwargs: Any) -> Client:
    """A thinkio client on WebSocket, no reconnection, recording ``events`` in ``inbox``."""
    kwargs.setdefault("reconnection", False)
    kwargs.setdefault("transports", ("websocket",))
    c = Client(url, **kwargs)
    if inbox is not None:
        for event in events:
            c.on(event, inbox.handler(event), namespace=kwargs.get("namespaces", ["/"])[0])
    return c


async def eventually(check: Any, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Wait until ``check()`` (sync or async) is true; fail after ``timeout`` seconds."""
    with anyio.fail_after(timeout):
        while True:
            result = check()
            if hasattr(result, "__await__"):
                result = await result
            if result:
                return
            await anyio.sleep(interval)


class RedisClusterProcesses:
    """Three ``redis-server --cluster-enabled yes`` primaries on 127.0.0.1, joined with
    ``redis-cli --cluster create`` (every slot covered), in a temporary directory."""

    def __init__(self, directory: str) -> None:
        self.nodes = [
            RedisProcess(
                "--cluster-enabled", "yes",
                # The bus port is the port + 10000 by default: past 65535 for a high port.
                "--cluster-port", str(free_port()),
                "--cluster-config-file", f"{directory}/nodes-{i}.conf",
                "--dir", directory,
            )
            for i in range(3)
        ]  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        cli = shutil.which("redis-cli")
        assert cli is not None
        addresses = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            states = [
                subprocess.run(
                    [cli, "-p", str(n.port), "cluster", "info"], capture_output=True, timeout=5
                ).stdout
                for n in self.nodes
            ]
            if all(b"cluster_state:ok" in s for s in states):
                return
            time.sleep(0.05)
        raise RuntimeError("the Redis Cluster did not become ready")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    """A three-node Redis Cluster shared by the session."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        missing_part("redis-server / redis-cli are not installed (make system-deps does)")
    cluster = RedisClusterProcesses(str(tmp_path_factory.mktemp("redis-cluster")))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
