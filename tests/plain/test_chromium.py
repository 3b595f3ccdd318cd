"""The plain types in headless Chromium: the browser's own ``WebSocket`` against ``type: "ws"``
and the official ``sockjs-client`` browser bundle against ``type: "sockjs"`` over each of its
transports, on asyncio and trio; and a page of another origin refused before the upgrade.

Each page (served by the App under test, from its ``www``) runs the guide's scenario: on
``opend`` it sends ``addUser``, on ``joined`` ``say``, on ``said`` text that is not JSON,
then records what it received and the close event. ``node/browser.js`` (playwright-core on
Debian's Chromium) opens the pages one after the other in one browser.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio import App

from . import test_ws_type
from .test_ws_type import WebsocketController

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

NODE_DIR = Path(__file__).resolve().parent / "node"
CHROMIUM = os.environ.get("THINKIO_CHROMIUM", "/usr/bin/chromium")
BUNDLE = NODE_DIR / "node_modules" / "sockjs-client" / "dist" / "sockjs.min.js"

if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "playwright-core").is_dir():
    pytest.skip(
        "needs node and tests/plain/node's npm packages (make node-deps)", allow_module_level=True
    )
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"{CHROMIUM} is missing: apt-get install chromium (make system-deps)",
        allow_module_level=True,
    )

PAGE = """<!doctype html><title>plain</title><script src="sockjs.min.js"></script><script>
var got = [];
var kind = location.hash.slice(1);
var sock = kind === 'ws' ? new WebSocket('ws://' + location.host + '/ws')
  : kind === 'refused' ? new WebSocket('ws://127.0.0.1:' + location.port + '/ws')
  : new SockJS('/sockjs', null, {transports: [kind]});
var opened = null;
sock.onopen = function () { opened = sock.transport || 'native'; };  // SockJS clears it on close
sock.onmessage = function (e) {
  var m = JSON.parse(e.data);
  got.push(m);
  if (m.event === 'opend') sock.send(JSON.stringify({event: 'addUser', data: 'chromium'}));
  else if (m.event === 'joined') sock.send(JSON.stringify({event: 'say', data: 'hi ' + kind}));
  else if (m.event === 'said') sock.send('{bad');
};
sock.onclose = function (e) {
  window.result = {kind: kind, got: got, code: e.code, reason: e.reason,
                   transport: opened};
  window.done = true;
};
</script>"""
MESSAGES = {
    "open": "/websocket/open",
    "close": "/websocket/close",
    "addUser": "/websocket/addUser",
    "say": "/websocket/say",
}


def make_app(kind: str, www: Path) -> App:
    section: dict[str, Any] = {"messages": MESSAGES}
    if kind == "ws":
        section["allowOrigin"] = "127.0.0.1:*"  # a page from localhost is another origin
    return App(
        {"static_dir": str(www), "websocket": {"type": kind, kind: section}},
        controllers={"websocket": WebsocketController},
    )


async def test_chromium_pages(tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text(PAGE, encoding="utf-8")
    shutil.copy(BUNDLE, www / "sockjs.min.js")
    test_ws_type.JOURNAL = test_ws_type.Journal()
    ws_app, sockjs_app = make_app("ws", www), make_app("sockjs", www)
    async with anyio.create_task_group() as tg:
        ws_at = await tg.start(ws_app.serve, "127.0.0.1", 0)
        sockjs_at = await tg.start(sockjs_app.serve, "127.0.0.1", 0)
        urls = [
            f"http://127.0.0.1:{ws_at.port}/#ws",
            f"http://localhost:{ws_at.port}/#refused",
            *(
                f"http://127.0.0.1:{sockjs_at.port}/#{t}"
                for t in ("websocket", "xhr-streaming", "xhr-polling")
            ),
        ]
        try:
            with anyio.fail_after(90):
                done = await anyio.run_process(
                    ["node", str(NODE_DIR / "browser.js"), *urls],
                    cwd=NODE_DIR,
                    env={**os.environ, "CHROMIUM": CHROMIUM},
                    check=False,
                )
        finally:
            with anyio.fail_after(10):
                await ws_app.shutdown(timeout=2)
                await sockjs_app.shutdown(timeout=2)
    output = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert "results" in output, output
    by_kind = {r["kind"]: r for r in output["results"]}
    refused = by_kind.pop("refused")
    assert (refused["got"], refused["code"]) == ([], 1006)  # never opened
    for kind, result in by_kind.items():
        assert [m["event"] for m in result["got"]] == ["opend", "joined", "said"], result
        assert result["got"][2]["data"] == {"from": "chromium", "text": f"hi {kind}"}
        assert result["code"] == 1007 and result["reason"].startswith("invalid JSON"), result
        assert result["transport"] == ("native" if kind == "ws" else kind)
