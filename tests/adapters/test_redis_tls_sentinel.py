"""Redis over TLS, with a self-signed certificate made here for 127.0.0.1."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from thinkio.adapters import redis_adapter
from thinkio.server import Server

from ..support import missing_part
from .conftest import FAST, Inbox, RedisProcess, client, free_port, running

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[RedisProcess, ssl.SSLContext]]:
    openssl = shutil.which("openssl")
    if openssl is None or shutil.which("redis-server") is None:
        missing_part("openssl and redis-server are needed (make system-deps installs them)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    server = RedisProcess(tls=context)
    server.extra_args += [
        "--port", "0", "--tls-port", str(server.port),
        "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
    ]  # fmt: skip
    server.start()
    try:
        yield server, context
    finally:
        server.stop()


async def test_two_servers_over_tls(tls_redis: tuple[RedisProcess, ssl.SSLContext]) -> None:
    redis, context = tls_redis
    url = f"rediss://127.0.0.1:{redis.port}/0"

    def make() -> Server:
        return Server(adapter=redis_adapter(url, key="tls", ssl_context=context, **FAST))

    a, b = make(), make()
    async with running(a, b) as (_, url_b):
        box = Inbox()
        async with client(url_b, box, "news"):
            await a.emit("news", "over tls")
            assert await box.wait_for(1) == [("news", ("over tls",))]
            assert await a.sockets.adapter.server_count() == 2


async def test_a_certificate_the_client_does_not_trust_fails_at_start(
    tls_redis: tuple[RedisProcess, ssl.SSLContext],
) -> None:
    import anyio

    redis, _ = tls_redis
    url = f"rediss://127.0.0.1:{redis.port}/0"  # the system's CAs: the self-signed one is not
    io = Server(adapter=redis_adapter(url, key="tls", connect_timeout=1, command_timeout=1))
    with anyio.fail_after(10), pytest.raises(BaseException) as info:
        async with anyio.create_task_group() as tg:
            await tg.start(io.serve, "127.0.0.1", 0)
    assert "not subscribed" in repr(info.value), info.value


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[tuple[RedisProcess, RedisProcess, int]]:
    """A primary, a replica and one Sentinel watching them (quorum 1)."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing_part("redis-server is not installed (make system-deps does)")
    primary = RedisProcess()
    primary.start()
    replica = RedisProcess("--replicaof", "127.0.0.1", str(primary.port))
    replica.start()
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {primary.port} 1\n"
        "sentinel down-after-milliseconds mymaster 1000\n"
        "sentinel failover-timeout mymaster 5000\n"
    )
    sentinel = subprocess.Popen(
        [binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        cli = shutil.which("redis-cli") or "redis-cli"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the Sentinel knows the primary and replica
            info = subprocess.run(
                [cli, "-p", str(port), "sentinel", "replicas", "mymaster"],
                capture_output=True, timeout=5,
            ).stdout  # fmt: skip
            if str(replica.port).encode() in info:
                break
            time.sleep(0.05)
        yield primary, replica, port
    finally:
        sentinel.kill()
        sentinel.wait(timeout=10)
        replica.stop()
        primary.stop()


async def test_sentinel_failover(sentinel_setup: tuple[RedisProcess, RedisProcess, int]) -> None:
    import anyio

    primary, _replica, sentinel_port = sentinel_setup
    sentinels = ((("127.0.0.1", sentinel_port)),)

    def make() -> Server:
        factory = redis_adapter("redis://127.0.0.1/0", key="sentinel", sentinels=sentinels, **FAST)
        return Server(adapter=factory)

    a, b = make(), make()
    async with running(a, b) as (_, url_b):
        box = Inbox()
        async with client(url_b, box, "news"):
            await a.emit("news", "before")
            assert await box.wait_for(1) == [("news", ("before",))]
            primary.stop()  # the Sentinel promotes the replica
            with anyio.fail_after(20):
                while len(box.items) < 2:
                    await a.emit("news", "after")
                    with anyio.move_on_after(0.5):  # not yet promoted: publish again
                        await box.wait_for(len(box.items) + 1, timeout=20)
            assert box.items[-1] == ("news", ("after",))
