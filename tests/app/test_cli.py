"""The thinkio command: new, run (port 0, Ctrl-C, a port in use, config errors, --reload,
missing extras), on every loop, and --version."""

from __future__ import annotations

import importlib.metadata
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import thinkio as thinkio_package

from .processes import Served, call_over_polling, thinkio

LOOPS = ["asyncio", "uvloop", "trio"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    result = thinkio("new", str(tmp_path / "app"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "app"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_new_prints_the_next_steps(tmp_path: Path) -> None:
    result = thinkio("new", str(tmp_path / "app"))
    assert result.returncode == 0
    assert f"created {tmp_path / 'app'} (8 files)" in result.stdout
    assert "npm install" in result.stdout and "thinkio run" in result.stdout
    assert (tmp_path / "app" / "controller" / "websocket.py").is_file()


def test_new_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "keep.txt").write_text("mine")
    result = thinkio("new", str(tmp_path / "app"))
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"thinkio: {tmp_path / 'app'} is not empty; give a new (or empty) directory"
    )
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["keep.txt"]
    (tmp_path / "file").write_text("x")
    assert "exists and is not a directory" in thinkio("new", str(tmp_path / "file")).stderr


def test_new_accepts_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    assert thinkio("new", str(tmp_path / "app")).returncode == 0


@pytest.mark.parametrize("loop", LOOPS)
def test_run_serves_and_stops_on_ctrl_c(project: Path, loop: str) -> None:
    served = Served(project, "--loop", loop)
    try:
        assert served.banner == f"thinkio serving {project} on {served.url} ({loop})"
        page = httpx.get(served.url + "/", timeout=5)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "fetch('/thinkio.json')" in page.text
        settings = httpx.get(served.url + "/thinkio.json", timeout=5)
        assert settings.json() == {"path": "/socket.io"}
        missing = httpx.get(served.url + "/socket.io/socket.io.js", timeout=5)
        assert missing.status_code == 404 and "npm install socket.io-client@4" in missing.text
        assert httpx.get(served.url + "/../config/config.py", timeout=5).status_code == 404
    finally:
        status = served.interrupt()
    assert status == 0, served.log
    assert "SIGINT: shutting down" in served.log
    assert served.log.rstrip().endswith("thinkio stopped")
    assert "Traceback" not in served.log


def test_run_on_a_port_in_use_is_one_line(project: Path, busy_port: int) -> None:
    result = thinkio("run", str(project), "--port", str(busy_port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"thinkio: 127.0.0.1:{busy_port} is already in use; choose another port with --port"
    )
    assert "Traceback" not in result.stderr


def test_run_reports_a_config_error_in_one_line(project: Path) -> None:
    (project / "config" / "config.py").write_text("prot = 8360\n")
    result = thinkio("run", str(project))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "thinkio: error: config/config.py: unknown key 'prot'; did you mean 'port'?"
    )


def test_run_shows_the_traceback_of_a_broken_controller(project: Path) -> None:
    (project / "controller" / "websocket.py").write_text("def broken(:\n")
    result = thinkio("run", str(project))
    assert result.returncode == 1
    assert "SyntaxError" in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("thinkio: error: controller/websocket.py: importing it failed: SyntaxError")
    )


@pytest.mark.parametrize("how", ["--workers", "sticky_cluster"])
def test_run_serves_with_worker_processes(project: Path, how: str) -> None:
    # The guide's stickyCluster: a supervisor and workers, every request of a session on its
    # owner, broadcasts across workers (docs/cluster.md; tests/cluster has the details).
    if how == "sticky_cluster":
        (project / "config" / "config.py").write_text("sticky_cluster = True\n")
        served = Served(project)  # one worker per CPU
    else:
        served = Served(project, "--workers", "2")
    try:
        # uvloop, the default where it is installed (make test installs it), in the workers too.
        assert served.banner.startswith(f"thinkio serving {project} on {served.url} (uvloop, ")
        assert served.banner.endswith(" workers)")
        owners = set()
        for _ in range(4):
            opened = httpx.get(f"{served.url}/socket.io/?EIO=4&transport=polling", timeout=5)
            sid = opened.text.split('"sid":"')[1].split('"')[0]
            owners.add(sid.split(".")[0])
            # Later requests of the session reach its owner (a GET answers at once: "40").
            url = f"{served.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
            assert httpx.post(url, content="40", timeout=5).text == "ok"
            assert httpx.get(url, timeout=5).text.startswith("40")
            # Leave as a client does (else the shutdown waits for it to fetch what the open
            # action queued for it, up to its timeout).
            assert httpx.post(url, content="1", timeout=5).text == "ok"
        assert len(owners) >= 2, owners  # handshakes were spread over the workers
    finally:
        status = served.interrupt()
    assert status == 0, served.log
    assert "Traceback" not in served.log


def test_run_of_a_directory_that_is_not_a_project(tmp_path: Path) -> None:
    result = thinkio("run", str(tmp_path))
    assert result.returncode == 1
    assert "is not a thinkio project" in result.stderr


