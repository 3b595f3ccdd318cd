"""Fixtures of the interop matrix, and the results table it can write.

* ``interop_server``: ``server_app.py`` as a subprocess, started once per test module on
  each backend (asyncio, trio).
* ``matrix_run``: runs one client over one transport (all features at once, cached for the
  module), so each matrix cell only looks up its feature's result.
* ``chromium_driver``: one headless Chromium for the whole session.

``--interop-table PATH`` writes the results of the matrix cells (and the bad-client checks)
to PATH as Markdown; without it nothing is written, so ``make test`` never rewrites
``docs/interop.md``. Regenerate it with ``make interop-table``, which runs::

    .venv/bin/python -m pytest tests/interop tests/nodeapi --interop-table docs/interop.md
        $(.venv/bin/python -m tests.interop.rows)

(tests/nodeapi adds the checks of Node's server API with socket.io-client 4.x; the node ids
that ``tests.interop.rows`` prints, the "other real clients" rows.)
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from . import table
from .harness import (
    ChromiumDriver,
    RunResult,
    Sentinels,
    ServerUnderTest,
    chromium_ready,
    node_ready,
    node_run,
    python_run,
)
from .matrix import expected_seen


def require(reason: str | None) -> None:
    """Skip when a prerequisite is missing; in CI (``CI`` set) that is a failure instead."""
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"interop prerequisite missing in CI: {reason}")
    pytest.skip(reason)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--interop-table",
        metavar="PATH",
        default=None,
        help="write the interop matrix results as Markdown to PATH (e.g. docs/interop.md)",
    )


class OtherRows:
    """Records the tests named by ``rows.ROWS`` wherever they live: a plugin, not this
    conftest's hooks, which only see the items under tests/interop."""

    def __init__(self, recorder: table.Recorder) -> None:
        self.recorder = recorder

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        self.recorder.record_row(item, report)
        return report


def pytest_configure(config: pytest.Config) -> None:
    recorder = table.Recorder(started=time.time())
    config.stash[table.RECORDER] = recorder
    if config.getoption("--interop-table", default=None):
        config.pluginmanager.register(OtherRows(recorder), "thinkio-interop-other-rows")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.config.stash[table.RECORDER].record(item, report)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The option exists only when this conftest was loaded at start-up (pytest tests/interop).
    path = session.config.getoption("--interop-table", default=None)
    if path:
        recorder = session.config.stash[table.RECORDER]
        Path(path).write_text(table.render(recorder), encoding="utf-8")


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def interop_server(request: pytest.FixtureRequest) -> Iterator[ServerUnderTest]:
    """The interop app on one backend, for the whole module (extra options: the module's
    ``SERVER_ARGS``)."""
    server = ServerUnderTest(request.param, *getattr(request.module, "SERVER_ARGS", ()))
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def sentinels(interop_server: ServerUnderTest) -> Iterator[Sentinels]:
    """Well-behaved 4.x and 2.x clients, connected for the whole module."""
    require(node_ready())
    clients = Sentinels(interop_server)
    try:
        yield clients
    finally:
        clients.close()


@pytest.fixture(scope="session")
def chromium_driver(request: pytest.FixtureRequest) -> Iterator[ChromiumDriver]:
    require(chromium_ready())
    driver = ChromiumDriver()
    request.config.stash[table.RECORDER].versions["chromium"] = driver.version
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture(scope="module")
def matrix_run(
    request: pytest.FixtureRequest, interop_server: ServerUnderTest
) -> Callable[[str, str], RunResult]:
    """``matrix_run(client, transport)``: that client's run on this module's server."""
    cache: dict[tuple[str, str, int], RunResult] = {}

    def run(client: str, transport: str) -> RunResult:
        key = (client, transport, id(interop_server))
        if key not in cache:
            run_id = f"{interop_server.backend}-{client}-{transport}-{secrets.token_hex(3)}"
            kind = client.partition("-")[0]  # "node4-uvicorn": node4 against an ASGI server
            if kind in ("node4", "node2"):
                require(node_ready())
                result = node_run(interop_server, int(kind[-1]), transport, run_id)
            elif kind == "python":
                result = python_run(interop_server, transport, run_id)
            elif client in ("chromium", "chromium2"):
                driver = request.getfixturevalue("chromium_driver")
                bundle = 2 if client == "chromium2" else 4
                result = driver.run(interop_server, transport, run_id, bundle)
            else:
                raise ValueError(client)
            if result.done and "client" in result.done:
                versions = request.config.stash[table.RECORDER].versions
                versions.setdefault(client, result.done["client"])
            cache[key] = result
        return cache[key]

    return run


def check_cell(
    run: RunResult, server: ServerUnderTest, client: str, transport: str, feature: str
) -> None:
    """One matrix cell: the client says the feature worked, and the server agrees on how."""
    outcome = run.results.get(feature)
    where = f"{client} over {transport} on the {server.backend} server"
    if outcome is None:
        pytest.fail(
            f"{where}: no result for {feature!r} ({run.problem})\n{run.context()}\n"
            f"server log:\n{server.log_tail()}"
        )
    if not outcome.get("ok"):
        pytest.fail(
            f"{where}: {feature} failed: {outcome.get('error')}\n{run.context()}\n"
            f"server log:\n{server.log_tail()}"
        )
    seen = set(outcome["seen"])
    want = expected_seen(client, transport)
    assert seen == want, (
        f"{where}: the server saw {sorted(seen)} requests for {feature}, expected {sorted(want)}"
    )
    if transport == "blocked":
        proxy = (run.done or {}).get("proxy") or {}
        assert proxy.get("refusedUpgrades", 0) >= 1, f"the proxy refused no upgrade: {proxy}"
