"""Connect deadlines (thinkio/server/driver.py, net/timers.DeadlineQueue): a session waits in
the server's queue only until it joins a namespace, and one that never joins is closed at
its deadline, on a fake clock."""

from __future__ import annotations

import anyio
import pytest

from thinkio.server import Server
from thinkio.testing import FakeClock

from ..support import run_in_memory
from .conftest import frame, websocket_session


@pytest.mark.anyio
async def test_a_session_waits_for_its_connect_deadline_only_until_it_joins() -> None:
    clock = FakeClock()
    io = Server(clock=clock, connect_timeout=10)
    async with run_in_memory(io):
        joined = [websocket_session(io) for _ in range(3)]
        idle = websocket_session(io)
        assert len(io.connect_deadlines) == 4
        for transport in joined:
            transport.feed(frame(b"40"))
            assert b'40{"sid":' in transport.take()
        assert len(io.connect_deadlines) == 1  # the one that has not joined
        for transport in joined:
            transport.feed(frame(b'42["ping"]'))  # messages after joining arm nothing
        assert len(io.connect_deadlines) == 1
        clock.advance(10)
        assert len(io.connect_deadlines) == 0
        assert len(io.engine.sockets) == 3  # no namespace within connect_timeout: closed
        sent = b""
        with anyio.fail_after(5):
            while not sent:  # the WebSocket's close frame goes out at the flusher's turn
                await anyio.sleep(0)
                sent += idle.take()
        assert sent == b"\x88\x02\x03\xe8"  # a close frame, 1000
        assert not any(t.closing or t.take() for t in joined)
