"""docs/asgi.md's FastAPI programs, served as a user would serve them (``main.py``, then a
real uvicorn or hypercorn on trio), reached by a real socket.io-client: a FastAPI route's
emit arrives at the client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..docblocks import ROOT, Block, blocks
from ..interop.harness import REPO, AsgiServerUnderTest
from .conftest import Listener

PROGRAMS = [b for b in blocks(ROOT / "docs" / "asgi.md") if b.kind == "program"]


def test_the_page_has_both_fastapi_programs() -> None:
    assert len([b for b in PROGRAMS if "FastAPI(" in b.code]) == 2


@pytest.fixture(params=[("uvicorn", "asyncio"), ("hypercorn", "trio")], ids=["uvicorn", "trio"])
def server_kind(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def served(
    request: pytest.FixtureRequest, tmp_path: Path, server_kind: tuple[str, str]
) -> Iterator[tuple[AsgiServerUnderTest, Block]]:
    block: Block = request.param
    (tmp_path / "main.py").write_text(block.code, encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), str(REPO)])
    server = AsgiServerUnderTest(
        *server_kind, app="main:app", ready_path="/docs", env={"PYTHONPATH": path}
    )
    try:
        server.start()
        yield server, block
        server.stop()
        log = server.log_tail(1_000_000)
        assert "Traceback" not in log, log[-5000:]
    finally:
        server.close()


@pytest.mark.parametrize(
    "served", [b for b in PROGRAMS if "FastAPI(" in b.code], ids=lambda b: f"line{b.line}",
    indirect=True,
)  # fmt: skip
def test_a_fastapi_route_emits_to_a_socket_io_client(
    served: tuple[AsgiServerUnderTest, Block], listeners: list[Listener]
) -> None:
    server, block = served
    path = "/ws/socket.io" if 'mount("/ws"' in block.code else "/socket.io"
    listener = Listener("node", server.url, path, "upgrade")
    listeners.append(listener)
    assert listener.next()["transport"] == "websocket"
    reply = httpx.post(server.url + "/notify", json={"build": "green"}, timeout=5)
    assert reply.status_code == 200 and reply.json() == {"sockets": 1}
    assert listener.next()["args"] == [{"build": "green"}]
