"""The python-socketio AsyncClient (PyPI) against thinkio, over each transport."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import check_cell
from .harness import RunResult, ServerUnderTest
from .matrix import cells

pytestmark = pytest.mark.interop


@pytest.mark.parametrize(("client", "transport", "feature"), cells("python"))
def test_cell(
    interop_server: ServerUnderTest,
    matrix_run: Callable[[str, str], RunResult],
    client: str,
    transport: str,
    feature: str,
) -> None:
    check_cell(matrix_run(client, transport), interop_server, client, transport, feature)
