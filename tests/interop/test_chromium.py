"""Headless Chromium with the official socket.io-client browser bundles against thinkio.

4.x: over WebSocket, over polling, and falling back to polling behind a proxy that blocks
WebSocket. 2.x (the client of the ThinkJS guide): over WebSocket, polling (binary payloads,
``application/octet-stream``, which Node's 2.x client never uses) and the upgrade.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import check_cell
from .harness import RunResult, ServerUnderTest
from .matrix import cells

pytestmark = pytest.mark.interop


@pytest.mark.parametrize(("client", "transport", "feature"), cells("chromium", "chromium2"))
def test_cell(
    interop_server: ServerUnderTest,
    matrix_run: Callable[[str, str], RunResult],
    client: str,
    transport: str,
    feature: str,
) -> None:
    check_cell(matrix_run(client, transport), interop_server, client, transport, feature)
