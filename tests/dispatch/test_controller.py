"""Controllers end to end: a real App served on 127.0.0.1 and thinkio's client, asyncio and trio.

Covers the controller API of DESIGN.md: emit, broadcast (sender included), rooms, the return
value as ack, ws_callback, before/after, actions in order and only after ``open``, failing
actions, the disconnect reason in ``close``, connect middleware, handshake data everywhere.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import anyio
import pytest

from thinkio import AckTimeout, App, ConnectRefused, ConnectRejected, Controller
from thinkio.dispatch.dispatcher import UNROUTED_NAMES_LOGGED
from thinkio.server import Socket

from .harness import client, eventually, serving

pytestmark = pytest.mark.anyio

MESSAGES = {
    "open": "/chat/open",
    "close": "/chat/close",
    "echo": "/chat/echo",
    "shout": "/chat/shout",
    "add": "/chat/add",
    "pair": "/chat/pair",
    "early": "/chat/early",
    "join": "/chat/join",
    "leave": "/chat/leave",
    "room": "/chat/room",
    "whoami": "/chat/whoami",
    "seq": "/chat/seq",
    "seqs": "/chat/seqs",
    "boom": "/chat/boom",
    "guarded": "/guard/act",
    "guardLog": "/guard/log",
}

#: Disconnect reasons seen by the close action, by socket id.
CLOSED: dict[str, str] = {}


class Chat(Controller):
    async def open_action(self) -> None:
        # A slow open: the client's first events must wait for it.
        await anyio.sleep(0.2)
        self.websocket.data["opened"] = True
        self.websocket.data["seq"] = []
        await self.emit("opend", "This client opened successfully!")
        await self.broadcast("joined", self.websocket.id)

    async def close_action(self) -> None:
        CLOSED[self.websocket.id] = self.ws_data
        await self.emit("never", "sent")  # the client is gone: dropped, as in socket.io
        await self.broadcast("left", self.websocket.id)

    async def echo_action(self) -> None:
        await self.emit("echo", *self.ws_args)

    async def shout_action(self) -> None:
        await self.broadcast("shout", self.ws_data)

    def add_action(self) -> int:  # a plain method works too
        return sum(self.ws_args)

    def pair_action(self) -> tuple[int, str]:
        return 1, "two"

    async def early_action(self) -> str:
        assert self.ws_callback is not None
        self.ws_callback("early")
        return "late"  # the first answer counts

    def join_action(self) -> None:
        self.join(self.ws_data)

    def leave_action(self) -> None:
        self.leave(self.ws_data)

    async def room_action(self) -> None:
        room, text = self.ws_args
        await self.to(room).emit("room", text)

    def whoami_action(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "header": ctx.headers.get("x-test"),
            "query": ctx.query.get("name"),
            "cookies": ctx.cookies,
            "address": ctx.address,
            "auth": ctx.auth,
            "namespace": ctx.namespace,
            "event": self.event,
            "is_websocket": self.is_websocket,
            "io": self.io is self.ctx.io,
            "opened": self.websocket.data.get("opened"),
            "ws_data": self.ws_data,
            "ws_args": list(self.ws_args),
        }

    async def seq_action(self) -> None:
        await anyio.sleep(0.01 * (self.ws_data % 3))  # uneven work: order must still hold
        self.websocket.data["seq"].append(self.ws_data)

    def seqs_action(self) -> list[int]:
        return list(self.websocket.data["seq"])

    def boom_action(self) -> None:
        raise ValueError("boom")


class Guard(Controller):
    def before(self) -> bool:
        self.websocket.data.setdefault("log", []).append(f"before {self.ws_data}")
        return self.ws_data != "deny"

    async def act_action(self) -> str:
        self.websocket.data["log"].append(f"act {self.ws_data}")
        return f"did {self.ws_data}"

    async def after(self) -> None:
        self.websocket.data["log"].append(f"after {self.ws_data}")

    def log_action(self) -> list[str]:
        return list(self.websocket.data["log"])


def make_app(**options: Any) -> App:
    return App(messages=MESSAGES, controllers={"chat": Chat, "guard": Guard}, **options)


async def test_open_emits_to_the_client_and_broadcasts_to_everyone() -> None:
    async with serving(make_app()) as url:
        a, inbox_a = client(url, "opend", "joined")
        b, inbox_b = client(url, "opend", "joined")
        async with a:
            assert await inbox_a.wait_for("opend") == [("This client opened successfully!",)]
            assert await inbox_a.wait_for("joined") == [(a.sid,)]  # the sender too
            async with b:
                await inbox_b.wait_for("opend")
                assert await inbox_b.wait_for("joined") == [(b.sid,)]
                assert (await inbox_a.wait_for("joined", 2))[1] == (b.sid,)
            assert len(inbox_b.of("opend")) == 1


async def test_emit_and_broadcast_from_actions() -> None:
    async with serving(make_app()) as url:
        a, inbox_a = client(url, "echo", "shout")
        b, inbox_b = client(url, "echo", "shout")
        async with a, b:
            await a.emit("echo", "x", {"n": 1}, [True, None])
            assert await inbox_a.wait_for("echo") == [("x", {"n": 1}, [True, None])]
            await b.emit("shout", "hello all")
            assert await inbox_a.wait_for("shout") == [("hello all",)]
            assert await inbox_b.wait_for("shout") == [("hello all",)]  # sender included
            assert inbox_b.of("echo") == []


async def test_return_value_and_ws_callback_are_the_ack() -> None:
    async with serving(make_app()) as url:
        c, _ = client(url)
        async with c:
            assert await c.call("add", 1, 2, 3.5) == [6.5]
            assert await c.call("pair") == [1, "two"]
            assert await c.call("early") == ["early"]
            assert await c.call("echo", "no return") == []  # None: an empty ack


async def test_rooms_join_leave_and_to() -> None:
    async with serving(make_app()) as url:
        a, inbox_a = client(url, "room", "shout")
        b, inbox_b = client(url, "room", "shout")
        async with a, b:
            await a.call("join", "r1")
            await b.call("room", "r1", "to r1 from b")
            assert await inbox_a.wait_for("room") == [("to r1 from b",)]
            await a.call("room", "r1", "to r1 from a")
            assert (await inbox_a.wait_for("room", 2))[1] == ("to r1 from a",)  # sender in r1
            await a.call("leave", "r1")
            await b.call("room", "r1", "nobody hears this")
            await b.call("shout", "sentinel")  # in order after the room message
            await inbox_a.wait_for("shout")
            await inbox_b.wait_for("shout")
            assert len(inbox_a.of("room")) == 2
            assert inbox_b.of("room") == []


async def test_handshake_data_in_every_action() -> None:
    async with serving(make_app()) as url:
        c, _ = client(
            f"{url}/?name=ann",
            headers={"x-test": "yes", "cookie": "sid=abc; theme=dark"},
            auth={"token": "t0k"},
        )
        async with c:
            (info,) = await c.call("whoami", "first", 2)
    assert info == {
        "header": "yes",
        "query": "ann",
        "cookies": {"sid": "abc", "theme": "dark"},
        "address": "127.0.0.1",
        "auth": {"token": "t0k"},
        "namespace": "/",
        "event": "whoami",
        "is_websocket": True,
        "io": True,
        "opened": True,
        "ws_data": "first",
        "ws_args": ["first", 2],
    }


async def test_actions_run_in_order_and_only_after_open() -> None:
    async with serving(make_app()) as url:
        c, inbox = client(url, "opend")
        async with c:
            # Sent at once, while open_action still sleeps.
            for i in range(20):
                await c.emit("seq", i)
            (info,) = await c.call("whoami")
            assert info["opened"] is True
            assert inbox.of("opend")  # open's emit came before the answer
            assert await c.call("seqs") == [list(range(20))]


async def test_a_failing_action_is_logged_and_the_socket_stays(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="thinkio.dispatch")
    async with serving(make_app()) as url:
        c, _ = client(url)
        async with c:
            with pytest.raises(AckTimeout):
                await c.call("boom", timeout=0.5)  # no ack for a failed action
            assert c.connected
            assert await c.call("add", 2, 2) == [4]
    (record,) = [r for r in caplog.records if "/chat/boom" in r.getMessage()]
    assert "action /chat/boom failed (event 'boom', namespace /" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)


async def test_close_gets_the_disconnect_reason() -> None:
    async with serving(make_app()) as url:
        watcher, inbox = client(url, "left")
        async with watcher:
            c, _ = client(url)
            async with c:
                sid = c.sid
                assert sid is not None
            await eventually(lambda: sid in CLOSED)
            assert CLOSED[sid] == "client namespace disconnect"
            assert (sid,) in await inbox.wait_for("left")


async def test_before_and_after_hooks() -> None:
    async with serving(make_app()) as url:
        c, _ = client(url)
        async with c:
            assert await c.call("guarded", "a") == ["did a"]
            assert await c.call("guarded", "deny") == []  # skipped: an empty ack
            log = await c.call("guardLog")
    assert log == [["before a", "act a", "after a", "before deny", "before None"]]


async def test_an_unrouted_event_is_logged_once_per_name_with_a_did_you_mean(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="thinkio.dispatch")
    async with serving(make_app()) as url:
        c, _ = client(url)
        async with c:
            for _ in range(3):
                await c.emit("nosuch", 1)
                await c.emit("shuot", "x")  # a typo of "shout"
                await c.emit("ECHO")  # the case of "echo"
                await c.emit("open")  # the connect's name in messages, not an event
            assert await c.call("add", 1) == [1]  # handled after every event above
    lines = [r.getMessage() for r in caplog.records if "has no route" in r.getMessage()]
    assert all(r.levelno == logging.INFO for r in caplog.records if "has no route" in r.msg)
    dropped = "on / has no route in messages (dropped; logged once per name)"
    assert lines == [
        f"event 'nosuch' {dropped}",
        f"event 'shuot' {dropped}; did you mean 'shout'?",
        f"event 'ECHO' {dropped}; did you mean 'echo'?",
        f"event 'open' {dropped}",
    ]


async def test_unrouted_names_are_remembered_up_to_a_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="thinkio.dispatch")
    async with serving(make_app()) as url:
        c, _ = client(url)
        async with c:
            for i in range(UNROUTED_NAMES_LOGGED + 50):
                await c.emit(f"random-{i}")
            assert await c.call("add", 1) == [1]
    lines = [r.getMessage() for r in caplog.records if r.name == "thinkio.dispatch"]
    assert len([line for line in lines if "has no route" in line]) == UNROUTED_NAMES_LOGGED
    assert lines[-1] == (
        f"more events with no route on /: not logged any more (the first "
        f"{UNROUTED_NAMES_LOGGED} were)"
    )


async def test_connect_middleware_refuses_with_data() -> None:
    seen: list[str] = []

    async def check_token(socket: Socket) -> None:
        seen.append(socket.handshake.address)
        if socket.auth.get("token") != "secret":
            raise ConnectRejected("not authorized", {"code": 42})

    app = make_app(middleware=[check_token])
    async with serving(app) as url:
        bad, _ = client(url, auth={"token": "wrong"})
        with pytest.raises(ConnectRefused) as info:
            await bad.connect()
        assert info.value.message == "not authorized"
        assert info.value.data == {"code": 42}
        good, inbox = client(url, "opend", auth={"token": "secret"})
        async with good:
            await inbox.wait_for("opend")
    assert seen == ["127.0.0.1", "127.0.0.1"]


async def test_app_use_on_one_namespace_and_several_namespaces() -> None:
    class Admin(Controller):
        def open_action(self) -> None:
            self.websocket.data["admin"] = True

        def whoami_action(self) -> list[Any]:
            return [self.ctx.namespace, self.websocket.data.get("admin")]

    app = App(
        messages=[
            {"add": "/chat/add"},
            {"namespace": "/admin", "open": "/admin/open", "whoami": "/admin/whoami"},
        ],
        controllers={"chat": Chat, "admin": Admin},
    )

    @app.use
    def everyone(socket: Socket) -> None:
        socket.data["everyone"] = True

    def admins_only(socket: Socket) -> None:
        if socket.auth.get("role") != "admin":
            raise ConnectRejected("admins only")

    app.use(admins_only, namespace="/admin")
    async with serving(app) as url:
        user, _ = client(url, namespaces=("/admin",))
        with pytest.raises(ConnectRefused, match="admins only"):
            await user.connect()
        root, _ = client(url)
        async with root:
            assert await root.call("add", 5) == [5]
        admin, _ = client(url, namespaces=("/admin",), auth={"role": "admin"})
        async with admin:
            assert await admin.call("whoami", namespace="/admin") == [["/admin", True]]


async def test_close_actions_run_when_the_app_shuts_down() -> None:
    reasons: list[str] = []

    class Slow(Controller):
        async def close_action(self) -> None:
            await anyio.sleep(0.05)  # an await in close must not be cut off by the shutdown
            await self.broadcast("bye", self.ws_data)
            reasons.append(self.ws_data)

    app = App(messages={"close": "/slow/close"}, controllers={"slow": Slow})
    async with anyio.create_task_group() as tg:
        bound = await tg.start(app.serve, "127.0.0.1", 0)
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                await stack.enter_async_context(client(bound.url)[0])
            with anyio.fail_after(10):
                await app.shutdown(timeout=5)
    assert reasons == ["server shutting down"] * 3
