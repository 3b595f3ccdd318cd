"""``websocket["type"] = "sockjs"``: the guide's controllers over SockJS, with the real npm
``sockjs-client`` (in Node, its node transports) over WebSocket, XHR streaming and XHR
polling, forced with its ``transports`` option; on asyncio and trio."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import Process

from thinkio import App
from thinkio.plain import SockJSEndpoint

from . import test_ws_type
from .test_ws_type import TIMEOUT, WebsocketController

pytestmark = [pytest.mark.anyio, pytest.mark.interop]

NODE_DIR = Path(__file__).resolve().parent / "node"
TRANSPORTS = ["websocket", "xhr-streaming", "xhr-polling"]

if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "sockjs-client").is_dir():
    pytest.skip(
        "needs node and tests/plain/node's npm packages (make node-deps)", allow_module_level=True
    )


class SockJSClient:
    """``node/sockjs_client.js``: one sockjs-client, its events as dicts."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self._buffer = b""

    async def next(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with anyio.fail_after(TIMEOUT * 2):
            while b"\n" not in self._buffer:
                chunk = await self.process.stdout.receive()
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        result: dict[str, Any] = json.loads(line)
        return result

    async def message(self) -> dict[str, Any]:
        item = await self.next()
        assert "message" in item, item
        envelope: dict[str, Any] = json.loads(item["message"])
        return envelope

    async def send_raw(self, text: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send((json.dumps({"send": text}) + "\n").encode())

    async def send(self, event: str, data: Any) -> None:
        await self.send_raw(json.dumps({"event": event, "data": data}))

    async def close(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        await self.process.stdin.send(b'{"close": true}\n')
        return await self.next()


@asynccontextmanager
async def sockjs_client(url: str, transport: str) -> AsyncIterator[SockJSClient]:
    process = await anyio.open_process(
        ["node", str(NODE_DIR / "sockjs_client.js"), url, transport], cwd=NODE_DIR
    )
    try:
        client = SockJSClient(process)
        opened = await client.next()
        assert opened == {"open": transport}, opened
        yield client
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.move_on_after(TIMEOUT):
            await process.wait()
        await process.aclose()


def make_app(**section: Any) -> App:
    messages = {
        "open": "/websocket/open",
        "close": "/websocket/close",
        "addUser": "/websocket/addUser",
        "say": "/websocket/say",
    }
    return App(
        {"port": 0, "websocket": {"type": "sockjs", "sockjs": {"messages": messages, **section}}},
        controllers={"websocket": WebsocketController},
    )


@asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    test_ws_type.JOURNAL = test_ws_type.Journal()
    async with anyio.create_task_group() as tg:
        bound = await tg.start(app.serve, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{bound.port}/sockjs"
        finally:
            with anyio.fail_after(10):
                await app.shutdown(timeout=2)


OPENED = {"event": "opend", "data": "This client opened successfully!"}
JOINED = {"event": "joined", "data": "There is a new client joined successfully!"}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_guide_over_sockjs(transport: str) -> None:
    async with serving(make_app()) as url, sockjs_client(url, transport) as alice:
        assert [await alice.message(), await alice.message()] == [OPENED, JOINED]
        async with sockjs_client(url, transport) as bob:
            assert [await bob.message(), await bob.message()] == [OPENED, JOINED]
            assert await alice.message() == JOINED  # bob's
            await alice.send("addUser", "alice")
            await alice.send("say", "héllo\u2028")  # escaped in frames as sockjs-node does
            said = {"event": "said", "data": {"from": "alice", "text": "héllo\u2028"}}
            assert await alice.message() == said
            assert await bob.message() == said
            closed = await bob.close()
            assert closed["close"][0] == 1000
        journal = test_ws_type.JOURNAL
        assert await journal.wait_for("addUser") == [("alice", True, None)]
        assert await journal.wait_for("close") == [(None, "transport close")]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_bad_envelope_closes_the_session_with_a_reason(transport: str) -> None:
    async with serving(make_app(disconnect_delay=1000)) as url:
        async with sockjs_client(url, transport) as bad, sockjs_client(url, transport) as good:
            await bad.message(), await bad.message(), await bad.message()
            await good.message(), await good.message()
            await bad.send_raw("{not json")
            item = await bad.next()
            assert item["close"][0] == 1007
            assert item["close"][1].startswith("invalid JSON")
            await good.send("addUser", "good")
            await good.send("say", "still here")
            assert (await good.message())["data"] == {"from": "good", "text": "still here"}
        closes = await test_ws_type.JOURNAL.wait_for("close", 2)
        assert any(reason.startswith("invalid JSON") for _, reason in closes)


async def test_the_protocol_routes() -> None:
    app = make_app(allowOrigin="http://good.example")
    async with serving(app) as url, httpx.AsyncClient() as http:
        welcome = await http.get(url)
        assert (welcome.status_code, welcome.text) == (200, "Welcome to SockJS!\n")
        info = await http.get(f"{url}/info", headers={"origin": "http://good.example"})
        assert info.status_code == 200
        assert info.json()["websocket"] is True and info.json()["cookie_needed"] is False
        assert info.headers["access-control-allow-origin"] == "http://good.example"
        assert "no-store" in info.headers["cache-control"]
        refused = await http.get(f"{url}/info", headers={"origin": "http://evil.example"})
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        poll = await http.post(f"{url}/000/abc/xhr", headers={"origin": "http://evil.example"})
        assert poll.status_code == 403
        # A session over XHR polling by hand: open, a message, then errors.
        assert (await http.post(f"{url}/000/s1/xhr")).text == "o\n"
        first = await http.post(f"{url}/000/s1/xhr")
        assert first.text.startswith("a[") and "opend" in first.text
        assert (await http.post(f"{url}/000/s1/xhr_send", content=b"")).status_code == 500
        broken = await http.post(f"{url}/000/s1/xhr_send", content=b"[")
        assert (broken.status_code, broken.text) == (500, "Broken JSON encoding.")
        not_strings = await http.post(f"{url}/000/s1/xhr_send", content=b"[1]")
        assert (not_strings.status_code, not_strings.text) == (500, "Payload expected.")
        unknown = await http.post(f"{url}/000/nosuch/xhr_send", content=b'["x"]')
        assert unknown.status_code == 404
        preflight = await http.options(
            f"{url}/000/s1/xhr_send", headers={"origin": "http://good.example"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-methods"] == "OPTIONS, POST"
        assert (await http.get(f"{url}/000/s1/eventsource")).status_code == 404
        assert (await http.get(f"{url}/000/s1/xhr")).status_code == 405
        too_big = await http.post(
            f"{url}/000/s1/xhr_send", content=b'["' + b"x" * 1_000_100 + b'"]'
        )
        assert too_big.status_code == 413


async def test_one_receiver_at_a_time_and_a_closed_session_says_so() -> None:
    async with serving(make_app()) as url, httpx.AsyncClient(timeout=TIMEOUT) as http:
        async with http.stream("POST", f"{url}/000/s2/xhr_streaming") as stream:
            lines = stream.aiter_lines()
            assert await anext(lines) == "h" * 2048  # the prelude
            assert await anext(lines) == "o"
            frames = [await anext(lines)]
            while "joined" not in frames[-1]:  # the open action's two emits: one frame or two
                frames.append(await anext(lines))
            assert "opend" in frames[0]
            second = await http.post(f"{url}/000/s2/xhr")
            assert second.text == 'c[2010,"Another connection still open"]\n'
            sent = await http.post(f"{url}/000/s2/xhr_send", content=b'["\\"oops\\""]')
            assert sent.status_code == 204
            closing = await anext(lines)
            assert closing.startswith("c[1003,"), closing
        # The session is closed: the next request hears why, until it is forgotten.
        again = await http.post(f"{url}/000/s2/xhr")
        assert again.text == closing + "\n"
        assert await test_ws_type.JOURNAL.wait_for("close") == [(None, json.loads(closing[1:])[1])]


async def test_heartbeats_and_the_session_timeout() -> None:
    app = make_app(heartbeat_delay=200, disconnect_delay=200)
    async with serving(app) as url, httpx.AsyncClient(timeout=TIMEOUT) as http:
        async with http.stream("POST", f"{url}/000/s3/xhr_streaming") as stream:
            lines = stream.aiter_lines()
            assert await anext(lines) == "h" * 2048
            assert await anext(lines) == "o"
            with anyio.fail_after(TIMEOUT):
                while await anext(lines) != "h":  # the open action's frames, then a heartbeat
                    pass
        # The stream is gone: the session ended at once, and its close action ran.
        assert await test_ws_type.JOURNAL.wait_for("close") == [(None, "transport close")]
        # Polling: a poll answered, then no request for disconnect_delay: the session ends.
        assert (await http.post(f"{url}/000/s4/xhr")).text == "o\n"
        assert await test_ws_type.JOURNAL.wait_for("close", 2)
        # A request after that opens a new session under the same id.
        assert (await http.post(f"{url}/000/s4/xhr")).text == "o\n"


async def test_the_websocket_transport_refuses_bad_frames_and_origins() -> None:
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    app = make_app(allowOrigin="http://good.example")
    async with serving(app) as url:
        ws_url = url.replace("http://", "ws://") + "/000/s5/websocket"

        def run() -> tuple[int, list[str], tuple[int, str]]:
            with pytest.raises(InvalidStatus) as refused:
                connect(ws_url, origin="http://evil.example")  # type: ignore[arg-type]
            with connect(ws_url, origin="http://good.example") as ws:  # type: ignore[arg-type]
                frames = [str(ws.recv(timeout=TIMEOUT))]  # "o"
                ws.send('["{\\"event\\":\\"say\\",\\"data\\":1}"]')  # one envelope in a frame
                while "said" not in frames[-1]:
                    frames.append(str(ws.recv(timeout=TIMEOUT)))
                ws.send("{broken")
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        ws.recv(timeout=TIMEOUT)
                assert closed.value.rcvd is not None
                code = (closed.value.rcvd.code, closed.value.rcvd.reason)
            return refused.value.response.status_code, frames, code

        status, frames, code = await anyio.to_thread.run_sync(run)
        assert status == 403
        assert frames[0] == "o"
        assert (
            frames[-1] == 'a["{\\"event\\":\\"said\\",\\"data\\":{\\"from\\":null,\\"text\\":1}}"]'
        )
        assert code == (3000, "Broken framing.")


async def test_a_session_nobody_reads_is_closed_as_a_slow_consumer() -> None:
    from dataclasses import replace

    app = make_app()
    assert isinstance(app.endpoint, SockJSEndpoint)
    app.endpoint.limits = replace(app.endpoint.limits, max_outbox_bytes=10_000)
    async with serving(app) as url, httpx.AsyncClient(timeout=TIMEOUT) as http:
        assert (await http.post(f"{url}/000/s6/xhr")).text == "o\n"
        assert app.hub is not None
        for _ in range(20):  # 20 x 1 KB for a client that does not poll
            await app.hub.emit("news", "x" * 1000)
        assert await test_ws_type.JOURNAL.wait_for("close") == [(None, "slow consumer")]
        after = await http.post(f"{url}/000/s6/xhr")
        assert after.text == 'c[1008,"slow consumer"]\n'


async def test_a_session_closed_between_polls_is_forgotten_after_disconnect_delay() -> None:
    app = make_app(disconnect_delay=300)
    assert isinstance(app.endpoint, SockJSEndpoint)
    async with serving(app) as url, httpx.AsyncClient(timeout=TIMEOUT) as http:
        assert (await http.post(f"{url}/000/s7/xhr")).text == "o\n"
        assert "opend" in (await http.post(f"{url}/000/s7/xhr")).text
        assert app.hub is not None
        app.hub.close_all("bye")  # no poll is waiting
        closed = await http.post(f"{url}/000/s7/xhr")
        assert closed.text == 'c[1001,"bye"]\n'
        with anyio.fail_after(TIMEOUT):
            while app.endpoint.sessions:  # forgotten disconnect_delay after that request
                await anyio.sleep(0.05)
