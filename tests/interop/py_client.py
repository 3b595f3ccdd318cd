"""One python-socketio (PyPI) AsyncClient run of the interop matrix.

    python -m tests.interop.py_client --mode websocket|polling|upgrade --url http://127.0.0.1:PORT
                                      [--run ID] [--features text,binary,...]

The same features as ``features.js``, one JSON line per result on stdout, then
``{"done": true}``. This third-party client is aiohttp-based and runs only on asyncio; that is
fine here: it is the client under test, in a process of its own, while the thinkio server it
talks to runs on asyncio or trio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import string
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

import socketio

WAIT = 5.0
RECONNECT_WAIT = 8.0
FEATURE_LIMIT = 20.0
EXPECT = {"websocket": "websocket", "polling": "polling", "upgrade": "websocket"}
TRANSPORTS = {
    "websocket": ["websocket"],
    "polling": ["polling"],
    "upgrade": ["polling", "websocket"],
}


class Failed(Exception):
    """A check of a feature did not hold."""


def out(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def expect_same(got: Any, want: Any, what: str) -> None:
    if got != want:
        raise Failed(f"{what}: got {_show(got)}, want {_show(want)}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "…"


class Inbox:
    """Events of one name on one namespace, as they arrive."""

    def __init__(self, client: socketio.AsyncClient, event: str, namespace: str = "/") -> None:
        self.items: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()

        async def handler(*args: Any) -> None:
            self.items.put_nowait(args)

        client.on(event, handler, namespace=namespace)

    async def next(self, what: str) -> tuple[Any, ...]:
        try:
            return await asyncio.wait_for(self.items.get(), WAIT)
        except TimeoutError:
            raise Failed(f"timed out after {WAIT} s waiting for {what}") from None


class Session:
    """The clients of one feature, all closed at the end."""

    def __init__(self, url: str, mode: str, run_id: str) -> None:
        self.url = url
        self.mode = mode
        self.run_id = run_id
        self.clients: list[socketio.AsyncClient] = []

    def client(self) -> socketio.AsyncClient:
        client = socketio.AsyncClient(
            reconnection=True,
            reconnection_delay=0.1,
            reconnection_delay_max=0.3,
            randomization_factor=0,
        )
        self.clients.append(client)
        return client

    async def connect(
        self,
        client: socketio.AsyncClient,
        namespaces: list[str] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> socketio.AsyncClient:
        await client.connect(
            f"{self.url}?run={self.run_id}",
            transports=TRANSPORTS[self.mode],
            namespaces=namespaces or ["/"],
            auth=auth,
            wait_timeout=WAIT,
        )
        return client

    async def open(self) -> socketio.AsyncClient:
        return await self.connect(self.client())

    async def settled(self, client: socketio.AsyncClient) -> str:
        """Wait (bounded) until the transport is the one the mode expects."""
        want = EXPECT[self.mode]
        deadline = time.monotonic() + WAIT
        while client.transport() != want and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # python-socketio has no upgrade event to wait for
        if client.transport() != want:
            raise Failed(f"transport is {client.transport()}, expected {want}")
        return want

    async def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):  # already gone; the process ends soon anyway
                await asyncio.wait_for(client.disconnect(), WAIT)


async def emit_ack(
    client: socketio.AsyncClient, event: str, *args: Any, namespace: str = "/"
) -> tuple[Any, ...]:
    """Emit with an ack callback; the ack's arguments exactly as sent (``call`` unwraps them)."""
    done: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def callback(*ack_args: Any) -> None:
        if not done.done():
            done.set_result(ack_args)

    await client.emit(event, data=args, namespace=namespace, callback=callback)
    try:
        return await asyncio.wait_for(done, WAIT)
    except TimeoutError:
        raise Failed(f"timed out after {WAIT} s waiting for the ack of {event}") from None


async def round_trip(client: socketio.AsyncClient, inbox: Inbox, tag: str) -> None:
    await client.emit("echo", data=(tag,))
    expect_same(await inbox.next(f"echo-back {tag}"), (tag,), f"echo {tag}")


# -- the features -----------------------------------------------------------------------------


