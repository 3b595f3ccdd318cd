"""The transport contract (thinkio/net/transport.py), run against every backend over real
loopback sockets: asyncio's own transports (``_asyncio``) and the two written against anyio,
each on asyncio and on trio: one epoll and one task for every connection (``_epoll``, Linux,
what trio gets there) and one task per connection (``_sockets``, where there is no epoll).

A client (an anyio socket stream) talks to a :class:`Recorder` protocol; each test checks one
promise of the contract: bytes both ways in order, back-pressure callbacks, ``close`` flushes,
``abort`` does not, ``write_eof`` half-closes, ``pause_reading`` holds data back, and
``connection_lost`` comes exactly once, last.
"""

from __future__ import annotations

import socket
from typing import cast

import anyio
import pytest

from thinkio.net import TaskSpawner, _epoll, serve_socket
from thinkio.net.backend import Generic, current_backend

from .support import Recorder, read_exactly, read_to_eof, reset, serving

pytestmark = pytest.mark.anyio

BIG = 8 * 1024 * 1024  # far more than a loopback socket buffers


@pytest.fixture(params=["native", "epoll", "tasks"])
def generic(request: pytest.FixtureRequest, anyio_backend: str) -> bool | Generic:
    if request.param == "native":
        if anyio_backend == "trio":
            pytest.skip("trio has no transport of its own: trio-epoll and trio-tasks serve it")
        return False
    if request.param == "epoll" and not _epoll.AVAILABLE:
        pytest.skip("select.epoll is Linux-only; the tasks transport serves elsewhere")
    return cast(Generic, request.param)


@pytest.fixture(params=["epoll", "tasks"])
def anyio_written(request: pytest.FixtureRequest) -> Generic:
    """The transports thinkio writes against anyio (their failure and shutdown rules are
    thinkio's; asyncio's own transports have the loop's)."""
    if request.param == "epoll" and not _epoll.AVAILABLE:
        pytest.skip("select.epoll is Linux-only; the tasks transport serves elsewhere")
    return cast(Generic, request.param)


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


async def test_bytes_flow_both_ways_in_order(generic: bool | Generic) -> None:
    rec = Recorder()
    async with serving(lambda: rec, generic=generic) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await rec.wait_for(lambda: rec.transport is not None)
            assert rec.events[0] == "made"
            peer = rec.transport.get_extra_info("peername")
            assert tuple(peer[:2]) == client.extra(anyio.abc.SocketAttribute.local_address)
            for i in range(50):
                await client.send(b"%d," % i)
            expected = b"".join(b"%d," % i for i in range(50))
            await rec.wait_for(lambda: len(rec.data) >= len(expected))
            assert bytes(rec.data) == expected
            rec.transport.write(b"hello ")
            rec.transport.writelines([b"wor", b"ld"])
            assert await read_exactly(client, 11) == b"hello world"
        await rec.wait_for(lambda: rec.count("lost") == 1)
    assert rec.events[-2:] == ["eof", "lost"]


async def test_a_full_kernel_buffer_pauses_writing_and_draining_resumes_it(
    generic: bool | Generic,
) -> None:
    rec = Recorder()
    payload = pattern(BIG)
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await rec.wait_for(lambda: rec.transport is not None)
        transport = rec.transport
        transport.set_write_buffer_limits(high=256 * 1024, low=64 * 1024)
        transport.write(payload)  # never blocks: what the kernel refuses is buffered
        assert rec.count("pause_writing") == 1
        assert transport.get_write_buffer_size() > 256 * 1024
        assert await read_exactly(client, BIG) == payload
        await rec.wait_for(lambda: rec.count("resume_writing") == 1)
        await rec.wait_for(lambda: transport.get_write_buffer_size() == 0)
        assert rec.events.index("pause_writing") < rec.events.index("resume_writing")


async def test_close_writes_what_is_buffered_then_loses_the_connection_once(
    generic: bool | Generic,
) -> None:
    rec = Recorder()
    payload = pattern(BIG)
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await rec.wait_for(lambda: rec.transport is not None)
        rec.transport.write(payload)
        rec.transport.close()
        assert rec.transport.is_closing()
        rec.transport.close()  # twice is harmless
        assert await read_to_eof(client) == payload
        await rec.wait_for(lambda: rec.count("lost") == 1)
    assert rec.count("lost") == 1
    assert rec.events[-1] == "lost"
    assert rec.lost_exc is None


async def test_abort_drops_what_is_buffered(generic: bool | Generic) -> None:
    rec = Recorder()
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await rec.wait_for(lambda: rec.transport is not None)
        rec.transport.write(pattern(BIG))
        assert rec.transport.get_write_buffer_size() > 0
        rec.transport.abort()
        rec.transport.abort()
        rec.transport.close()
        await rec.wait_for(lambda: rec.count("lost") == 1)
        received = await read_to_eof(client)
        assert len(received) < BIG
    assert rec.count("lost") == 1
    assert rec.events[-1] == "lost"


