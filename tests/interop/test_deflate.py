"""``per_message_deflate`` with real clients: Node's socket.io-client (its ``ws`` negotiates
permessage-deflate; ``perMessageDeflate: {threshold: 0}`` makes it compress everything it
sends) and headless Chromium (which always offers it), on asyncio and trio.

Each client reports the extensions its WebSocket negotiated (the 101's
``Sec-WebSocket-Extensions``) and round-trips large compressible messages both ways. What is
compressed frame by frame is checked on the wire in tests/server/test_deflate.py.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio.server import Server, Socket

from ..server.conftest import running
from ..support import missing_part, npm_ci
from . import table
from .harness import CHROMIUM

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

HERE = Path(__file__).resolve().parent
MSGPACK_DIR = HERE / "msgpack"  # socket.io-client 4.x for Node (with ws)
BROWSER_DIR = HERE / "node"  # playwright-core, and the browser bundle of socket.io-client
PUSHED = "server says " * 25_000  # 300 KB


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def deflate_server(deflate: Any) -> Server:
    io = Server(per_message_deflate=deflate)

    @io.on("connect")
    async def on_connect(socket: Socket) -> None:
        await socket.emit("pushed", PUSHED)

    @io.on("big")
    def big(socket: Socket, text: str) -> str:
        return text

    return io


async def run_script(folder: Path, script: str, *args: str) -> dict[str, dict[str, Any]]:
    with anyio.fail_after(70):
        done = await anyio.run_process(
            ["node", str(folder / script), *args],
            check=False,
            env={**os.environ, "NODE_PATH": str(folder / "node_modules")},
        )
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    assert lines and lines[-1].get("done"), (lines, done.stderr.decode()[-2000:])
    assert "error" not in lines[-1], lines[-1]["error"]
    return {line["check"]: line for line in lines if "check" in line}


def check_round_trip(checks: dict[str, dict[str, Any]], size: int) -> None:
    assert checks["big"] == {"check": "big", "same": True, "length": size}
    assert checks["pushed"] == {
        "check": "pushed",
        "length": len(PUSHED),
        "start": PUSHED[:10],
    }


@pytest.mark.parametrize("transport", ["websocket", "upgrade"])
async def test_node_client_negotiates_and_round_trips(transport: str) -> None:
    why = npm_ci(MSGPACK_DIR, "socket.io-client")
    if why:
        missing_part(why)
    async with running(deflate_server(True)) as url:
        checks = await run_script(
            MSGPACK_DIR, "client.js", "--url", url, "--transport", transport, "--deflate"
        )
    if transport == "websocket":
        assert checks["connect"]["extensions"] == "permessage-deflate"
    check_round_trip(checks, 200_000)


async def test_node_client_without_server_deflate_gets_none() -> None:
    why = npm_ci(MSGPACK_DIR, "socket.io-client")
    if why:
        missing_part(why)
    async with running(deflate_server(False)) as url:
        checks = await run_script(
            MSGPACK_DIR, "client.js", "--url", url, "--transport", "websocket", "--deflate"
        )
    assert checks["connect"]["extensions"] == ""  # offered, not accepted: Node's default
    check_round_trip(checks, 200_000)


async def test_chromium_negotiates_and_round_trips(request: pytest.FixtureRequest) -> None:
    why = npm_ci(BROWSER_DIR, "playwright-core")
    if why:
        missing_part(why)
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        missing_part(f"Chromium is not installed at {CHROMIUM}")
    async with running(deflate_server({"threshold": 512})) as url:
        checks = await run_script(BROWSER_DIR, "deflate_chromium.js", "--url", url)
    # For the interop table's label (conftest's recorder; the matrix's driver sets it too).
    request.config.stash[table.RECORDER].versions.setdefault(
        "chromium", checks["browser"]["version"]
    )
    extensions = checks["connect"]["extensions"]
    assert checks["connect"]["transport"] == "websocket"
    assert extensions.startswith("permessage-deflate"), extensions
    check_round_trip(checks, 200_000)


def flag_server() -> Server:
    """``send`` emits PUSHED (over the 1024-byte threshold) to the asking client, in the way
    its argument says, then acks."""
    io = Server(per_message_deflate=True)

    @io.on("send")
    async def send(socket: Socket, how: str) -> None:
        if how == "plain":
            await socket.compress(False).emit("big", PUSHED)
        elif how == "packed":
            await socket.emit("big", PUSHED)
        elif how == "broadcast_plain":
            await io.to(socket.id).compress(False).emit("big", PUSHED)
        elif how == "broadcast_packed":
            await io.to(socket.id).emit("big", PUSHED)

    return io


async def test_node_client_gets_compress_false_frames_uncompressed() -> None:
    why = npm_ci(MSGPACK_DIR, "socket.io-client")
    if why:
        missing_part(why)
    asks = ["plain", "packed", "broadcast_plain", "broadcast_packed", "plain"]
    async with running(flag_server()) as url:
        checks = await run_script(
            MSGPACK_DIR, "deflate_frames.js", "--url", url, "--ask", ",".join(asks)
        )
    assert checks["connect"]["extensions"] == "permessage-deflate"
    wire = len(PUSHED) + len('42["big",""]')
    for how in asks:
        # The "big" event's frame, then the ack's (small: under the threshold, uncompressed).
        big, ack = checks[how]["frames"]
        assert checks[how]["length"] == len(PUSHED), how
        if how.endswith("plain"):
            assert big == [False, wire], how
        else:
            assert big[0] is True and big[1] < wire // 10, how
        assert ack[0] is False, how
