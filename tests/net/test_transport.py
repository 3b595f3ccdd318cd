"""The transport contract (thinkio/net/transport.py), run against every backend over real
loopback sockets: asyncio's own transports (``_asyncio``) and the anyio one (``_sockets``,
on asyncio and on trio).

A client (an anyio socket stream) talks to a :class:`Recorder` protocol; each test checks one
promise of the contract: bytes both ways in order, back-pressure callbacks, ``close`` flushes,
``abort`` does not, ``write_eof`` half-closes, ``pause_reading`` holds data back, and
``connection_lost`` comes exactly once, last.
"""

from __future__ import annotations

import anyio
import pytest

from .support import Recorder, read_exactly, read_to_eof, reset, serving

pytestmark = pytest.mark.anyio

BIG = 8 * 1024 * 1024  # far more than a loopback socket buffers


@pytest.fixture(params=["native", "anyio"])
def generic(request: pytest.FixtureRequest, anyio_backend: str) -> bool:
    if request.param == "native" and anyio_backend == "trio":
        pytest.skip("trio has no transport of its own: the anyio one serves it (trio-anyio)")
    return request.param == "anyio"


def pattern(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


async def test_bytes_flow_both_ways_in_order(generic: bool) -> None:
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


async def test_a_full_kernel_buffer_pauses_writing_and_draining_resumes_it(generic: bool) -> None:
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
    generic: bool,
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


async def test_abort_drops_what_is_buffered(generic: bool) -> None:
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


async def test_the_peer_closing_is_eof_then_lost(generic: bool) -> None:
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
    generic: bool,
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


async def test_write_eof_half_closes(generic: bool) -> None:
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


async def test_pause_reading_holds_data_back_until_resumed(generic: bool) -> None:
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


async def test_a_reset_loses_the_connection_once(generic: bool) -> None:
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


async def test_set_protocol_sends_the_next_callbacks_elsewhere(generic: bool) -> None:
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
