"""The docs' code runs (or is marked as an excerpt), and the generated docs match the code.

What each kind of block is, and how it is run: tests/docblocks.py (the rule is also in
docs/README.md). Runners here: programs, blocks inside a running App, controller actions,
``thinkio: error:`` outputs and the scaffold page's HTML. The ``# file:`` blocks of the
guide load in tests/app/test_docs_guide.py; README.md's programs run in tests/test_readme.py.
"""

from __future__ import annotations

import ast
import inspect
import logging
import runpy
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from thinkio import App, Controller
from thinkio.client import Client
from thinkio.scaffold import create_project

from .dispatch.harness import serving
from .docblocks import DOCS, MARKERS, ROOT, Block, all_blocks, of_kind, run_program

# -- the rule ------------------------------------------------------------------------------------


def test_every_block_runs_in_a_test_or_is_marked_an_excerpt() -> None:
    found = all_blocks()
    assert len(found) > 30
    unchecked = [str(b) for b in found if b.kind == "unchecked"]
    assert not unchecked, (
        "blocks neither run nor marked <!-- excerpt --> (see docs/README.md): "
        + ", ".join(unchecked)
    )
    unknown = [f"{b}: {b.marker}" for b in found if b.marker and b.marker not in MARKERS]
    assert not unknown, f"unknown markers (a typo runs nothing): {unknown}"
    # tests/app/test_docs_guide.py loads the project files of the guide only.
    assert {b.page for b in of_kind("file")} <= {"docs/guide/thinkjs.md"}
    # tests/test_readme.py runs the README's programs.
    assert of_kind("program", "README.md")


# -- programs ------------------------------------------------------------------------------------


def _programs() -> list[Any]:
    params = []
    for block in of_kind("program"):
        if block.page == "README.md":
            continue  # tests/test_readme.py
        backends = ["asyncio", "trio"] if "anyio.run(main)" in block.code else ["no loop"]
        params += [pytest.param(block, b, id=f"{block.page}:{block.line}-{b}") for b in backends]
    return params


@pytest.mark.parametrize(("block", "backend"), _programs())
def test_a_program_block_runs(block: Block, backend: str, tmp_path: Path) -> None:
    run_program(block.code, backend, tmp_path)


# -- blocks inside a running App -----------------------------------------------------------------


class _Docs(Controller):
    def hello_action(self) -> str:
        return "hi"


def _in_app_ids(blocks: list[Block]) -> list[str]:
    return [f"{b.page}:{b.line}" for b in blocks]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("block", of_kind("in-app"), ids=_in_app_ids(of_kind("in-app")))
async def test_a_block_runs_inside_a_running_app(block: Block) -> None:
    app = App(messages={"hello": "/docs/hello"}, controllers={"docs": _Docs})
    async with serving(app) as url:
        client = Client(url, transports=("websocket",), reconnection=False)
        async with client:
            assert client.sid is not None
            socket = app.io.sockets.sockets[client.sid]
            names: dict[str, Any] = {
                "anyio": anyio,
                "app": app,
                "io": app.io,
                "socket": socket,
                "sid": socket.id,
                "socket_id": socket.id,
                "data": {"text": "hello"},
                "item": {"title": "news"},
                "n": 1,
                "handler": lambda *args: None,
            }
            code = compile(block.code, str(block), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            with anyio.fail_after(10):
                result = eval(code, names)  # the block as written, with top-level await
                if inspect.iscoroutine(result):
                    await result


# -- controller actions --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.parametrize("block", of_kind("actions"), ids=_in_app_ids(of_kind("actions")))
async def test_controller_action_blocks_run(block: Block, caplog: pytest.LogCaptureFixture) -> None:
    # The actions' own context: a name on the socket and two rooms, as the prose assumes.
    source = (
        "from thinkio import Controller\n\n\n"
        "class DocsController(Controller):\n"
        "    def before(self):\n"
        "        self.websocket.data.setdefault('username', 'ann')\n"
        "        self.join('users', 'room-1')\n\n" + textwrap.indent(block.code, "    ")
    )
    names: dict[str, Any] = {}
    exec(compile(source, str(block), "exec"), names)
    cls = names["DocsController"]
    actions = [m.removesuffix("_action") for m in vars(cls) if m.endswith("_action")]
    assert actions, f"{block}: no *_action method"
    messages = {action: f"/docs/{action}" for action in actions}
    caplog.set_level(logging.ERROR, logger="thinkio.dispatch")
    app = App(messages=messages, controllers={"docs": cls})
    async with serving(app) as url:
        client = Client(url, transports=("websocket",), reconnection=False)
        async with client:
            for action in actions:
                if action not in ("open", "close"):
                    await client.call(action, "hello", timeout=5)  # AckTimeout if it failed
    # open ran on connect, close on disconnect (serving waits for it): neither failed.
    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, failures


# -- outputs and the page ------------------------------------------------------------------------

#: What each shown error message is about: the mistake, made in a project of `thinkio new`.
MISTAKES: dict[str, Callable[[Path], None]] = {
    "unknown key 'allowOrign'": lambda root: _replace(
        root / "config" / "adapter.py", '"handle": "socketio",', '"allowOrign": "*",'
    ),
    "has no method add_user_action()": lambda root: _replace(
        root / "controller" / "websocket.py", "def add_user_action", "def add_users_action"
    ),
}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: the scaffold changed ({old!r} is gone)"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize("block", of_kind("error-output"), ids=_in_app_ids(of_kind("error-output")))
def test_an_error_shown_is_the_error_printed(block: Block, tmp_path: Path) -> None:
    shown = block.code.strip()
    mistakes = [make for about, make in MISTAKES.items() if about in shown]
    assert len(mistakes) == 1, f"{block}: add the mistake it shows to MISTAKES"
    root = tmp_path / "app"
    create_project(root)
    mistakes[0](root)
    result = subprocess.run(
        [sys.executable, "-m", "thinkio.cli", "run", "app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == shown


@pytest.mark.parametrize(
    "block", of_kind("scaffold-html"), ids=_in_app_ids(of_kind("scaffold-html"))
)
def test_html_shown_is_the_scaffold_page(block: Block) -> None:
    page = (ROOT / "thinkio" / "scaffold" / "project" / "www" / "index.html").read_text()
    lines = [line.strip() for line in page.splitlines()]
    shown = [line.strip() for line in block.code.splitlines()]
    starts = [i for i, line in enumerate(lines) if line == shown[0]]
    assert any(lines[i : i + len(shown)] == shown for i in starts), f"{block} is not in the page"


# -- generated pages -----------------------------------------------------------------------------


def test_state_machine_page_is_up_to_date() -> None:
    tool = runpy.run_path(str(DOCS / "tools" / "render_state_machines.py"))
    page = (DOCS / "explanation" / "state-machines.md").read_text(encoding="utf-8")
    assert page == tool["render"](), (
        "docs/explanation/state-machines.md is stale: run "
        ".venv/bin/python docs/tools/render_state_machines.py"
    )


def test_every_transition_is_drawn() -> None:
    from thinkio.engineio._state import TRANSITIONS

    page = (DOCS / "explanation" / "state-machines.md").read_text(encoding="utf-8")
    for (state, trigger), target in TRANSITIONS.items():
        assert f"{state.name} --> {target.name}: {trigger.name.lower()}" in page
