"""CORS as a real browser enforces it: headless Chromium on one origin, thinkio on others.

A header assertion shows what the server says; only the browser shows what a page of another
origin can then do. ``node/cors_browser.js`` drives Debian's Chromium (playwright-core) from a
page served on one loopback port to servers on other ports (other origins, same site), with
``fetch`` and the official socket.io-client 4.x and 2.x browser bundles:

* **default server**: any page may open a session (``fetch`` without credentials reads the
  handshake, socket.io-client 4.x connects over polling), but a credentialed request is
  refused by the browser (``fetch(..., {credentials: "include"})`` fails), and so is
  socket.io-client 2.x over polling, which sends credentials unless told
  ``withCredentials: false`` (then it connects; over WebSocket CORS does not apply);
* **credentials configured** for the page's origin: the credentialed ``fetch`` (also one with
  a custom header, so through a preflight) and both clients with credentials connect;
* **origins restricted** to another origin: the page can neither read a polling handshake nor
  open a WebSocket, raw or through socket.io-client.

On asyncio and trio (the servers run in the test's event loop). Costs about 4 s per backend,
most of it Chromium starting.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio.server import HttpConnection, HttpRequest, Server

from .harness import CHROMIUM, chromium_ready

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

NODE_DIR = Path(__file__).resolve().parent / "node"
DRIVER_TIMEOUT = 90.0  # seconds for the whole driver run; every check in it stops sooner
BUNDLES = {
    "sio4.js": NODE_DIR / "node_modules/socket.io-client/dist/socket.io.min.js",
    "sio2.js": NODE_DIR / "node_modules/socket.io-client-v2/dist/socket.io.js",
}
PAGES = {
    "blank.html": b"<!doctype html><title>cors</title>",
    "sio4.html": b'<!doctype html><title>cors</title><script src="/page/sio4.js"></script>',
    "sio2.html": b'<!doctype html><title>cors</title><script src="/page/sio2.js"></script>',
}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def driver_ready() -> None:
    reason = chromium_ready()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI installs it: see the Makefile)")
        pytest.skip(reason)


async def serve_page(request: HttpRequest, conn: HttpConnection) -> None:
    """The page's own origin: a blank page, or one loading a socket.io-client bundle."""
    name = request.path.rsplit("/", 1)[-1]
    if name in PAGES:
        await conn.respond(200, [(b"content-type", b"text/html")], PAGES[name])
    elif name in BUNDLES:
        body = await anyio.Path(BUNDLES[name]).read_bytes()
        await conn.respond(200, [(b"content-type", b"text/javascript")], body)
    else:
        await conn.respond(404, [], b"")


@asynccontextmanager
async def serving(*servers: Server) -> AsyncIterator[list[str]]:
    """Every server on its own loopback port (its own origin); their base URLs."""
    async with anyio.create_task_group() as tg:
        urls = [(await tg.start(io.serve, "127.0.0.1", 0)).url for io in servers]
        try:
            yield urls
        finally:
            with anyio.fail_after(10):
                for io in servers:
                    await io.shutdown(timeout=2)


def run_driver(config: dict[str, Any]) -> dict[str, Any]:
    """Run the driver to completion (in a worker thread); its JSON line."""
    proc = subprocess.Popen(
        ["node", str(NODE_DIR / "cors_browser.js"), json.dumps(config)],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CHROMIUM": str(CHROMIUM)},
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=DRIVER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # playwright closes its browser on SIGTERM
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"the browser driver timed out\n{out}\n{err}")
    lines = out.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    assert "results" in result, f"driver failed: {out}\n{err}"
    return result


def polling(url: str, path: str = "/socket.io/") -> str:
    return f"{url}{path}?EIO=4&transport=polling"


async def test_what_a_page_of_another_origin_can_do(driver_ready: None) -> None:
    page_server = Server()
    page_server.mount("/page", serve_page)
    async with serving(page_server) as (page,):
        default = Server(allow_eio3=True)
        creds = Server(allow_eio3=True, cors={"origin": page, "credentials": True})
        restricted = Server(allow_eio3=True, allow_origin="http://elsewhere.example")
        async with serving(default, creds, restricted) as (a, b, c):
            sio: dict[str, Any] = {"kind": "socketio", "path": "/socket.io"}
            sio["withCredentials"] = None  # the client's default
            checks = [
                {"name": "a_fetch", "kind": "fetch", "url": polling(a), "credentials": "omit"},
                {"name": "a_fetch_creds", "kind": "fetch", "url": polling(a),
                 "credentials": "include"},
                {**sio, "name": "a_sio4", "bundle": 4, "url": a, "transports": ["polling"]},
                {**sio, "name": "a_sio2", "bundle": 2, "url": a, "transports": ["polling"]},
                {**sio, "name": "a_sio2_nocreds", "bundle": 2, "url": a,
                 "transports": ["polling"], "withCredentials": False},
                {**sio, "name": "a_sio2_ws", "bundle": 2, "url": a, "transports": ["websocket"]},
                {"name": "b_fetch_creds", "kind": "fetch", "url": polling(b),
                 "credentials": "include"},
                {"name": "b_fetch_preflight", "kind": "fetch", "url": polling(b),
                 "credentials": "include", "headers": {"x-token": "1"}},
                {**sio, "name": "b_sio2", "bundle": 2, "url": b, "transports": ["polling"]},
                {**sio, "name": "b_sio4_creds", "bundle": 4, "url": b,
                 "transports": ["polling"], "withCredentials": True},
                {"name": "c_fetch", "kind": "fetch", "url": polling(c), "credentials": "omit"},
                {"name": "c_websocket", "kind": "websocket",
                 "url": f"ws{c.removeprefix('http')}/socket.io/?EIO=4&transport=websocket"},
                {**sio, "name": "c_sio4_ws", "bundle": 4, "url": c, "transports": ["websocket"]},
            ]  # fmt: skip
            result = await anyio.to_thread.run_sync(run_driver, {"page": page, "checks": checks})
    r = result["results"]
    context = json.dumps(r, indent=1)

    # Default: every origin may open a session, without credentials.
    assert r["a_fetch"]["ok"] and r["a_fetch"]["status"] == 200, context
    assert r["a_fetch"]["body"].startswith("0{"), context
    assert r["a_sio4"] == {"ok": True, "transport": "polling"}, context
    assert r["a_sio2_nocreds"] == {"ok": True, "transport": "polling"}, context
    assert r["a_sio2_ws"] == {"ok": True, "transport": "websocket"}, context
    # ... and the browser itself refuses a credentialed one.
    assert not r["a_fetch_creds"]["ok"], context
    assert "Failed to fetch" in r["a_fetch_creds"]["error"], context
    assert not r["a_sio2"]["ok"], context  # 2.x sends credentials over polling by default
    assert r["a_sio2"]["error"] != "timed out", context

    # Credentials configured for the page's origin.
    assert r["b_fetch_creds"]["ok"] and r["b_fetch_creds"]["status"] == 200, context
    assert r["b_fetch_preflight"]["ok"] and r["b_fetch_preflight"]["status"] == 200, context
    assert r["b_sio2"] == {"ok": True, "transport": "polling"}, context
    assert r["b_sio4_creds"] == {"ok": True, "transport": "polling"}, context

    # Restricted to another origin: nothing gets through, on either transport.
    assert not r["c_fetch"]["ok"] and "Failed to fetch" in r["c_fetch"]["error"], context
    assert not r["c_websocket"]["ok"] and r["c_websocket"]["error"] != "timed out", context
    assert not r["c_sio4_ws"]["ok"] and r["c_sio4_ws"]["error"] != "timed out", context
