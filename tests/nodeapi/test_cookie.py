"""Node's ``cookie`` option: the session id in a cookie on the handshake response, for sticky
layer-7 load balancers. The real socket.io-client 4.x keeps it (polling); the 101 of a
WebSocket opened first carries it too. Asyncio and trio."""

from __future__ import annotations

import base64
import os

import anyio
import httpx
import pytest

from thinkio.errors import ConfigError
from thinkio.server import Server, Socket

from ..server.conftest import fast_server, running
from .conftest import node_client

pytestmark = pytest.mark.anyio


@pytest.mark.interop
async def test_socket_io_client_keeps_the_session_cookie(node: str) -> None:
    """The `cookie` option: the client (`withCredentials`, polling) keeps the session cookie
    from the handshake answer, named and valued as set (the session id)."""
    io = fast_server(cookie={"name": "lb", "sameSite": "strict"})

    @io.on("ready")
    def ready(socket: Socket) -> str:
        return socket.handshake.cookies.get("lb", "no cookie in the handshake")

    async with running(io) as url:
        (line,) = await node_client(node, url, "polling", "cookie")
    assert line["cookies"] == [{"name": "lb", "value": line["engineId"]}]
    # The handshake request itself had none (the cookie comes with its answer).
    assert line["ack"] == "no cookie in the handshake"


async def test_handshake_answers_carry_the_cookie() -> None:
    io = fast_server(cookie=True)
    async with running(io) as url:
        async with httpx.AsyncClient() as http:
            got = await http.get(f"{url}/socket.io/?EIO=4&transport=polling")
            sid = got.text.split('"sid":"')[1].split('"')[0]
            assert got.headers.get_list("set-cookie") == [
                f"io={sid}; HttpOnly; Path=/; SameSite=Lax"
            ]
            # Later requests of the session: no new cookie.
            again = await http.get(f"{url}/socket.io/?EIO=4&transport=polling&sid={sid}")
            assert "set-cookie" not in again.headers
        host, port = url.removeprefix("http://").split(":")
        key = base64.b64encode(os.urandom(16)).decode()
        with anyio.fail_after(5):
            stream = await anyio.connect_tcp(host, int(port))
            async with stream:
                await stream.send(
                    (
                        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                        f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                    ).encode()
                )
                head = b""
                while b"\r\n\r\n" not in head:
                    head += await stream.receive()
        lines = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 101 Switching Protocols"
        cookies = [v for k, _, v in (h.partition(": ") for h in lines[1:]) if k == "set-cookie"]
        assert len(cookies) == 1 and cookies[0].startswith("io=") and "SameSite=Lax" in cookies[0]


async def test_no_cookie_by_default_and_bad_options_are_refused() -> None:
    io = fast_server()
    async with running(io) as url, httpx.AsyncClient() as http:
        got = await http.get(f"{url}/socket.io/?EIO=4&transport=polling")
        assert got.status_code == 200 and "set-cookie" not in got.headers
    with pytest.raises(ConfigError, match="unknown key 'nam'"):
        Server(cookie={"nam": "x"})
    with pytest.raises(ConfigError, match="same_site"):
        Server(cookie={"sameSite": "sometimes"})
