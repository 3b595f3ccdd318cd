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

On asyncio and trio (the servers run in the test's event loop), with one Chromium for both.
About 9 s in all on a busy 2-core machine (2.5 s to start Node and Chromium, 3 s a run).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio.http import HttpExchange, HttpRequest
from thinkio.server import Server

from ..support import missing_part
from .harness import CHROMIUM, chromium_ready

pytestmark = [pytest.mark.interop, pytest.mark.anyio]

NODE_DIR = Path(__file__).resolve().parent / "node"
START_TIMEOUT = 60.0  # seconds for Node and Chromium to start
RUN_TIMEOUT = 90.0  # seconds for one run; every check in it stops sooner (8 s)
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


class BrowserDriver:
    """``node/cors_browser.js``: one headless Chromium for the module, one run per call."""

    def __init__(self) -> None:
        # A file, not a pipe: nobody reads stderr while the driver runs, and a full pipe
        # would stall Node. Closed in close().
        self.stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "cors_browser.js")],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env={**os.environ, "CHROMIUM": str(CHROMIUM)},
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        ready = self._next(START_TIMEOUT)
        assert ready.get("ready"), f"the browser driver did not start: {ready}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")  # EOF

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the browser driver said nothing for {timeout} s")
        if not line:
            self.stderr.seek(0)
            pytest.fail(f"the browser driver exited: {self.stderr.read()[-2000:]}")
        result: dict[str, Any] = json.loads(line)
        return result

    def run(self, config: dict[str, Any]) -> dict[str, Any]:
        """One run (blocking: call it in a worker thread); its results by check name."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(config) + "\n")
        self.proc.stdin.flush()
        result = self._next(RUN_TIMEOUT)
        assert "results" in result, f"the browser driver failed: {result}"
        results: dict[str, Any] = result["results"]
        return results

    def close(self) -> None:
        """EOF on stdin closes the browser; if it does not, end the driver's group, by pid."""
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGTERM)  # playwright closes its browser on it
            self.proc.wait(timeout=10)
        self.stderr.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserDriver]:
    reason = chromium_ready()
    if reason is not None:
        missing_part(reason)
    driver = BrowserDriver()
    try:
        yield driver
    finally:
        driver.close()


def serve_page(request: HttpRequest, conn: HttpExchange) -> None:
    """The page's own origin: a blank page, or one loading a socket.io-client bundle."""
    name = request.path.rsplit("/", 1)[-1]
    if name in PAGES:
        conn.respond(200, [(b"content-type", b"text/html")], PAGES[name])
    elif name in BUNDLES:
        body = BUNDLES[name].read_bytes()
        conn.respond(200, [(b"content-type", b"text/javascript")], body)
    else:
        conn.respond(404, [], b"")


@asynccontextmanager
async def serving(*servers: Server) -> AsyncIterator[list[str]]:
    """Every server on its own loopback port (its own origin); their base URLs."""
    async with anyio.create_task_group() as tg:
        urls = [(await tg.start(io.serve, "127.0.0.1", 0)).url for io in servers]
        try:
            yield urls
        finally:
            # Sessions the page opened and left (a handshake read by fetch) wait for a GET
            # that never comes: shut every server down at once, not one timeout after another.
            with anyio.fail_after(10):
                async with anyio.create_task_group() as stopping:
                    for io in servers:
                        stopping.start_soon(io.shutdown, 1.0)


def polling(url: str, path: str = "/socket.io/") -> str:
    return f"{url}{path}?EIO=4&transport=polling"


async def test_what_a_page_of_another_origin_can_do(browser: BrowserDriver) -> None:
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
            r = await anyio.to_thread.run_sync(browser.run, {"page": page, "checks": checks})
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
