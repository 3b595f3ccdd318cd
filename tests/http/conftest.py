"""Fixtures for the HTTP layer's tests: both backends, and an HTTP server on a fake clock."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
