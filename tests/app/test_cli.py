"""The thinkio command: new, run (port 0, Ctrl-C, a port in use, config errors), both backends."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .processes import Served, thinkio

BACKENDS = ["asyncio", "trio"]


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
    assert f"created {tmp_path / 'app'} (7 files)" in result.stdout
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_serves_and_stops_on_ctrl_c(project: Path, backend: str) -> None:
    served = Served(project, "--backend", backend)
    try:
        assert served.banner == f"thinkio serving {project} on {served.url} ({backend})"
        page = httpx.get(served.url + "/", timeout=5)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "/socket.io/socket.io.js" in page.text
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
        assert served.banner.startswith(f"thinkio serving {project} on {served.url} (asyncio, ")
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_app_run_blocks_until_ctrl_c(tmp_path: Path, backend: str) -> None:
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from thinkio import App
            App(port=0).run(backend={backend!r})
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
        assert line.startswith("thinkio serving on http://127.0.0.1:") and f"({backend})" in line
        url = line.split()[3]
        assert httpx.get(url + "/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 200
        proc.send_signal(2)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.strip() == "returned"
