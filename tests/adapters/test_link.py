"""The subscriber link against a scripted fake Redis: dispatch, health checks, reconnection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
import pytest

from thinkio.adapters import LinkOptions
from thinkio.adapters.link import RedisLink
from thinkio.adapters.resp import NEED_DATA, RedisAddress, RespParser

from .conftest import eventually

pytestmark = pytest.mark.anyio


def push(*items: bytes | int) -> bytes:
    out = b"*%d\r\n" % len(items)
    for item in items:
        out += b":%d\r\n" % item if isinstance(item, int) else b"$%d\r\n%s\r\n" % (len(item), item)
    return out


class FakeRedis:
    """Confirms (P)SUBSCRIBE, then does what the test says; never answers PING if ``silent``."""

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self.connections: list[anyio.abc.SocketStream] = []
        self.commands: list[list[bytes]] = []
        self._lock = anyio.Lock()

    async def send(self, data: bytes, stream: anyio.abc.SocketStream | None = None) -> None:
        """Write to a connection, the newest by default (one writer at a time, as trio
        insists)."""
        async with self._lock:
            await (stream or self.connections[-1]).send(data)

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        self.connections.append(stream)
        parser = RespParser()
        async with stream:
            while True:
                try:
                    parser.feed(await stream.receive())
                except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return
                while (command := parser.next_reply()) is not NEED_DATA:
                    assert isinstance(command, list)
                    words = [w for w in command if isinstance(w, bytes)]
                    self.commands.append(words)
                    kind = words[0].lower()
                    if kind in (b"subscribe", b"psubscribe"):
                        for n, name in enumerate(words[1:], 1):
                            await self.send(push(kind, name, n), stream)
                    elif kind == b"ping" and not self.silent:
                        await self.send(push(b"pong", b""), stream)


async def with_fake(
    fake: FakeRedis, options: LinkOptions, body: Callable[[RedisLink], Awaitable[None]]
) -> None:
    async with anyio.create_task_group() as tg:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        tg.start_soon(listener.serve, fake.handle)
        link = RedisLink(RedisAddress("127.0.0.1", port), options)
        tg.start_soon(link.run)
        try:
            await body(link)
        finally:
            await link.aclose()
            tg.cancel_scope.cancel()


async def test_messages_go_to_the_handler_of_their_channel_or_pattern() -> None:
    fake = FakeRedis()
    got: list[tuple[str, bytes, bytes]] = []

    async def body(link: RedisLink) -> None:
        await link.subscribe(
            {"req": lambda ch, data: got.append(("req", ch, data))},
            {"bc#*": lambda ch, data: got.append(("bc", ch, data))},
            timeout=2,
        )
        assert link.subscribed
        await fake.send(push(b"message", b"req", b"\x00one"))
        await fake.send(push(b"pmessage", b"bc#*", b"bc#room#", b"two"))
        await fake.send(push(b"message", b"unknown", b"ignored"))
        await fake.send(push(b"weird"))
        await eventually(lambda: len(got) == 2)
        assert got == [("req", b"req", b"\x00one"), ("bc", b"bc#room#", b"two")]

    await with_fake(fake, LinkOptions(), body)


async def test_a_failing_handler_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeRedis()
    got: list[bytes] = []

    def broken(channel: bytes, data: bytes) -> None:
        raise ValueError("bug")

    async def body(link: RedisLink) -> None:
        await link.subscribe({"a": broken, "b": lambda ch, data: got.append(data)}, {}, timeout=2)
        await fake.send(push(b"message", b"a", b"x") + push(b"message", b"b", b"y"))
        await eventually(lambda: got == [b"y"])

    await with_fake(fake, LinkOptions(), body)
    assert any("handler for b'a' failed" in r.getMessage() for r in caplog.records)


async def test_a_silent_redis_is_noticed_by_ping_and_reconnected() -> None:
    fake = FakeRedis(silent=True)
    options = LinkOptions(health_check_interval=0.1, reconnect_delay=0.01)

    async def body(link: RedisLink) -> None:
        await link.subscribe({"c": lambda ch, data: None}, {}, timeout=2)
        await eventually(lambda: len(fake.connections) >= 2, timeout=3)
        assert [b"PING"] in fake.commands
        await eventually(lambda: link.subscribed)  # subscribed again on the new connection
        assert fake.commands.count([b"SUBSCRIBE", b"c"]) >= 2

    await with_fake(fake, options, body)


async def test_a_busy_connection_is_not_pinged() -> None:
    fake = FakeRedis(silent=True)
    options = LinkOptions(health_check_interval=0.2)

    async def body(link: RedisLink) -> None:
        await link.subscribe({"c": lambda ch, data: None}, {}, timeout=2)
        for _ in range(10):
            await fake.send(push(b"message", b"c", b"tick"))
            await anyio.sleep(0.05)
        assert [b"PING"] not in fake.commands
        assert len(fake.connections) == 1

    await with_fake(fake, options, body)


async def test_unsubscribe_stops_the_routing() -> None:
    fake = FakeRedis()
    got: list[bytes] = []

    async def body(link: RedisLink) -> None:
        await link.subscribe({"c": lambda ch, data: got.append(data)}, {"p*": print}, timeout=2)
        await link.unsubscribe(["c"], ["p*"])
        await eventually(lambda: [b"PUNSUBSCRIBE", b"p*"] in fake.commands)
        assert [b"UNSUBSCRIBE", b"c"] in fake.commands
        await fake.send(push(b"message", b"c", b"late"))
        await anyio.sleep(0.05)
        assert got == []

    await with_fake(fake, LinkOptions(), body)
