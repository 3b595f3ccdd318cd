"""Which server the suite runs against, and what that server is known not to do.

Targets (see README.md):

* default: start thinkio's suite server, ``python -m protocol.server --port 0 --backend B``,
  once per backend (``--backend asyncio`` / ``--backend trio``, both by default);
* ``--server node``: start Node's reference server, ``node protocol/node_reference/server.js``;
* ``--url http://127.0.0.1:PORT``: a server that is already running.

A started server must print ``listening on HOST:PORT`` on stdout. Every target serves
``/engine.io/`` (echo), ``/socket.io/`` and, for the origin tests, ``/restricted/``.

Capabilities: a few requirements of the protocol notes are stricter than what Node's
reference server does. Tests of those requirements carry ``@pytest.mark.requires(NAME)`` and
are skipped, with the reason written out, only for a target declared to lack NAME, either by
its ``--server-kind`` preset or by ``--lacks NAME``. Nothing else depends on the target.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ._client import TIMEOUT
from ._target import CAPABILITIES, KINDS, Target

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NODE_REFERENCE = HERE / "node_reference"

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("protocol", "thinkio protocol conformance suite")
    group.addoption(
        "--url",
        default=None,
        help="test the server already running at this base URL "
        "(e.g. http://127.0.0.1:3000) instead of starting one",
    )
    group.addoption(
        "--server",
        choices=("thinkio", "node"),
        default="thinkio",
        help="which server to start when --url is not given (default: thinkio)",
    )
    group.addoption(
        "--backend",
        action="append",
        choices=("asyncio", "trio"),
        default=None,
        help="backend(s) of the started thinkio server; repeatable (default: both)",
    )
    group.addoption(
        "--server-kind",
        choices=sorted(KINDS),
        default=None,
        help="capability preset of the target: 'node' lacks "
        f"{', '.join(sorted(KINDS['node']))}; 'thinkio' and 'strict' lack "
        "nothing (default: node for --server node, thinkio for the started "
        "thinkio server, strict with --url)",
    )
    group.addoption(
        "--lacks",
        action="append",
        default=[],
        choices=sorted(CAPABILITIES),
        metavar="CAPABILITY",
        help="declare that the target lacks this capability (repeatable): its "
        f"tests are skipped. One of: {', '.join(sorted(CAPABILITIES))}",
    )
    group.addoption(
        "--restricted-path",
        default="/restricted/",
        help="mount that only allows --allowed-origin (default /restricted/); "
        "an empty value skips the origin-refusal tests",
    )
    group.addoption(
        "--allowed-origin",
        default="http://allowed.example",
        help="the one origin the restricted mount allows (default http://allowed.example)",
    )
    group.addoption(
        "--startup-timeout",
        type=float,
        default=20.0,
        help="seconds to wait for a started server's 'listening on' line",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "official(suite, *cases): the official test-suite cases a test covers"
    )
    config.addinivalue_line(
        "markers", "requires(capability): skipped for a target declared to lack it"
    )


def _kind(config: pytest.Config) -> str:
    kind: str | None = config.getoption("--server-kind")
    if kind is not None:
        return kind
    if config.getoption("--url"):
        return "strict"
    return str(config.getoption("--server"))


def _lacks(config: pytest.Config) -> frozenset[str]:
    return KINDS[_kind(config)] | frozenset(config.getoption("--lacks"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    lacks = _lacks(config)
    kind = _kind(config)
    for item in items:
        for mark in item.iter_markers("requires"):
            (capability,) = mark.args
            assert capability in CAPABILITIES, f"{item.nodeid}: unknown capability {capability}"
            if capability in lacks:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"target (--server-kind {kind}) lacks '{capability}': "
                        f"{CAPABILITIES[capability]}"
                    )
                )


def pytest_report_header(config: pytest.Config) -> str:
    url = config.getoption("--url")
    where = url or f"started {config.getoption('--server')} server"
    lacks = ", ".join(sorted(_lacks(config))) or "nothing"
    return f"protocol suite target: {where}; server kind {_kind(config)}; lacks: {lacks}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "server" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if config.getoption("--url"):
        ids = ["url"]
    elif config.getoption("--server") == "node":
        ids = ["node"]
    else:
        ids = config.getoption("--backend") or ["asyncio", "trio"]
    metafunc.parametrize("server", ids, indirect=True, scope="session")


def _drain(stream: object, lines: queue.Queue[str | None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)
    lines.put(None)


def _start(command: list[str], startup_timeout: float) -> tuple[subprocess.Popen[str], str]:
    """Start ``command`` and wait for its ``listening on HOST:PORT`` line."""
    stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (lives as long as the server)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=stderr,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + startup_timeout
    seen: list[str] = []
    problem = f"did not print 'listening on HOST:PORT' within {startup_timeout} s"
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if line is None:
            process.wait(timeout=5)
            problem = f"exited with status {process.returncode} before listening"
            break
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            stderr.close()  # the server keeps writing to its own descriptor
            return process, f"http://{match.group(1)}:{match.group(2)}"
    _stop(process)
    stderr.seek(0)
    err = stderr.read()[-3000:]
    stderr.close()
    pytest.fail(
        f"server {' '.join(command)!r} {problem}.\nstdout: {''.join(seen)[-2000:]!r}\n"
        f"stderr: {err}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The server under test (started for this session unless --url was given)."""
    config = request.config
    target = {
        "kind": _kind(config),
        "lacks": _lacks(config),
        "restricted_path": config.getoption("--restricted-path"),
        "allowed_origin": config.getoption("--allowed-origin"),
    }
    url = config.getoption("--url")
    if url:
        yield Target(url=url.rstrip("/"), **target)
        return
    timeout = config.getoption("--startup-timeout")
    if request.param == "node":
        node = shutil.which("node")
        if node is None:
            pytest.fail("--server node: no 'node' executable on PATH", pytrace=False)
        if not (NODE_REFERENCE / "node_modules" / "socket.io").is_dir():
            pytest.fail(f"--server node: run 'npm ci' in {NODE_REFERENCE} first", pytrace=False)
        command = [node, str(NODE_REFERENCE / "server.js"), "--port", "0"]
    else:
        command = [
            sys.executable,
            "-m",
            "protocol.server",
            "--port",
            "0",
            "--backend",
            request.param,
        ]
    process, url = _start(command, timeout)
    try:
        yield Target(url=url, **target)
    finally:
        _stop(process)


@pytest.fixture
def http(server: Target) -> Iterator[httpx.Client]:
    """A sync HTTP client for the server (keep-alive connections are pooled)."""
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def restricted(server: Target) -> str:
    """The restricted mount's path; skips the test if the target has none."""
    if not server.restricted_path:
        pytest.skip("no restricted mount (--restricted-path is empty)")
    return server.restricted_path
