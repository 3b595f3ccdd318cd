"""A project made by ``thinkio new`` served as an ASGI app (``thinkio.asgi.project``) by
uvicorn and hypercorn (asyncio, trio): its sockets, its scaffolded ``POST /api/notify``
reaching them, its settings page and static files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from thinkio.scaffold import create_project

from ..interop.harness import AsgiServerUnderTest
from .conftest import SERVER_IDS, SERVERS, Listener


@pytest.fixture(scope="module", params=SERVERS, ids=SERVER_IDS)
def project_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AsgiServerUnderTest]:
    root = tmp_path_factory.mktemp("project")
    create_project(root)
    name, backend = request.param
    server = AsgiServerUnderTest(
        name,
        backend,
        app="tests.asgi.project_app:app",
        ready_path="/thinkio.json",
        env={"THINKIO_TEST_PROJECT": str(root)},
    )
    try:
        server.start()
        yield server
        server.stop()
        log = server.log_tail(1_000_000)
        assert "Traceback" not in log, log[-5000:]
    finally:
        server.close()


@pytest.mark.parametrize("client", ["python", "node"])
def test_post_api_notify_reaches_every_socket(
    project_server: AsgiServerUnderTest, listeners: list[Listener], client: str
) -> None:
    first = Listener(client, project_server.url, "/socket.io", "upgrade")
    second = Listener(client, project_server.url, "/socket.io", "polling")
    listeners += [first, second]
    first.next()
    second.next()
    reply = httpx.post(project_server.url + "/api/notify", json={"text": "deployed"}, timeout=5)
    assert reply.status_code == 200
    assert reply.json()["sockets"] >= 2
    assert first.next()["args"] == [{"text": "deployed"}]
    assert second.next()["args"] == [{"text": "deployed"}]


def test_http_route_errors(project_server: AsgiServerUnderTest) -> None:
    url = project_server.url + "/api/notify"
    bad = httpx.post(url, content=b"{not json", timeout=5)
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    wrong = httpx.get(url, timeout=5)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


def test_the_project_pages_are_served(project_server: AsgiServerUnderTest) -> None:
    assert httpx.get(project_server.url + "/thinkio.json", timeout=5).json() == {
        "path": "/socket.io"
    }
    page = httpx.get(project_server.url + "/", timeout=5)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(project_server.url + "/no-such-file", timeout=5).status_code == 404


def test_the_scaffold_writes_the_http_controller(tmp_path: Path) -> None:
    written = {p.relative_to(tmp_path).as_posix() for p in create_project(tmp_path)}
    assert "controller/api.py" in written
