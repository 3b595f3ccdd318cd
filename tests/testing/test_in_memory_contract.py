"""The adapter contract against the in-memory adapter (one server)."""

from __future__ import annotations

import pytest

from thinkio.server import Server
from thinkio.testing import check_adapter

pytestmark = pytest.mark.anyio


def make_server(group: str) -> Server:
    return Server()


async def test_the_in_memory_adapter_keeps_the_contract() -> None:
    await check_adapter(make_server, nodes=1)
