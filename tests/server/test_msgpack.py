"""``parser="msgpack"`` end to end with thinkio's own client, and bad input to a msgpack server.

The Node client with the real socket.io-msgpack-parser is in tests/interop/test_msgpack_node.py.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import anyio
import httpx
import pytest

from thinkio.client import Client
from thinkio.client.websocket import connect_websocket
from thinkio.errors import ConfigError, ConnectRefused, ConnectRejected
from thinkio.server import Server, Socket

from ..support import Inbox
from .conftest import fast_server, running

pytestmark = pytest.mark.anyio

TRANSPORTS = [("polling",), ("websocket",), ("polling", "websocket")]


def msgpack_server() -> Server:
    io = fast_server(parser="msgpack")

    @io.on("echo")
    async def echo(socket: Socket, *args: Any) -> tuple[Any, ...]:
        await socket.emit("echoed", *args)
        return args

    @io.on("ask-client")
    async def ask_client(socket: Socket, question: str) -> list[Any]:
        return await socket.call("question", question, timeout=5)

    @io.on("shout")
    async def shout(socket: Socket, text: str) -> None:
        await io.emit("heard", text, b"\x07")  # a broadcast: encoded once, with msgpack

    @io.of("/chat").on("hello")
    def hello(socket: Socket, name: str) -> str:
        return f"hello {name}"

    @io.of("/private").use
    def refuse(socket: Socket) -> None:
        raise ConnectRejected("not allowed", {"code": 403})

    return io


@pytest.mark.parametrize("transports", TRANSPORTS, ids="+".join)
async def test_thinkio_client_with_msgpack(transports: tuple[str, ...]) -> None:
    io = msgpack_server()
    inbox = Inbox()
    async with running(io) as url:
        c = Client(
            url,
            parser="msgpack",
            transports=transports,
            namespaces=["/", "/chat"],
            reconnection=False,
        )
        for event in ("echoed", "heard"):
            c.on(event, inbox.handler(event))
        c.on("question", lambda q: (f"answer to {q}", b"\x00\x01"))
        async with c:
            sent = [1, "two", {"3": [True, None, 4.5], "bin": b"\xfe"}, b"\xff\x00"]
            assert await c.call("echo", *sent) == sent
            assert await c.call("ask-client", "life") == [["answer to life", b"\x00\x01"]]
            assert await c.call("hello", "you", namespace="/chat") == ["hello you"]
            await c.emit("shout", "hi all")
            items = await inbox.wait_for(2)
            assert items == [("echoed", tuple(sent)), ("heard", ("hi all", b"\x07"))]
        with pytest.raises(ConnectRefused) as info:
            async with Client(url, parser="msgpack", namespaces=["/private"], reconnection=False):
                pass
        assert (info.value.message, info.value.data) == ("not allowed", {"code": 403})


async def test_a_default_client_cannot_talk_to_a_msgpack_server() -> None:
    """As in Node: the parsers differ, so the server closes the session ("parse error")."""
    async with running(msgpack_server()) as url:
        with pytest.raises(Exception):  # noqa: B017 - whatever the client makes of the close
            with anyio.fail_after(5):
                async with Client(url, transports=("websocket",), reconnection=False):
                    pass


def test_an_unknown_parser_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="parser"):
        Server(parser="json")
    with pytest.raises(ConfigError, match="parser"):
        Client("http://127.0.0.1:1", parser="bson")


async def _raw_websocket_session(url: str, message: str | bytes) -> list[str | bytes]:
    """Open a WebSocket session by hand, send ``message``; what came back until the close."""
    port = int(url.rsplit(":", 1)[1])
    ws = await connect_websocket(
        "127.0.0.1",
        port,
        "/socket.io/?EIO=4&transport=websocket",
        host_header=f"127.0.0.1:{port}",
        max_message=1_000_000,
    )
    got: list[str | bytes] = []
    with anyio.fail_after(5):
        opened = await ws.receive()
        assert isinstance(opened, str) and opened.startswith("0{")
        await ws.send(message)
        while (reply := await ws.receive()) is not None:
            got.append(reply)
    return got


@pytest.mark.parametrize(
    "message",
    [b"\xc1not msgpack", b"\x93\x01\x02\x03", "40", '42["e"]'],
    ids=["garbage", "array", "text-connect", "text-event"],
)
async def test_bad_input_closes_that_session_only(
    message: str | bytes, caplog: pytest.LogCaptureFixture
) -> None:
    io = msgpack_server()
    async with running(io) as url:
        bystander = Client(url, parser="msgpack", transports=("websocket",), reconnection=False)
        async with bystander:
            with caplog.at_level(logging.DEBUG, logger="thinkio"):
                # A message the msgpack parser refuses: the server closes the session (the
                # WebSocket ends; nothing but the open packet came back).
                assert await _raw_websocket_session(url, message) == []
            assert await bystander.call("echo", "still here") == ["still here"]
            assert bystander.connected
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def test_bad_binary_over_polling_closes_the_session() -> None:
    async with running(msgpack_server()) as url, httpx.AsyncClient(base_url=url) as http:
        opened = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = opened.text.split('"sid":"')[1].split('"')[0]
        params = {"EIO": "4", "transport": "polling", "sid": sid}
        garbage = "b" + base64.b64encode(b"\xc1\xc1").decode()
        posted = await http.post("/socket.io/", params=params, content=garbage)
        assert posted.status_code == 200  # the payload was valid Engine.IO
        poll = await http.get("/socket.io/", params=params)
        # The session was closed ("parse error"): the next poll gets the close packet.
        assert (poll.status_code, poll.text) == (200, "1")
