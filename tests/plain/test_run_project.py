"""``thinkio run`` of a project switched to ``type: "ws"``: its guide controller unchanged, in
one process and with worker processes (each worker serves its own clients)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from thinkio.scaffold import create_project

from ..app.processes import Served

ADAPTER = """websocket = {
    "type": "ws",
    "ws": {
        "messages": {
            "open": "/websocket/open",
            "close": "/websocket/close",
            "addUser": "/websocket/addUser",
        }
    },
}
"""


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one-process", "workers"])
def test_a_scaffolded_project_switched_to_ws(tmp_path: Path, workers: list[str]) -> None:
    project = tmp_path / "app"
    create_project(project)
    (project / "config" / "adapter.py").write_text(ADAPTER, encoding="utf-8")
    served = Served(project, *workers)
    try:
        for _ in range(4):
            with connect(f"ws://127.0.0.1:{served.port}/ws") as ws:
                first = json.loads(ws.recv(timeout=5))
                assert first == {"event": "opend", "data": "This client opened successfully!"}
                ws.send(json.dumps({"event": "addUser", "data": "alice"}))
                assert json.loads(ws.recv(timeout=5))["event"] == "joined"
    finally:
        status = served.interrupt()
    assert status == 0, served.log
    assert "Traceback" not in served.log
    assert served.log.count("left: client close") == 4  # the scaffold's close action, each