def test_run_checks_its_arguments(project: Path) -> None:
    assert thinkio("run", str(project), "--port", "70000").returncode == 2
    assert thinkio("run", str(project), "--backend", "curio").returncode == 2
    assert thinkio("run", str(project), "--loop", "curio").returncode == 2


@pytest.mark.parametrize(
    ("loop", "keyword"), [("asyncio", "backend"), ("uvloop", "loop"), ("trio", "loop")]
)
def test_app_run_blocks_until_ctrl_c(tmp_path: Path, loop: str, keyword: str) -> None:
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from thinkio import App
            App(port=0).run({keyword}={loop!r})
            print("returned", flush=True)
            """
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("thinkio serving on http://127.0.0.1:") and f"({loop})" in line
        url = line.split()[3]
        assert httpx.get(url + "/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 200
        proc.send_signal(2)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "returned"


def test_version_is_the_package_version() -> None:
    result = thinkio("--version")
    assert result.returncode == 0
    build = " (mypyc build)" if thinkio_package.COMPILED else ""  # tests/test_compiled.py
    assert result.stdout.strip() == f"thinkio {importlib.metadata.version('thinkio')}{build}"
    assert importlib.metadata.version("thinkio") == thinkio_package.__version__


LOOP_CONTROLLER = """
import asyncio

from thinkio import Controller


class WebsocketController(Controller):
    def loop_action(self):
        try:
            return type(asyncio.get_running_loop()).__module__
        except RuntimeError:  # no asyncio loop: trio
            return "trio"
"""


@pytest.mark.parametrize(
    ("args", "banner", "running"),
    [
        ((), "uvloop", "uvloop"),  # the default where uvloop is installed (make test's venv)
        (("--loop", "asyncio"), "asyncio", "asyncio.unix_events"),
        (("--loop", "uvloop"), "uvloop", "uvloop"),
        (("--backend", "trio"), "trio", "trio"),
    ],
)
def test_the_loop_asked_for_is_the_loop_that_runs(
    project: Path, args: tuple[str, ...], banner: str, running: str
) -> None:
    (project / "controller" / "websocket.py").write_text(LOOP_CONTROLLER)
    (project / "config" / "adapter.py").write_text(
        'websocket = {"socketio": {"messages": {"loop": "/websocket/loop"}}}\n'
    )
    served = Served(project, *args)
    try:
        assert served.banner.endswith(f"({banner})")
        assert call_over_polling(served.url, "loop") == [running]
    finally:
        assert served.interrupt() == 0, served.log


def without(modules: list[str], *argv: str) -> subprocess.CompletedProcess[str]:
    """``thinkio ARGV`` in a process where ``modules`` cannot be imported, as when they are
    not installed (the wheel test, tests/packaging, checks the same in a bare venv)."""
    code = (
        "import sys\n"
        f"for name in {modules!r}: sys.modules[name] = None\n"
        "from thinkio.cli import main\n"
        f"sys.exit(main({list(argv)!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        ("trio", ("--loop", "trio"), "trio"),
        ("trio", ("--backend", "trio"), "trio"),
        ("uvloop", ("--loop", "uvloop"), "speed"),
        ("watchfiles", ("--reload",), "reload"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(
    project: Path, module: str, args: tuple[str, ...], extra: str
) -> None:
    result = without([module], "run", str(project), *args)
    assert result.returncode == 1
    assert result.stderr == f"thinkio: {module} is not installed: pip install 'thinkio[{extra}]'\n"


def test_without_uvloop_the_default_loop_is_asyncio(project: Path) -> None:
    code = (
        "import sys\nsys.modules['uvloop'] = None\n"
        "from thinkio import App, loops\nfrom thinkio.extras import MissingExtra\n"
        "print(loops.default_loop())\n"
        "try:\n    App(port=0).run(loop='uvloop')\n"
        "except MissingExtra as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.splitlines() == [
        "asyncio",
        "uvloop is not installed: pip install 'thinkio[speed]'",
    ], result.stderr


def test_reload_restarts_on_a_code_change(project: Path) -> None:
    served = Served(project, "--reload")
    try:
        assert httpx.get(f"{served.url}/thinkio.json", timeout=5).json() == {"path": "/socket.io"}
        adapter = project / "config" / "adapter.py"
        adapter.write_text(adapter.read_text().replace('"/socket.io"', '"/ws"'))
        served.wait_until_serving()  # restarted, with the new setting
        assert httpx.get(f"{served.url}/thinkio.json", timeout=5).json() == {"path": "/ws"}
        # A broken controller: the child says why and exits; the watcher waits for a fix.
        controller = project / "controller" / "websocket.py"
        good = controller.read_text()
        controller.write_text("def broken(:\n")
        controller.write_text(good)
        served.wait_until_serving()
    finally:
        status = served.interrupt()
    assert status == 0, served.log
    log = served.log
    assert log.startswith(f"thinkio: watching {project} for changes (--reload)\n")
    assert "thinkio: config/adapter.py changed: restarting" in log
    assert "thinkio: controller/websocket.py changed: restarting" in log
    assert log.rstrip().endswith("thinkio stopped")
