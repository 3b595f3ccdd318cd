"""Project directories: the scaffold, config modules, controller modules, and their errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import anyio
import httpx
import pytest

from thinkio import App, ConfigError
from thinkio.scaffold import create_project

CONTROLLER = """
from thinkio import Controller


class WebsocketController(Controller):
    def open_action(self):
        pass

    def add_user_action(self):
        pass
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def project(tmp_path: Path, **files: str) -> Path:
    """A minimal project plus ``files`` (keys with "__" for "/" and "_py" for ".py")."""
    base = {
        "config/adapter.py": 'websocket = {"socketio": {"messages": {"open": "/websocket/open"}}}\n',
        "controller/websocket.py": CONTROLLER,
    }
    base.update({k.replace("__", "/").replace("_py", ".py"): v for k, v in files.items()})
    return write(tmp_path / "app", base)


def test_the_scaffold_is_the_guides_example(tmp_path: Path) -> None:
    files = create_project(tmp_path / "app")
    names = sorted(str(p.relative_to(tmp_path / "app")) for p in files)
    assert names == [
        ".gitignore",
        "README.md",
        "config/adapter.py",
        "config/config.py",
        "controller/api.py",
        "controller/websocket.py",
        "package.json",
        "www/index.html",
    ]
    app = App.from_project(tmp_path / "app")
    assert [(r.event, r.path, r.method) for r in app.routes] == [
        ("open", "/websocket/open", "open_action"),
        ("close", "/websocket/close", "close_action"),
        ("addUser", "/websocket/addUser", "add_user_action"),
    ]
    # Beside the guide: one HTTP route (tests/app/test_http_routes.py serves it).
    assert [(r.method, r.path, r.function) for r in app.http_routes] == [
        ("POST", "/api/notify", "notify_action")
    ]
    config = app.config
    assert (config.host, config.port, config.sticky_cluster) == ("127.0.0.1", 8360, False)
    assert config.socketio.allow_eio3 is True
    assert config.socketio.path == "/socket.io"
    assert config.static_dir == (tmp_path / "app" / "www").resolve()
    assert config.socketio.client_dir == (tmp_path / "app").resolve()
    controller = (tmp_path / "app" / "controller" / "websocket.py").read_text()
    assert '"opend", "This client opened successfully!"' in controller
    assert '"joined", "There is a new client joined successfully!"' in controller
    page = (tmp_path / "app" / "www" / "index.html").read_text()
    # No hard-coded /socket.io: the page asks the server (tests/app/test_scaffold_page.py).
    assert 'src="/socket.io' not in page and "fetch('/thinkio.json')" in page
    assert "socket.emit('addUser', username)" in page


@pytest.mark.anyio
async def test_cors_in_config_py_and_allow_origin_in_adapter_py_make_one_policy(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        config__config_py="cors = {'credentials': True, 'maxAge': 600, 'allowedHeaders': 'x-a'}\n",
        config__adapter_py="""
            websocket = {"socketio": {
                "allowOrigin": ["https://good.example"],
                "messages": {"open": "/websocket/open"},
            }}
        """,
    )
    app = App.from_project(root)
    async with anyio.create_task_group() as tg, httpx.AsyncClient() as http:
        bound = await tg.start(app.serve, "127.0.0.1", 0)
        url = f"{bound.url}/socket.io/?EIO=4&transport=polling"
        good = await http.get(url, headers={"origin": "https://good.example"})
        preflight = await http.options(url, headers={"origin": "https://good.example"})
        evil = await http.get(url, headers={"origin": "https://evil.example"})
        await app.shutdown()
    assert good.status_code == 200
    assert good.headers["access-control-allow-origin"] == "https://good.example"
    assert good.headers["access-control-allow-credentials"] == "true"
    assert preflight.status_code == 204
    assert preflight.headers["access-control-max-age"] == "600"
    assert preflight.headers["access-control-allow-headers"] == "x-a"
    assert evil.status_code == 403


def test_config_modules_ignore_imports_and_definitions(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        config__config_py="""
            import os
            from pathlib import Path

            from thinkio import ConnectRejected

            def check(socket):
                raise ConnectRejected("no")

            class Helper:
                pass

            _private = 1
            port = 9000
            stickyCluster = False
            middleware = [check]
        """,
    )
    app = App.from_project(root)
    assert app.config.port == 9000
    assert [m.__name__ for m in app.config.middleware] == ["check"]
    assert app.io.of("/").middlewares[0].__name__ == "check"