async def text(s: Session) -> str:
    client = s.client()
    echoes = Inbox(client, "echo-back")
    await s.connect(client)
    payload = (
        'héllo wörld ☃ 😀 \u2028 "quoted" \\ \n',
        42,
        -3.5,
        0,
        1e21,
        True,
        False,
        None,
        {"nested": {"list": [1, "two", {"three": 3}], "emoji": "🎉"}, "empty": {}},
        [],
        "x" * 100000 + "😀",
    )
    await client.emit("echo", data=payload)
    expect_same(await echoes.next("echo-back"), payload, "echo-back")
    transport = await s.settled(client)
    await round_trip(client, echoes, f"after settling on {transport}")
    return transport


async def binary(s: Session) -> str:
    client = s.client()
    backs = Inbox(client, "binary-back")

    def question_binary(question: str) -> tuple[Any, ...]:
        return bytes([len(question), 1, 2, 3]), "answered"

    client.on("question-binary", question_binary)
    await s.connect(client)
    payload = (
        bytes(range(256)),
        {"label": "nested", "data": b"\x01\x02\x03", "list": [b"\xff", "text", b"\x00\x00"]},
        "plain text too",
    )
    ack = await emit_ack(client, "binary-echo", *payload)
    expect_same(await backs.next("binary-back"), payload, "binary-back event")
    expect_same(ack, payload, "binary ack (server to client)")
    answer = await emit_ack(client, "ask-client-binary", "abcd")
    expect_same(answer, (b"\x04\x01\x02\x03", "answered"), "binary ack (client to server)")
    transport = await s.settled(client)
    again = await emit_ack(client, "binary-echo", b"\x09\x08\x07")
    expect_same(again, (b"\x09\x08\x07",), f"binary ack on {transport}")
    return transport


async def acks(s: Session) -> str:
    client = s.client()

    def question(q: str) -> tuple[Any, ...]:
        return f"answer to {q}", 42

    client.on("question", question)
    await s.connect(client)
    expect_same(
        await emit_ack(client, "ack-echo", 1, "two", {"three": [3]}),
        (1, "two", {"three": [3]}),
        "ack with arguments",
    )
    expect_same(await emit_ack(client, "ack-echo"), (), "ack without arguments")
    expect_same(
        await emit_ack(client, "ask-client", "what?"), ("answer to what?", 42), "server ack"
    )
    results = await asyncio.gather(*(emit_ack(client, "ack-echo", n) for n in range(20)))
    for n, result in enumerate(results):
        expect_same(result, (n,), f"concurrent ack {n}")
    transport = await s.settled(client)
    expect_same(await emit_ack(client, "ack-echo", transport), (transport,), "ack after settling")
    return transport


async def namespaces(s: Session) -> str:
    client = s.client()
    main_echoes = Inbox(client, "echo-back", "/")
    custom_echoes = Inbox(client, "echo-back", "/custom")
    await s.connect(client, ["/", "/custom"], auth={"token": "abc"})
    me = (await emit_ack(client, "whoami", namespace="/custom"))[0]
    expect_same(me["namespace"], "/custom", "custom namespace name")
    expect_same(me["auth"], {"token": "abc"}, "custom namespace auth")
    expect_same(client.get_sid("/custom"), me["id"], "socket id on /custom")
    expect_same((await emit_ack(client, "whoami"))[0]["namespace"], "/", "main namespace")
    await client.emit("echo", data=("to custom",), namespace="/custom")
    expect_same(
        await custom_echoes.next("echo-back on /custom"), ("/custom", "to custom"), "/custom echo"
    )
    await emit_ack(client, "ack-echo")  # anything sent to / before this ack has arrived now
    if not main_echoes.items.empty():
        raise Failed("/ received the echo meant for /custom")

    for namespace, auth, want in (
        ("/nope", None, {"message": "Invalid namespace"}),
        ("/private", {"token": "wrong"}, {"message": "not allowed", "data": {"hint": "token"}}),
    ):
        refused = s.client()
        errors = Inbox(refused, "connect_error", namespace)
        try:
            await s.connect(refused, [namespace], auth=auth)
        except socketio.exceptions.ConnectionError:
            pass
        else:
            raise Failed(f"{namespace} connected; it should have been refused")
        (got,) = await errors.next(f"connect_error on {namespace}")
        # python-socketio hands on the message and data of the CONNECT_ERROR packet
        got_dict = got if isinstance(got, dict) else {"message": got}
        expect_same({k: got_dict.get(k) for k in want}, want, f"refusal of {namespace}")

    private = await s.connect(s.client(), ["/private"], auth={"token": "letmein"})
    expect_same(
        (await emit_ack(private, "whoami", namespace="/private"))[0]["namespace"],
        "/private",
        "/private with the right token",
    )
    transport = await s.settled(client)
    expect_same(await emit_ack(client, "ack-echo", "still"), ("still",), "/ at the end")
    return transport