async def test_the_peer_closing_is_eof_then_lost(generic: bool | Generic) -> None:
    rec = Recorder()
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await client.send(b"last words")
        await client.send_eof()
        await rec.wait_for(lambda: rec.count("lost") == 1)
    assert bytes(rec.data) == b"last words"
    assert rec.events[-2:] == ["eof", "lost"]
    assert rec.count("lost") == 1


async def test_a_protocol_that_keeps_the_connection_after_eof_can_still_answer(
    generic: bool | Generic,
) -> None:
    rec = Recorder(keep_open_on_eof=True)
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await client.send(b"question")
        await client.send_eof()
        await rec.wait_for(lambda: rec.count("eof") == 1)
        assert rec.count("lost") == 0
        rec.transport.write(b"answer")
        rec.transport.close()
        assert await read_to_eof(client) == b"answer"
        await rec.wait_for(lambda: rec.count("lost") == 1)


async def test_write_eof_half_closes(generic: bool | Generic) -> None:
    rec = Recorder()
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await rec.wait_for(lambda: rec.transport is not None)
        assert rec.transport.can_write_eof()
        rec.transport.write(b"bye")
        rec.transport.write_eof()
        assert await read_to_eof(client) == b"bye"
        await client.send(b"still heard")  # our sending side is open
        await rec.wait_for(lambda: bytes(rec.data) == b"still heard")
        assert rec.count("lost") == 0


