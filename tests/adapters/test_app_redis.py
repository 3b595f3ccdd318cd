"""The ThinkJS ``adapter`` setting: ``{"type": "redis", ...}`` makes controllers' broadcasts
reach the clients of every app sharing the Redis (the guide's "设置 adapter" section)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from thinkio import App, ConfigError, Controller

from .conftest import Inbox, RedisProcess, client

pytestmark = pytest.mark.anyio


class Chat(Controller):
    async def say_action(self) -> None:
        await self.broadcast("said", self.ws_data)


def chat_app(redis_url: str, key: str) -> App:
    return App(
        messages={"say": "/chat/say"},
        controllers={"chat": Chat},
        adapter={"type": "redis", "url": redis_url, "key": key},
        ping_interval=500,
        ping_timeout=500,
    )


async def test_controller_broadcast_reaches_clients_of_every_app(
    redis: RedisProcess, key: str
) -> None:
    apps = [chat_app(redis.url, key), chat_app(redis.url, key)]
    async with anyio.create_task_group() as tg:
        urls = [(await tg.start(app.serve, "127.0.0.1", 0)).url for app in apps]
        inboxes = [Inbox(), Inbox()]
        async with client(urls[0], inboxes[0], "said") as a, client(urls[1], inboxes[1], "said"):
            await a.emit("say", "hello from app 1")
            for inbox in inboxes:  # the sender's app and the other app
                assert await inbox.wait_for(1) == [("said", ("hello from app 1",))]
        for app in apps:
            await app.shutdown(timeout=2)


def test_a_wrong_redis_option_stops_the_start(redis: RedisProcess) -> None:
    options: dict[str, Any] = {"type": "redis", "url": redis.url, "requestTimeout": 5}
    with pytest.raises(ConfigError, match="requestTimeout"):
        App(messages={}, controllers={}, adapter=options)


def test_an_unknown_adapter_type_stops_the_start() -> None:
    with pytest.raises(
        ConfigError, match=r"adapter\.type: expected one of 'memory', 'redis', got 'mongo'"
    ):
        App(messages={}, controllers={}, adapter={"type": "mongo"})
