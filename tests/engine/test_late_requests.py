"""A request that arrives after its session's pong deadline, before the timer ran (a loop busy
elsewhere): its arrival closes the session, and the request is refused, but the close must
still reach the app and the server must forget the session (thinkio/engine/polling.py,
``EngineServer._upgrade``). In memory, on a clock whose timers never run by themselves."""

from __future__ import annotations

import json

import pytest

from thinkio.net import TimerService
from thinkio.server import Server, Socket
from thinkio.testing import MemoryTransport

from ..support import run_in_memory

pytestmark = pytest.mark.anyio


class LateTimers:
    """A clock whose time the test moves and whose timers never run: every deadline is
    noticed by the next request, as when a busy loop gets to a request before the timer."""

    real = False

    def __init__(self) -> None:
        self.time = 1000.0

    def now(self) -> float:
        return self.time

    def attach(self, timers: TimerService) -> None:
        pass


def request(method: str, path: str, body: bytes = b"", extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}".encode()
    if method == "POST":
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def body_of(response: bytes) -> bytes:
    return response.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("late", ["GET", "POST", "upgrade"])
async def test_a_request_that_finds_its_session_timed_out_still_ends_it(late: str) -> None:
    clock = LateTimers()
    io = Server(clock=clock, ping_interval=1, ping_timeout=1)
    gone: list[str] = []

    @io.on("disconnect")
    def disconnected(socket: Socket, reason: str) -> None:
        gone.append(reason)

    async with run_in_memory(io):
        get = MemoryTransport(io.http.protocol())
        get.feed(request("GET", "/socket.io/?EIO=4&transport=polling"))
        sid = json.loads(body_of(get.take())[1:])["sid"]
        path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        post = MemoryTransport(io.http.protocol())
        post.feed(request("POST", path, b"40"))
        assert body_of(post.take()) == b"ok"
        get.feed(request("GET", path))
        assert body_of(get.take()).startswith(b"40{")
        clock.time += 5
        get.feed(request("GET", path))
        assert body_of(get.take()) == b"2"  # the ping, late: the client still gets time
        clock.time += 5  # ... and did not use it
        if late == "GET":
            get.feed(request("GET", path))
            assert body_of(get.take()) == b'{"code":1,"message":"Session ID unknown"}'
        elif late == "POST":
            post.feed(request("POST", path, b"3"))
            assert body_of(post.take()) == b'{"code":1,"message":"Session ID unknown"}'
        else:
            probe = MemoryTransport(io.http.protocol())
            probe.feed(
                request(
                    "GET",
                    path.replace("polling", "websocket"),
                    extra="Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
                )
            )
            # Refused as any probe of a session that cannot upgrade: 101, then close 1008.
            head, _, frames = probe.take().partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101 ")
            assert frames == b"\x88\x18\x03\xf0session cannot upgrade"
        assert gone == ["ping timeout"]  # the app heard of it ...
        assert not io.engine.sockets  # ... and the server forgot the session
