"""The accept loop (thinkio/net/listen.py): the connection limit and running out of
descriptors, on real sockets, on both backends."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import socket
from typing import Literal

import anyio
import pytest

from thinkio.limits import Limits
from thinkio.net import PortInUse, listen
from thinkio.server import Server

from .support import Recorder, read_to_eof, serving

pytestmark = pytest.mark.anyio


class _Watch(logging.Handler):
    """Sets an event when a record containing ``text`` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.records: list[logging.LogRecord] = []
        self.seen = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.records.append(record)
            self.seen.set()


async def test_connections_beyond_the_limit_are_closed_at_once_and_logged_once(
    anyio_backend: str,
) -> None:
    live: set[Recorder] = set()

    class Counted(Recorder):
        def connection_made(self, transport: object) -> None:
            live.add(self)
            super().connection_made(transport)

        def connection_lost(self, exc: BaseException | None) -> None:
            live.discard(self)
            super().connection_lost(exc)

    made: list[Counted] = []

    def factory() -> Counted:
        made.append(Counted())
        return made[-1]

    watch = _Watch("refusing connections")
    logging.getLogger("thinkio.server").addHandler(watch)
    try:
        async with serving(factory, generic=False, connections=live, max_connections=2) as port:
            first = await anyio.connect_tcp("127.0.0.1", port)
            second = await anyio.connect_tcp("127.0.0.1", port)
            await first.send(b"1")
            await second.send(b"2")
            await made[1].wait_for(lambda: len(live) == 2 and made[1].data == b"2")
            # Over the limit: accepted and closed at once, never given a protocol.
            for _ in range(3):
                async with await anyio.connect_tcp("127.0.0.1", port) as extra:
                    assert await read_to_eof(extra) == b""
            assert len(made) == 2
            assert len(watch.records) == 1  # one line per 10 s, not one per connection
            # A slot frees up: the next connection is served.
            await first.aclose()
            await made[0].wait_for(lambda: made[0].count("lost") == 1)
            async with await anyio.connect_tcp("127.0.0.1", port) as third:
                await third.send(b"3")
                await made[0].wait_for(lambda: len(made) == 3)
                await made[2].wait_for(lambda: made[2].data == b"3")
            await second.aclose()
    finally:
        logging.getLogger("thinkio.server").removeHandler(watch)


async def test_out_of_descriptors_the_loop_backs_off_and_recovers(anyio_backend: str) -> None:
    rec = Recorder()
    watch = _Watch("accept() failed")
    logging.getLogger("thinkio.server").addHandler(watch)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with serving(lambda: rec, generic=False) as port:
        # The client's socket exists before descriptors run out; only accept() needs one.
        client = socket.socket()
        client.setblocking(False)
        probe = os.dup(0)  # the lowest free descriptor number
        os.close(probe)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (probe, hard))  # no new descriptor
            with contextlib.suppress(BlockingIOError):
                client.connect(("127.0.0.1", port))
            with anyio.fail_after(5):
                await watch.seen.wait()  # accept() failed with EMFILE: logged, not raised
            assert rec.transport is None
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            logging.getLogger("thinkio.server").removeHandler(watch)
        # Descriptors again: the connection waiting in the kernel's queue is served.
        await rec.wait_for(lambda: rec.transport is not None)
        client.setblocking(True)
        client.sendall(b"made it")
        await rec.wait_for(lambda: bytes(rec.data) == b"made it")
        client.close()
        await rec.wait_for(lambda: rec.count("lost") == 1)
    assert "Too many open files" in watch.records[0].getMessage()


async def test_a_burst_of_connections_is_held_to_the_limit(anyio_backend: str) -> None:
    """Connections accepted in one batch count at once: the backend calls connection_made
    later, and the limit must hold for the rest of the batch already."""
    io = Server(limits=Limits(max_connections=2))
    async with anyio.create_task_group() as tg:
        bound = await tg.start(io.serve, "127.0.0.1", 0)
        socks = []
        try:
            for _ in range(10):  # all in the kernel's queue before the server looks
                sock = socket.socket()
                sock.setblocking(False)
                with contextlib.suppress(BlockingIOError):
                    sock.connect(("127.0.0.1", bound.port))
                socks.append(sock)
            answered = 0
            for sock in socks:
                with anyio.fail_after(5):
                    await anyio.wait_writable(sock)
                    with contextlib.suppress(OSError):
                        sock.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    await anyio.wait_readable(sock)
                with contextlib.suppress(ConnectionResetError):  # refused, request unread
                    answered += sock.recv(100).startswith(b"HTTP/1.1 404")
            assert answered == 2
            assert io.http.open == 2
        finally:
            for sock in socks:
                sock.close()
            with anyio.fail_after(10):
                await io.shutdown(timeout=2)
    assert io.http.open == 0


async def test_a_port_in_use_is_a_clear_error(anyio_backend: str) -> None:
    socks, bound = listen("127.0.0.1", 0)
    try:
        with pytest.raises(PortInUse, match=str(bound.port)):
            listen("127.0.0.1", bound.port)
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    "generic", [False, "epoll", "tasks"], ids=["own-transport", "epoll", "tasks"]
)
async def test_an_accepted_connection_sends_without_delay(
    anyio_backend: str, generic: Literal[False, "epoll", "tasks"]
) -> None:
    """TCP_NODELAY is on for every accepted connection, whichever backend serves it (each
    write is a whole message: a reply must not wait for the peer's delayed ACK)."""
    made: list[Recorder] = []
    accepted = anyio.Event()

    def factory() -> Recorder:
        made.append(Recorder())
        accepted.set()
        return made[-1]

    async with serving(factory, generic=generic) as port:
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            with anyio.fail_after(5):
                await accepted.wait()
            await made[0].wait_for(lambda: made[0].transport is not None)
            sock = made[0].transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