async def test_pause_reading_holds_data_back_until_resumed(generic: bool | Generic) -> None:
    rec, witness = Recorder(), Recorder()
    recorders = iter([rec, witness])
    async with (
        serving(lambda: next(recorders), generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await rec.wait_for(lambda: rec.transport is not None)
        rec.transport.pause_reading()
        await client.send(b"held")
        # Another connection of the same server, written after, is read: the server
        # has looked at its sockets since "held" arrived, and held it back.
        async with await anyio.connect_tcp("127.0.0.1", port) as other:
            for i in range(3):
                await other.send(b"w")
                await witness.wait_for(lambda i=i: len(witness.data) == i + 1)
        assert rec.count("data") == 0
        rec.transport.resume_reading()
        await rec.wait_for(lambda: bytes(rec.data) == b"held")


async def test_a_reset_loses_the_connection_once(generic: bool | Generic) -> None:
    rec = Recorder()
    async with serving(lambda: rec, generic=generic) as port:
        client = await anyio.connect_tcp("127.0.0.1", port)
        await rec.wait_for(lambda: rec.transport is not None)
        reset(client)
        await client.aclose()
        await rec.wait_for(lambda: rec.count("lost") == 1)
        rec.transport.write(b"into the void")  # no error once lost
        rec.transport.close()
    assert rec.count("lost") == 1
    assert rec.events[-1] == "lost"


async def test_set_protocol_sends_the_next_callbacks_elsewhere(generic: bool | Generic) -> None:
    first, second = Recorder(), Recorder()
    async with serving(lambda: first, generic=generic) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await first.wait_for(lambda: first.transport is not None)
            first.transport.set_protocol(second)
            assert first.transport.get_protocol() is second
            await client.send(b"for the second")
            await second.wait_for(lambda: bytes(second.data) == b"for the second")
        await second.wait_for(lambda: second.count("lost") == 1)
    assert first.data == b""
    assert first.count("lost") == 0


async def test_many_connections_each_keep_their_bytes_in_order(generic: bool | Generic) -> None:
    recorders = [Recorder() for _ in range(20)]
    made = iter(recorders)
    async with serving(lambda: next(made), generic=generic) as port:
        clients = [await anyio.connect_tcp("127.0.0.1", port) for _ in recorders]
        try:
            for i in range(30):  # interleaved: every client's chunk i, then i + 1
                for n, client in enumerate(clients):
                    await client.send(b"%d:%d," % (n, i))
            for n, rec in enumerate(recorders):
                expected = b"".join(b"%d:%d," % (n, i) for i in range(30))
                await rec.wait_for(lambda rec=rec, e=expected: len(rec.data) >= len(e))
                assert bytes(rec.data) == expected
                rec.transport.write(b"to %d" % n)
            for n, client in enumerate(clients):
                assert await read_exactly(client, len(b"to %d" % n)) == b"to %d" % n
        finally:
            for client in clients:
                await client.aclose()


class Closer(Recorder):
    """Closes its connection on the first data, and notes whether ``connection_lost`` came
    while ``close`` was still running (it must not: asyncio calls it later too)."""

    lost_inside_close: bool | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.lost_inside_close is None:
            self.transport.write(b"closing")
            self.transport.close()
            self.lost_inside_close = self.count("lost") > 0


async def test_connection_lost_comes_after_close_returns_not_inside_it(
    generic: bool | Generic,
) -> None:
    rec = Closer()
    async with (
        serving(lambda: rec, generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as client,
    ):
        await client.send(b"hi")
        assert await read_to_eof(client) == b"closing"
        await rec.wait_for(lambda: rec.count("lost") == 1)
    assert rec.lost_inside_close is False
    assert rec.events == ["made", "data", "lost"]


class Failing(Recorder):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if b"boom" in data:
            raise RuntimeError("a protocol bug")


async def test_a_failing_protocol_ends_its_connection_only(
    anyio_written: Generic, caplog: pytest.LogCaptureFixture
) -> None:
    generic = anyio_written
    bad, good = Failing(), Recorder()
    made = iter([bad, good])
    async with (
        serving(lambda: next(made), generic=generic) as port,
        await anyio.connect_tcp("127.0.0.1", port) as first,
        await anyio.connect_tcp("127.0.0.1", port) as second,
    ):
        await bad.wait_for(lambda: bad.transport is not None)
        await good.wait_for(lambda: good.transport is not None)
        await first.send(b"boom")
        assert await read_to_eof(first) == b""
        await bad.wait_for(lambda: bad.count("lost") == 1)
        await second.send(b"still here")
        await good.wait_for(lambda: bytes(good.data) == b"still here")
        good.transport.write(b"and answered")
        assert await read_exactly(second, 12) == b"and answered"
    assert "protocol callback failed" in caplog.text


async def test_stopping_the_server_loses_every_connection_once(anyio_written: Generic) -> None:
    generic = anyio_written
    recorders = [Recorder() for _ in range(3)]
    made = iter(recorders)
    clients = []
    async with serving(lambda: next(made), generic=generic) as port:
        for rec in recorders:
            clients.append(await anyio.connect_tcp("127.0.0.1", port))
            await rec.wait_for(lambda rec=rec: rec.transport is not None)
        recorders[0].transport.pause_reading()  # paused ones too
    try:
        for rec in recorders:
            await rec.wait_for(lambda rec=rec: rec.count("lost") == 1)
            assert rec.events[-1] == "lost"
        for client in clients:
            assert await read_to_eof(client) == b""
    finally:
        for client in clients:
            await client.aclose()


async def test_the_transports_let_the_server_go_idle_once_their_connections_end(
    generic: bool | Generic,
) -> None:
    """A graceful shutdown waits for the server's tasks: a transport's own task must end with
    the last connection, and the next connection must be served again."""
    spawner = TaskSpawner()
    first, second = Recorder(), Recorder()
    made = iter([first, second])
    async with serving(lambda: next(made), generic=generic, spawner=spawner) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await client.send(b"one")
            await first.wait_for(lambda: bytes(first.data) == b"one")
        await first.wait_for(lambda: first.count("lost") == 1)
        with anyio.fail_after(5):
            await spawner.wait_idle()
        async with await anyio.connect_tcp("127.0.0.1", port) as client:
            await client.send(b"two")
            await second.wait_for(lambda: bytes(second.data) == b"two")
            second.transport.write(b"back")
            assert await read_exactly(client, 4) == b"back"


async def test_each_loop_gets_its_fastest_transport(anyio_backend: str) -> None:
    backend = current_backend(lambda fn: None)
    if anyio_backend == "asyncio":
        assert backend.name == "asyncio"
    else:
        assert backend.name == ("epoll" if _epoll.AVAILABLE else "tasks")


async def test_sockets_handed_to_one_server_share_its_transport_task(anyio_backend: str) -> None:
    """``serve_socket`` (a connection handed over by another process): every socket handed
    to the same server is served, and on trio by one task, not one each."""
    spawner = TaskSpawner()
    recorders = [Recorder(), Recorder()]
    pairs = [socket.socketpair() for _ in recorders]
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(spawner.run)
            for (ours, _), rec in zip(pairs, recorders, strict=True):
                serve_socket(ours, rec, spawn=spawner.spawn)
            for n, ((_, theirs), rec) in enumerate(zip(pairs, recorders, strict=True)):
                theirs.send(b"handed %d" % n)
                await rec.wait_for(lambda rec=rec, n=n: bytes(rec.data) == b"handed %d" % n)
            if anyio_backend == "trio":
                assert spawner.busy == (1 if _epoll.AVAILABLE else 2)
            for rec in recorders:
                rec.transport.close()
            for rec in recorders:
                await rec.wait_for(lambda rec=rec: rec.count("lost") == 1)
            with anyio.fail_after(5):
                await spawner.wait_idle()
            tg.cancel_scope.cancel()
    finally:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()
