"""Node's socket.io-client 4.x and 2.x against thinkio, over each transport (PROTOCOL.md 4 for
2.x: Engine.IO v3, the implicit "/" connection, namespace queries, v3 payload framing)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import check_cell
from .harness import RunResult, ServerUnderTest
from .matrix import cells

pytestmark = pytest.mark.interop


@pytest.mark.parametrize(("client", "transport", "feature"), cells("node4", "node2"))
def test_cell(
    interop_server: ServerUnderTest,
    matrix_run: Callable[[str, str], RunResult],
    client: str,
    transport: str,
    feature: str,
) -> None:
    check_cell(matrix_run(client, transport), interop_server, client, transport, feature)