async def rooms(s: Session) -> str:
    room = f"room-{s.run_id}-{''.join(random.choices(string.ascii_lowercase, k=8))}"
    a, b, c = s.client(), s.client(), s.client()
    inbox_a, inbox_b, inbox_c = (Inbox(x, "room-msg") for x in (a, b, c))
    for x in (a, b, c):
        await s.connect(x)
    rooms_of_a = (await emit_ack(a, "join", room))[0]
    if room not in rooms_of_a:
        raise Failed(f"join: rooms of A are {rooms_of_a}")
    await emit_ack(b, "join", room)
    for x in (a, b, c):
        await s.settled(x)

    expect_same(await emit_ack(a, "room-say", room, "hi", b"\x07\x08\x09"), ("sent",), "room-say")
    expect_same(await inbox_b.next("room-msg at B"), (room, "hi", b"\x07\x08\x09"), "at B")
    await emit_ack(c, "ack-echo")  # C's copy, if any, would have come before this ack
    if not inbox_a.items.empty():
        raise Failed("the sender got its own socket.to(room) broadcast")
    if not inbox_c.items.empty():
        raise Failed("a socket outside the room got the broadcast")

    expect_same(await emit_ack(a, "room-say-all", room, "all"), ("sent",), "room-say-all")
    expect_same(await inbox_a.next("room-msg at A"), (room, "all"), "io.to(room) at A")
    expect_same(await inbox_b.next("room-msg at B"), (room, "all"), "io.to(room) at B")
    await emit_ack(c, "ack-echo")
    if not inbox_c.items.empty():
        raise Failed("a socket outside the room got the io.to(room) broadcast")
    return a.transport()


async def reconnect(s: Session) -> str:
    client = s.client()
    echoes = Inbox(client, "echo-back")
    downs = Inbox(client, "disconnect")
    ups = Inbox(client, "connect")
    await s.connect(client)
    await ups.next("connect")
    await s.settled(client)
    await round_trip(client, echoes, "before the restart")
    out({"phase": "restart-me"})
    try:
        down = await asyncio.wait_for(downs.items.get(), RECONNECT_WAIT)
        await asyncio.wait_for(ups.items.get(), RECONNECT_WAIT)
    except TimeoutError:
        raise Failed("no disconnect and reconnection within the time allowed") from None
    transport = await s.settled(client)
    await round_trip(client, echoes, "after the restart")
    reason = down[0] if down else "?"
    return f"{transport} (disconnect reason: {reason})"


FEATURES: dict[str, Callable[[Session], Awaitable[str]]] = {
    "text": text,
    "binary": binary,
    "acks": acks,
    "namespaces": namespaces,
    "rooms": rooms,
    "reconnect": reconnect,
}


async def run(url: str, mode: str, run_id: str, names: list[str]) -> None:
    for name in names:
        started = time.monotonic()
        session = Session(url, mode, f"{run_id}-{name}")
        result: dict[str, Any] = {"feature": name, "run": session.run_id}
        limit = 3 * RECONNECT_WAIT if name == "reconnect" else FEATURE_LIMIT
        try:
            if name not in FEATURES:
                raise Failed("no such feature")
            result["detail"] = await asyncio.wait_for(FEATURES[name](session), limit)
            result["ok"] = True
        except Exception as exc:
            result["ok"] = False
            result["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            await session.close()
        result["ms"] = round((time.monotonic() - started) * 1000)
        out(result)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.interop.py_client")
    parser.add_argument("--mode", choices=sorted(TRANSPORTS), default="websocket")
    parser.add_argument("--url", required=True)
    parser.add_argument("--run", default="run")
    parser.add_argument("--features", default=",".join(FEATURES))
    args = parser.parse_args()
    asyncio.run(run(args.url, args.mode, args.run, args.features.split(",")))
    out({"done": True, "client": f"python-socketio {version('python-socketio')}"})


if __name__ == "__main__":
    main()
