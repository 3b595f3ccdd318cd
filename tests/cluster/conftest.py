"""Fixtures for the cluster tests: both backends, a real cluster, raw polling and raw HTTP.

A cluster here is real: a supervisor in the test's event loop (asyncio or trio) and worker
processes on the same backend, running ``tests.cluster.app:build_server``, on 127.0.0.1 and a
free port. Every wait is bounded; the supervisor kills its workers when the test ends, even
when it fails.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import h11
import httpx
import pytest
from anyio.abc import SocketStream

from thinkio.client import Client
from thinkio.cluster import Cluster

APP = "tests.cluster.app:build_server"
EIO = "/socket.io/?EIO=4&transport=polling"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def running_cluster(
    backend: str, workers: int = 3, app: str = APP, **options: Any
) -> AsyncIterator[Cluster]:
    """A cluster serving ``app`` (the test app) for the block; shut down (bounded) after it."""
    options.setdefault("shutdown_timeout", 2.0)
    options.setdefault("startup_timeout", 20.0)
    cluster = Cluster(app, host="127.0.0.1", port=0, workers=workers, backend=backend, **options)
    async with anyio.create_task_group() as tg:
        with anyio.fail_after(30):
            await tg.start(cluster.run)
        try:
            yield cluster
        finally:
            with anyio.fail_after(20):
                await cluster.shutdown()


def url_of(cluster: Cluster) -> str:
    assert cluster.address is not None
    return cluster.address.url


def owner(sid: str) -> int:
    """The worker index a cluster sid names."""
    return int(sid.split(".", 1)[0])


def client(url: str, **kwargs: Any) -> Client:
    kwargs.setdefault("reconnection", False)
    kwargs.setdefault("connect_timeout", 10.0)
    return Client(url, **kwargs)


class Inbox:
    """Collects what a client receives, per event; tests wait for a count."""

    def __init__(self, c: Client, *events: str) -> None:
        self.items: dict[str, list[tuple[Any, ...]]] = {e: [] for e in events}
        self._changed = anyio.Event()
        for event in events:
            c.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Any:
        def record(*args: Any) -> None:
            self.items[event].append(args)
            self._changed.set()
            self._changed = anyio.Event()

        return record

    async def wait_for(self, event: str, count: int, timeout: float = 5.0) -> list[tuple[Any, ...]]:
        with anyio.fail_after(timeout):
            while len(self.items[event]) < count:
                await self._changed.wait()
        return self.items[event]


class Polling:
    """One Engine.IO polling session driven by hand, over a given httpx client."""

    def __init__(self, http: httpx.AsyncClient, base: str, headers: dict[str, str] | None = None):
        self.http = http
        self.base = base
        self.headers = headers or {}
        self.sid = ""

    @property
    def url(self) -> str:
        return f"{self.base}{EIO}&sid={self.sid}"

    async def open(self) -> str:
        r = await self.http.get(self.base + EIO, headers=self.headers)
        assert r.status_code == 200, r.text
        assert r.text.startswith("0"), r.text
        self.sid = json.loads(r.text[1:])["sid"]
        return self.sid

    async def post(self, *packets: str) -> None:
        r = await self.http.post(self.url, content="\x1e".join(packets), headers=self.headers)
        assert (r.status_code, r.text) == (200, "ok"), (self.sid, r.status_code, r.text)

    async def get(self) -> list[str]:
        r = await self.http.get(self.url, headers=self.headers)
        assert r.status_code == 200, (self.sid, r.status_code, r.text)
        packets = r.text.split("\x1e")
        if "2" in packets:  # a server ping: answer it
            await self.post("3")
        return [p for p in packets if p != "2"]

    async def until(self, prefix: str, timeout: float = 5.0) -> str:
        """Poll until a packet starting with ``prefix`` arrives; returns it."""
        with anyio.fail_after(timeout):
            while True:
                for packet in await self.get():
                    if packet.startswith(prefix):
                        return packet

    async def connect_namespace(self) -> None:
        await self.post("40")
        await self.until("40")

    async def echo(self, ack_id: int, value: Any) -> None:
        await self.post(f"42{ack_id}" + json.dumps(["echo", value]))
        assert await self.until(f"43{ack_id}") == f"43{ack_id}" + json.dumps(
            [value], separators=(",", ":")
        )


class RawHttp:
    """HTTP/1.1 over one TCP connection that the test controls (h11 client side)."""

    def __init__(self, stream: SocketStream, host: str) -> None:
        self.stream = stream
        self.host = host
        self.h11 = h11.Connection(h11.CLIENT)

    @classmethod
    @asynccontextmanager
    async def connect(cls, host: str, port: int) -> AsyncIterator[RawHttp]:
        async with await anyio.connect_tcp(host, port) as stream:
            yield cls(stream, f"{host}:{port}")

    async def send_head(self, method: str, target: str, length: int | None = None) -> None:
        headers = [("host", self.host)]
        if length is not None:
            headers.append(("content-length", str(length)))
        await self.stream.send(
            self.h11.send(h11.Request(method=method, target=target, headers=headers))
        )

    async def send_body(self, body: bytes, *, end: bool = True) -> None:
        data = (self.h11.send(h11.Data(data=body)) or b"") if body else b""
        if end:
            data += self.h11.send(h11.EndOfMessage()) or b""
        await self.stream.send(data)

    async def response(self) -> tuple[int, bytes]:
        status, chunks = 0, []
        with anyio.fail_after(10):
            while True:
                event = self.h11.next_event()
                if event is h11.NEED_DATA:
                    self.h11.receive_data(await self.stream.receive())
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    assert (b"connection", b"close") not in list(event.headers)
                elif isinstance(event, h11.Data):
                    chunks.append(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self.h11.start_next_cycle()
                    return status, b"".join(chunks)
                else:
                    raise AssertionError(f"unexpected {event!r}")

    async def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        await self.send_head(method, target, len(body) if method == "POST" else None)
        if method == "POST":
            await self.send_body(body)
        else:
            await self.stream.send(self.h11.send(h11.EndOfMessage()) or b"")
        return await self.response()
