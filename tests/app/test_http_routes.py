"""HTTP routes next to the sockets (the ``http`` map, :mod:`thinkio.dispatch.http`) on
thinkio's own server: the scaffold's ``POST /api/notify`` reaches every connected client;
what each kind of return value answers; bad requests and bad configuration."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from thinkio import App, ConfigError
from thinkio.dispatch import HttpController, HttpError
from thinkio.scaffold import create_project

from ..dispatch.harness import client, serving


@pytest.mark.anyio
async def test_the_scaffolds_notify_route_broadcasts_to_every_socket(tmp_path: Path) -> None:
    create_project(tmp_path)
    app = App.from_project(tmp_path)
    async with serving(app) as url, httpx.AsyncClient() as http:
        ann, ann_inbox = client(url, "notice")
        bob, bob_inbox = client(url, "notice", transports=("polling",))
        async with ann, bob:
            reply = await http.post(url + "/api/notify", json={"text": "deployed"})
            assert reply.status_code == 200
            assert reply.json() == {"sockets": 2}
            assert await ann_inbox.wait_for("notice") == [({"text": "deployed"},)]
            assert await bob_inbox.wait_for("notice") == [({"text": "deployed"},)]


class Api(HttpController):
    def echo_action(self) -> Any:
        return {"query": self.request.query, "body": self.request.text()}

    def text_action(self) -> str:
        return "plain ✓"

    def nothing_action(self) -> None:
        return None

    async def created_action(self) -> tuple[int, dict[str, str]]:
        return 201, {"id": "42"}

    def teapot_action(self) -> None:
        raise HttpError(418, "short and stout")

    def broken_action(self) -> None:
        raise RuntimeError("a bug")


ROUTES = {
    "POST /echo": "/api/echo",
    "GET /text": "/api/text",
    "DELETE /things/one": "/api/nothing",
    "PUT /things/one": "/api/created",
    "GET /teapot": "/api/teapot",
    "GET /broken": "/api/broken",
}


@pytest.mark.anyio
async def test_what_actions_return_is_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    app = App(http=ROUTES, http_controllers={"api": Api})
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        echo = await http.post("/echo?x=1", content="héllo")
        assert echo.json() == {"query": {"x": "1"}, "body": "héllo"}
        text = await http.get("/text")
        assert text.text == "plain ✓" and text.headers["content-type"].startswith("text/plain")
        assert (await http.delete("/things/one")).status_code == 204
        created = await http.put("/things/one")
        assert created.status_code == 201 and created.json() == {"id": "42"}
        teapot = await http.get("/teapot")
        assert teapot.status_code == 418 and teapot.json() == {"error": "short and stout"}
        broken = await http.get("/broken")
        assert broken.status_code == 500 and broken.json() == {"error": "internal server error"}
        wrong = await http.get("/things/one")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "DELETE, PUT"
        assert (await http.get("/things/one/two")).status_code == 404
        bad_text = await http.post("/echo", content=b"\xff")
        assert bad_text.status_code == 400 and "UTF-8" in bad_text.json()["error"]
    assert "RuntimeError: a bug" in caplog.text


def test_a_route_to_a_missing_method_stops_the_start() -> None:
    with pytest.raises(ConfigError, match=r"has no method gone_action\(\)"):
        App(http={"GET /x": "/api/gone"}, http_controllers={"api": Api})
    with pytest.raises(ConfigError, match="HTTP controller 'nope' not found"):
        App(http={"GET /x": "/nope/x"}, http_controllers={"api": Api})


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"FETCH /x": "/api/echo"}, "expected 'METHOD /path'"),
        ({"POST x": "/api/echo"}, "expected 'METHOD /path'"),
        ({"POST /x": "echo"}, "is not an action path"),
        ({"POST /x": "/api/echo", "post /x/": "/api/text"}, "routed twice"),
        (["POST /x"], "expected a dict"),
    ],
)
def test_bad_http_maps_are_named(routes: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        App(http=routes, http_controllers={"api": Api})


def test_a_project_module_may_hold_both_kinds_of_controller(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "controller").mkdir()
    (tmp_path / "config" / "config.py").write_text('http = {"GET /ping": "/chat/ping"}\n')
    (tmp_path / "config" / "adapter.py").write_text(
        'websocket = {"socketio": {"messages": {"say": "/chat/say"}}}\n'
    )
    (tmp_path / "controller" / "chat.py").write_text(
        textwrap.dedent(
            """
            from thinkio import Controller
            from thinkio.dispatch import HttpController

            class ChatController(Controller):
                def say_action(self):
                    return "ok"

            class ChatHttp(HttpController):
                def ping_action(self):
                    return "pong"
            """
        )
    )
    app = App.from_project(tmp_path)
    assert [r.controller.__name__ for r in app.http_routes] == ["ChatHttp"]
    assert [r.controller.__name__ for r in app.routes] == ["ChatController"]
