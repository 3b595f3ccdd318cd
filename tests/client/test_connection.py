"""The client against a real server: namespaces, refusals, heartbeats, reconnection, giving up.

Runs against every server in ``conftest.SERVERS``, on asyncio and trio.
"""

from __future__ import annotations

import socket
from typing import Any

import anyio
import pytest

from thinkio.client import Client
from thinkio.errors import ConnectionFailed, ConnectRefused, ConnectRejected, Disconnected

from .conftest import ServerProcess
from .test_events import TRANSPORTS, Inbox

pytestmark = [pytest.mark.anyio, pytest.mark.interop]


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_two_namespaces(server_url: str, mode: str) -> None:
    client = Client(
        server_url, namespaces=("/", "/custom"), transports=TRANSPORTS[mode], auth={"k": 1}
    )
    root = Inbox(client, "auth", "message-back")
    custom = Inbox(client, "auth", namespace="/custom")
    async with client:
        assert client.connected
        sid, custom_sid = client.get_sid("/"), client.get_sid("/custom")
        assert sid and custom_sid and sid != custom_sid
        assert await root.get("auth") == ({"k": 1},)
        assert await custom.get("auth") == ({"k": 1},)
        await client.emit("message", "on root")
        assert await root.get("message-back") == ("on root",)


async def test_only_a_custom_namespace(server_url: str) -> None:
    client = Client(server_url, namespaces=("/custom",), transports=("websocket",))
    custom = Inbox(client, "auth", namespace="/custom")
    async with client:
        assert client.sid == client.get_sid("/custom")
        assert client.get_sid("/") is None
        assert await custom.get("auth") == ({},)
        with pytest.raises(Disconnected):
            await client.emit("message", "x")  # "/" was not joined


@pytest.mark.parametrize("mode", ["polling", "websocket"])
async def test_invalid_namespace_is_refused(server_url: str, mode: str) -> None:
    client = Client(server_url, namespaces=("/nope",), transports=TRANSPORTS[mode])
    errors: list[Exception] = []
    client.on("connect_error", errors.append, namespace="/nope")
    with anyio.fail_after(10):
        with pytest.raises(ConnectRefused) as info:
            await client.connect()
    assert isinstance(info.value, ConnectRejected)
    assert info.value.namespace == "/nope"
    assert info.value.message == "Invalid namespace"
    assert not client.connected
    # The connect_error handler ran before connect() gave up.
    assert [type(e) for e in errors] == [ConnectRefused]


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_heartbeats_keep_the_connection_alive(server_url: str, mode: str) -> None:
    # The reference server pings every 300 ms and gives 200 ms for the pong (PROTOCOL.md
    # 1.5): without pongs the session would die after 0.5 s.
    disconnects: list[str] = []
    client = Client(server_url, transports=TRANSPORTS[mode], reconnection=False)
    client.on("disconnect", disconnects.append)
    async with client:
        # Real time must pass: the heartbeat runs on the reference server's own timers.
        await anyio.sleep(1.5)
        assert client.connected
        assert await client.call("message-with-ack", "still here") == ["still here"]
    assert disconnects == ["io client disconnect"]


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_reconnects_after_the_server_restarts(own_server: ServerProcess, mode: str) -> None:
    events: list[tuple[str, Any]] = []
    client = Client(
        own_server.url,
        transports=TRANSPORTS[mode],
        namespaces=("/", "/custom"),
        reconnection_delay=0.05,
        reconnection_delay_max=0.2,
        reconnection_attempts=100,
    )
    for ns in ("/", "/custom"):
        client.on("connect", lambda ns=ns: events.append(("connect", ns)), namespace=ns)
        client.on("disconnect", lambda r, ns=ns: events.append(("disconnect", ns, r)), namespace=ns)
    async with client:
        if mode == "upgrade":
            with anyio.fail_after(5):
                while client.transport != "websocket":
                    await anyio.sleep(0.01)
        first_sid = client.sid
        own_server.stop()
        with anyio.fail_after(5):
            while client.connected:
                await anyio.sleep(0.01)
        with pytest.raises(Disconnected):
            await client.emit("message", "nobody listens")
        own_server.start()
        with anyio.fail_after(10):
            while not client.connected:
                await anyio.sleep(0.02)
        assert client.sid != first_sid
        assert await client.call("message-with-ack", "back") == ["back"]
        assert await client.call("message-with-ack", "back", namespace="/") == ["back"]
    connects = [e for e in events if e[0] == "connect"]
    disconnects = [e for e in events if e[0] == "disconnect"]
    assert sorted(connects) == sorted([("connect", "/"), ("connect", "/custom")] * 2)
    # One unexpected disconnect per namespace (the server died), then the client's own.
    reasons = [e[2] for e in disconnects]
    assert reasons.count("io client disconnect") == 2
    assert len(reasons) == 4
    assert all(
        r in ("transport close", "transport error", "ping timeout", "io client disconnect")
        for r in reasons
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", sorted(TRANSPORTS))
async def test_gives_up_when_nothing_listens(mode: str) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    client = Client(
        url,
        transports=TRANSPORTS[mode],
        reconnection_attempts=2,
        reconnection_delay=0.01,
        reconnection_delay_max=0.02,
    )
    errors: list[Exception] = []
    client.on("connect_error", errors.append)
    with anyio.fail_after(10), pytest.raises(ConnectionFailed) as info:
        await client.connect()
    assert info.value.attempts == 3
    assert info.value.url == url
    assert isinstance(info.value.last_error, OSError)
    assert info.value.__cause__ is info.value.last_error
    assert "after 3 attempt(s)" in str(info.value)
    assert len(errors) == 3
    assert not client.connected


async def test_no_retry_without_reconnection() -> None:
    client = Client(f"http://127.0.0.1:{_free_port()}", reconnection=False)
    with anyio.fail_after(10), pytest.raises(ConnectionFailed) as info:
        await client.connect()
    assert info.value.attempts == 1


async def test_gives_up_after_the_server_dies(own_server: ServerProcess) -> None:
    client = Client(
        own_server.url,
        transports=("websocket",),
        reconnection_attempts=2,
        reconnection_delay=0.01,
        reconnection_delay_max=0.02,
    )
    async with client:
        own_server.stop()
        with anyio.fail_after(10), pytest.raises(ConnectionFailed) as info:
            await client.wait()
        assert info.value.attempts == 2
        with pytest.raises(ConnectionFailed):
            await client.emit("message", "x")
    assert not client.connected