def test_nested_controllers_and_relative_imports(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        config__adapter_py="""
            websocket = {"socketio": {"messages": [
                {"open": "/websocket/open"},
                {"namespace": "/admin", "list": "/admin/user/list"},
            ]}}
        """,
        controller__base_py="""
            from thinkio import Controller

            class Base(Controller):
                def list_action(self):
                    return "listed"
        """,
        controller__admin__user_py="""
            from ..base import Base

            class UserController(Base):
                pass
        """,
    )
    app = App.from_project(root)
    (route,) = [r for r in app.routes if r.namespace == "/admin"]
    assert (route.controller_name, route.controller.__name__, route.method) == (
        "admin/user",
        "UserController",
        "list_action",
    )


def test_two_projects_do_not_share_modules(tmp_path: Path) -> None:
    one = App.from_project(project(tmp_path / "one"))
    two = App.from_project(project(tmp_path / "two"))
    assert one.routes[0].controller is not two.routes[0].controller


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"config__config_py": "allow_origin = '*'\n"},
            "config/config.py: 'allow_origin' belongs in config/adapter.py, in "
            'websocket["socketio"]',
        ),
        (
            {"config__config_py": "cors = {'credentials': True}\n"},
            "config/config.py: cors.credentials: True needs the allowed origins named",
        ),
        (
            {
                "config__config_py": "cors = {'origin': 'https://a.example'}\n",
                "config__adapter_py": "websocket = {'socketio': {'allowOrigin': 'b.example'}}\n",
            },
            "config/config.py: cors.origin: the origins are also given at config/adapter.py: "
            "websocket.socketio.allowOrigin",
        ),
        (
            {
                "config__config_py": "cors = {}\n",
                "config__adapter_py": "websocket = {'socketio': {'cors': {}}}\n",
            },
            "config/adapter.py: websocket.socketio.cors: 'cors' is also given at "
            "config/config.py: cors",
        ),
        (
            {"config__adapter_py": "websocket = {'socketio': {'allowOrigin': 'localhost:abc'}}\n"},
            "config/adapter.py: websocket.socketio.allowOrigin: 'localhost:abc' never matches",
        ),
        (
            {"config__config_py": "prot = 8360\n"},
            "config/config.py: unknown key 'prot'; did you mean 'port'?",
        ),
        (
            {"config__config_py": "port = '8360'\n"},
            "config/config.py: port: expected a port number from 0 to 65535, got '8360'",
        ),
        (
            {"config__adapter_py": "websockets = {}\n"},
            "config/adapter.py: unknown key 'websockets'; did you mean 'websocket'?",
        ),
        (
            {"config__adapter_py": "websocket = {'socketio': {'allowOrigin': 5}}\n"},
            "config/adapter.py: websocket.socketio.allowOrigin: expected an origin string",
        ),
        (
            {
                "config__adapter_py": "websocket = {'socketio': {'messages': {'addUser': '/chat/addUser'}}}\n"
            },
            "config/adapter.py: websocket.socketio.messages.addUser: '/chat/addUser': "
            "controller 'chat' not found: controller/chat.py not found in",
        ),
        (
            {
                "config__adapter_py": "websocket = {'socketio': {'messages': {'close': '/websocket/close'}}}\n"
            },
            "websocket.socketio.messages.close: '/websocket/close': controller 'websocket' "
            "(WebsocketController) has no method close_action() for the action 'close'",
        ),
        (
            {"controller__websocket_py": "x = 1\n"},
            "controller 'websocket' not found: controller/websocket.py defines no subclass of "
            "thinkio.Controller",
        ),
        (
            {
                "controller__websocket_py": """
                    from thinkio import Controller

                    class A(Controller):
                        pass

                    class B(Controller):
                        pass
                """
            },
            "controller/websocket.py defines several controllers (A, B); name the one to use "
            "WebsocketController",
        ),
        (
            {"config__config_py": "sticky_cluster = (\n"},
            "config/config.py: importing it failed: SyntaxError",
        ),
        (
            {"controller__websocket_py": "import no_such_module_here\n"},
            "controller/websocket.py: importing it failed: ModuleNotFoundError",
        ),
    ],
)
def test_project_errors_name_the_file_and_key(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        App.from_project(project(tmp_path, **files))
    assert expected in str(info.value)


def test_several_controllers_with_one_named_after_the_file(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        controller__websocket_py="""
            from thinkio import Controller

            class Helper(Controller):
                pass

            class WebsocketController(Helper):
                def open_action(self):
                    pass
        """,
    )
    assert App.from_project(root).routes[0].controller.__name__ == "WebsocketController"


def test_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such directory"):
        App.from_project(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"is not a thinkio project: it has no config/ directory"):
        App.from_project(tmp_path / "empty")


def test_an_import_error_keeps_its_cause(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        App.from_project(project(tmp_path, controller__websocket_py="1/0\n"))
    assert isinstance(info.value.__cause__, ZeroDivisionError)
