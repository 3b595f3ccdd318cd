"""Helpers shared by several test packages."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import anyio
import pytest

from thinkio.server import Server


@asynccontextmanager
async def run_in_memory(io: Server) -> AsyncIterator[None]:
    """Run ``io`` without listening (its timers, flusher and tasks) for the block, for tests
    that drive it with :class:`thinkio.testing.MemoryTransport`; shut it down after."""
    async with anyio.create_task_group() as tg:
        await tg.start(io.run)
        try:
            yield
        finally:
            await io.shutdown(timeout=1)
            tg.cancel_scope.cancel()


class Inbox:
    """Collects the (event, args) a client receives, in order; tests wait for a count.

    Register ``inbox.handler(event)`` as the client's handler for each event to record.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = anyio.Event()

    def handler(self, event: str) -> Any:
        def record(*args: Any) -> None:
            self.items.append((event, args))
            self._changed.set()
            self._changed = anyio.Event()

        return record

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, tuple[Any, ...]]]:
        """Every item, once there are at least ``count``; fails after ``timeout`` seconds."""
        with anyio.fail_after(timeout):
            while len(self.items) < count:
                await self._changed.wait()
        return self.items


def npm_ci(folder: Path, marker: str) -> str | None:
    """None once Node is installed and ``folder/node_modules/marker`` exists (running
    ``npm ci`` there when needed), else why not: a reason for a skip, written out."""
    if shutil.which("node") is None:
        return "node is not installed"
    if (folder / "node_modules" / marker).is_dir():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return f"npm is not installed and {folder / 'node_modules'} is missing"
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        return f"npm ci in {folder} failed: {result.stderr.decode(errors='replace')[-500:]}"
    return None


def missing_part(why: str) -> NoReturn:
    """A real part the test needs (Node, npm packages, Chromium, redis-server) is missing:
    skip, saying why — but fail in CI (``CI`` set), where ``make test`` installs every part
    and a skip would hide a broken install step."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI installs it: see the Makefile)")
    pytest.skip(why)
