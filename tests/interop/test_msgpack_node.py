"""``parser="msgpack"`` against the real npm ``socket.io-msgpack-parser`` in socket.io-client 4.x.

The server runs in-process (asyncio and trio); ``msgpack/client.js`` connects with the msgpack
parser over each transport and reports what it saw. Checked on both sides: connect with auth,
an emit with nested data and Buffers acked back unchanged, the server's emit on connect, a
server-to-client call, a second namespace, a middleware refusal (connect_error with data), an
unknown namespace, and a server-side disconnect.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio.errors import ConnectRejected
from thinkio.server import Server, Socket

from ..server.conftest import running
from ..support import missing_part, npm_ci
from . import table
from .harness import CHROMIUM

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

NODE_DIR = Path(__file__).resolve().parent / "msgpack"
BROWSER_DIR = Path(__file__).resolve().parent / "node"  # playwright-core, the browser bundles


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def node() -> str:
    why = npm_ci(NODE_DIR, "socket.io-msgpack-parser")
    if why:
        missing_part(why)
    return str(shutil.which("node"))


async def run_node(node: str, *args: str) -> list[dict[str, Any]]:
    """Run ``client.js`` with ``args``; its JSON lines (it exits on its own within 30 s)."""
    with anyio.fail_after(40):
        done = await anyio.run_process(
            [node, str(NODE_DIR / "client.js"), *args],
            check=False,
            env={**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")},
        )
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    assert lines and lines[-1].get("done"), (lines, done.stderr.decode()[-2000:])
    assert "error" not in lines[-1], lines[-1]["error"]
    return lines


def by_check(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["check"]: line for line in lines if "check" in line}


def msgpack_server() -> tuple[Server, dict[str, Any]]:
    io = Server(parser="msgpack", ping_interval=5, ping_timeout=5)
    seen: dict[str, Any] = {}

    @io.on("connect")
    async def on_connect(socket: Socket) -> None:
        seen["auth"] = socket.auth
        await socket.emit("welcome", "hello", b"\x01\x02\x03")
        answer = await socket.call("question", "life", timeout=5)
        seen["answer"] = answer
        await socket.emit("asked", answer[0])

    @io.on("echo")
    def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        seen["echo"] = args
        return args

    @io.on("bye")
    async def bye(socket: Socket) -> None:
        await socket.disconnect()

    @io.of("/chat").on("hello")
    def hello(socket: Socket, text: str) -> str:
        return f"chat got {text}"

    @io.of("/private").use
    def refuse(socket: Socket) -> None:
        raise ConnectRejected("not allowed", {"code": 403})

    return io, seen


@pytest.mark.parametrize("transport", ["polling", "websocket", "upgrade"])
async def test_node_msgpack_client(node: str, transport: str) -> None:
    io, seen = msgpack_server()
    async with running(io) as url:
        checks = by_check(await run_node(node, "--url", url, "--transport", transport))

    expected_transport = "polling" if transport == "polling" else "websocket"
    assert checks["connect"]["transport"] in (expected_transport, "polling")
    assert seen["auth"] == {"token": "let-me-in"}
    assert checks["welcome"] == {
        "check": "welcome",
        "greeting": "hello",
        "blob": "010203",
        "isBuffer": True,
    }
    # What the server decoded: bytes where Node sent Buffers, numbers and nesting kept.
    assert seen["echo"] == (
        {"nested": {"list": [1, 2.5, "three", None, True], "bin": b"\xde\xad"}},
        b"\x00\xff binary",
        -42,
    )
    assert checks["echo"] == {"check": "echo", "args": 3, "bin": "dead"}
    assert seen["answer"] == ["answer to life", b"\x00\x01\x02"]
    assert checks["asked"]["answer"] == ["answer to life"]
    assert checks["chat"] == {"check": "chat", "ack": ["chat got from chat"], "sameEngine": True}
    assert checks["private"] == {
        "check": "private",
        "message": "not allowed",
        "data": {"code": 403},
    }
    assert checks["nowhere"]["message"] == "Invalid namespace"
    assert checks["disconnect"]["reason"] == "io server disconnect"


@pytest.mark.parametrize("transport", ["polling", "websocket"])
async def test_chromium_msgpack_bundle(transport: str, request: pytest.FixtureRequest) -> None:
    """The official browser bundle with the msgpack parser built in
    (``dist/socket.io.msgpack.min.js``) in headless Chromium: ArrayBuffers go out as
    notepack's ArrayBuffer extension and bytes come back as ArrayBuffers."""
    why = npm_ci(BROWSER_DIR, "playwright-core")
    if why:
        missing_part(why)
    if not Path(CHROMIUM).exists():
        missing_part(f"Chromium is not installed at {CHROMIUM}")
    io, seen = msgpack_server()
    async with running(io) as url:
        with anyio.fail_after(70):
            done = await anyio.run_process(
                ["node", str(BROWSER_DIR / "deflate_chromium.js"), "--url", url, "--msgpack",
                 "--transport", transport],
                check=False,
                env={**os.environ, "NODE_PATH": str(BROWSER_DIR / "node_modules")},
            )  # fmt: skip
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    assert lines and lines[-1].get("done") and "error" not in lines[-1], (lines, done.stderr)
    checks = by_check(lines)
    request.config.stash[table.RECORDER].versions.setdefault(
        "chromium", checks["browser"]["version"]
    )
    assert checks["connect"]["transport"] == transport
    assert seen["echo"] == (
        {"list": [1, 2.5, "three", None, True], "bin": b"\xde\xad"},
        b"\x00\xff",
    )
    assert checks["echo"] == {
        "check": "echo",
        "list": [1, 2.5, "three", None, True],
        "bin": "dead",
        "blob": "00ff",
        "isArrayBuffer": True,
    }
    assert seen["answer"] == ["browser says life", b"\x07\x08"]
    assert checks["asked"]["answer"] == "browser says life"
