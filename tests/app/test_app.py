"""App: built in code, served inside the test's own task group, on asyncio and trio."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from thinkio import App, Controller

from ..dispatch.harness import client, serving

pytestmark = pytest.mark.anyio


class Echo(Controller):
    async def open_action(self) -> None:
        await self.emit("opend", "This client opened successfully!")

    def say_action(self) -> str:
        return f"you said {self.ws_data}"


def fake_client_dir(root: Path) -> Path:
    """A folder laid out as ``npm install socket.io-client`` leaves it."""
    dist = root / "node_modules" / "socket.io-client" / "dist"
    dist.mkdir(parents=True)
    (dist / "socket.io.js").write_text("/* the socket.io client */", encoding="utf-8")
    (dist / "socket.io.min.js").write_text("/* min */", encoding="utf-8")
    (dist / "socket.io.min.js.map").write_text("{}", encoding="utf-8")
    return root


async def test_an_app_built_in_code_serves_events() -> None:
    app = App(messages={"open": "/echo/open", "say": "/echo/say"}, controllers={"echo": Echo})
    async with serving(app) as url:
        c, inbox = client(url, "opend", transports=("polling", "websocket"))
        async with c:
            await inbox.wait_for("opend")
            assert await c.call("say", "hi") == ["you said hi"]


async def test_serve_reports_the_bound_address() -> None:
    app = App(port=0)
    async with anyio.create_task_group() as tg:
        bound = await tg.start(app.serve)  # host and port from the configuration
        assert bound.host == "127.0.0.1" and bound.port > 0
        await app.shutdown()


async def test_static_files_and_the_browser_client(tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<p>hello</p>", encoding="utf-8")
    app = App(static_dir=str(www), client_dir=str(fake_client_dir(tmp_path / "client")))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        page = await http.get("/")
        assert (page.status_code, page.text) == (200, "<p>hello</p>")
        js = await http.get("/socket.io/socket.io.js")
        assert js.status_code == 200
        assert js.headers["content-type"] == "text/javascript; charset=utf-8"
        assert js.text == "/* the socket.io client */"
        assert (await http.get("/socket.io/socket.io.min.js.map")).headers[
            "content-type"
        ] == "application/json"
        assert (await http.get("/socket.io/socket.io.esm.min.js")).status_code == 404
        # Engine.IO still answers under the same path.
        handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert handshake.status_code == 200 and handshake.text.startswith("0{")


async def test_the_client_is_served_under_a_custom_path(tmp_path: Path) -> None:
    app = App(path="/io", client_dir=str(fake_client_dir(tmp_path)))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/io/socket.io.js")).status_code == 200
        assert (await http.get("/socket.io/socket.io.js")).status_code == 404


async def test_a_missing_browser_client_says_how_to_install_it(tmp_path: Path) -> None:
    app = App(client_dir=str(tmp_path))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        missing = await http.get("/socket.io/socket.io.js")
    assert missing.status_code == 404
    assert "npm install socket.io-client@4" in missing.text
    assert str(tmp_path) in missing.text


async def test_serve_client_off_leaves_the_path_to_engine_io(tmp_path: Path) -> None:
    app = App(serve_client=False, client_dir=str(fake_client_dir(tmp_path)))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/socket.io/socket.io.js")
    assert response.status_code == 400  # Engine.IO: no transport given


async def test_without_static_files_other_paths_are_404() -> None:
    async with serving(App()) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/index.html")).status_code == 404


async def test_an_embedded_app_with_sticky_cluster_serves_in_this_process() -> None:
    # sticky_cluster is for `thinkio run` (worker processes); embedded, the app is one process.
    async with serving(App(sticky_cluster=True)) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/socket.io/?EIO=4&transport=polling")).status_code == 200


async def test_thinkio_json_tells_pages_the_path() -> None:
    async with serving(App(path="/io/")) as url, httpx.AsyncClient(base_url=url) as http:
        settings = await http.get("/thinkio.json")
        assert settings.json() == {"path": "/io"}
        assert settings.headers["content-type"] == "application/json"
        head = await http.head("/thinkio.json")
        assert head.status_code == 200 and head.headers["content-length"] == str(
            len(settings.content)
        )
        assert (await http.post("/thinkio.json")).status_code == 405


async def test_a_missing_browser_client_is_a_startup_warning_naming_the_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    listed = tmp_path / "listed"
    listed.mkdir()
    (listed / "package.json").write_text('{"dependencies": {"socket.io-client": "^4"}}')
    cases = {
        # a page and no package.json: install the package
        "static": App(static_dir=str(www), client_dir=str(tmp_path), path="/ws"),
        # npm install forgotten
        "listed": App(client_dir=str(listed)),
        # nothing to warn about
        "installed": App(static_dir=str(www), client_dir=str(fake_client_dir(tmp_path / "c"))),
        "off": App(static_dir=str(www), client_dir=str(tmp_path), serve_client=False),
        "embedded": App(client_dir=str(tmp_path / "c2")),  # no page, no package.json
    }
    warnings = {}
    for name, app in cases.items():
        caplog.clear()
        async with serving(app):
            pass
        warnings[name] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    tail = "answers 404 and pages that load it never connect (set serve_client = False if they "
    tail += "load it from elsewhere)"
    assert warnings == {
        "static": [
            f"the socket.io browser client is not installed: run `npm install socket.io-client@4` "
            f"in {tmp_path}; until then /ws/socket.io.js {tail}"
        ],
        "listed": [
            f"the socket.io browser client is not installed: run `npm install` in {listed} "
            f"(its package.json lists socket.io-client); until then /socket.io/socket.io.js "
            f"{tail}"
        ],
        "installed": [],
        "off": [],
        "embedded": [],
    }
