"""The ASGI rows of the matrix on hypercorn: socket.io-client 4.x (Node) and python-socketio
against ``thinkio.asgi.ASGIApp`` (tests/interop/asgi_app.py), over each transport.

hypercorn runs each cell on asyncio and on trio (`--worker-class trio`). The server is a real ``hypercorn`` subprocess on a free port of 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .conftest import check_cell
from .harness import AsgiServerUnderTest, RunResult
from .matrix import cells

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def interop_server(request: pytest.FixtureRequest) -> Iterator[AsgiServerUnderTest]:
    server = AsgiServerUnderTest("hypercorn", request.param)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.mark.parametrize(
    ("client", "transport", "feature"), cells("node4-hypercorn", "python-hypercorn")
)
def test_cell(
    interop_server: AsgiServerUnderTest,
    matrix_run: Callable[[str, str], RunResult],
    client: str,
    transport: str,
    feature: str,
) -> None:
    check_cell(matrix_run(client, transport), interop_server, client, transport, feature)
