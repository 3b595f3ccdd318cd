"""Connection state recovery: the store on a fake clock, the wire, and the real Node client.

The end-to-end tests run the real socket.io-client 4.8 (``tests/interop/node/recovery.js``)
against an in-process server that keeps emitting while the client's transport is cut: the
client must get every tick once, in order, with ``socket.recovered`` true and its old id.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import anyio
import pytest

from thinkio.errors import ConfigError
from thinkio.server import RecoveryOptions, Server, Socket
from thinkio.server.adapter import BroadcastOptions
from thinkio.server.recovery import RecoveryStore, SavedSession, recovery_options
from thinkio.socketio import Connection, ConnectRequest
from thinkio.testing import FakeClock

from ..interop.harness import NODE_DIR
from ..support import missing_part, npm_ci
from .conftest import running

# -- options ---------------------------------------------------------------------------------


def test_options_in_seconds_or_as_node_writes_them() -> None:
    assert recovery_options(None) is None
    assert recovery_options(False) is None
    assert recovery_options(True) == RecoveryOptions(120.0, True)
    assert recovery_options({"max_disconnection_duration": 30}) == RecoveryOptions(30, True)
    node = {"maxDisconnectionDuration": 2 * 60 * 1000, "skipMiddlewares": False}
    assert recovery_options(node) == RecoveryOptions(120.0, False)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"max_disconnection": 3}, "unknown key 'max_disconnection'"),
        ({"max_disconnection_duration": 0}, "expected seconds > 0"),
        ({"skip_middlewares": "yes"}, "expected True or False"),
        ("on", "expected True, a dict or RecoveryOptions"),
    ],
)
def test_bad_options_are_refused_when_the_server_is_built(spec: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Server(connection_state_recovery=spec)


# -- the store, on a fake clock ----------------------------------------------------------------


def store(clock: FakeClock, duration: float = 120.0) -> RecoveryStore:
    return RecoveryStore(RecoveryOptions(duration), clock.now)


def log(
    s: RecoveryStore, n: int, rooms: tuple[str, ...] = (), except_: tuple[str, ...] = ()
) -> str:
    offset = s.new_offset()
    s.log(offset, frozenset(rooms), frozenset(except_), ["tick", n, offset])
    return offset


def test_missed_packets_are_those_after_the_offset_for_the_session_rooms() -> None:
    clock = FakeClock()
    s = store(clock)
    first = log(s, 1)
    s.persist(SavedSession("S", "P", ("S", "room1"), {"name": "ada"}))
    log(s, 2)  # everyone
    log(s, 3, rooms=("room1",))
    log(s, 4, rooms=("room2",))  # not its room
    log(s, 5, except_=("room1",))  # it is excluded
    log(s, 6, rooms=("S",))  # to the socket itself
    log(s, 7, rooms=("room2", "S"), except_=("room3",))
    session = s.restore("P", first)
    assert session is not None
    assert (session.sid, session.rooms, session.data) == ("S", ("S", "room1"), {"name": "ada"})
    assert [data[1] for data in session.missed] == [2, 3, 6, 7]
    assert all(isinstance(data[-1], str) for data in session.missed)
    assert s.restore("P", first) is None  # taken: a second client with the same pid gets nothing


def test_what_a_server_handing_a_session_over_had_not_received() -> None:
    """Two stores as two workers keep broadcasts: the same ones, not in the same order nor
    at the same time. What the holder (``a``) had not received when it handed the session
    over is exactly what the new server (``b``) adds to what ``a`` handed over."""
    clock = FakeClock()
    a, b = store(clock), store(clock)
    a.track_sources = b.track_sources = True

    def both(origin: RecoveryStore, n: int, *others: RecoveryStore) -> list[Any]:
        offset = origin.new_offset()
        data = ["tick", n, offset]
        for s in (origin, *others):
            s.log(offset, frozenset(), frozenset(), data)
        return data

    first = both(a, 1, b)
    direct = a.new_offset()  # a packet to the socket alone: only ``a`` keeps it
    a.log(direct, frozenset(("S",)), frozenset(), ["tick", 2, direct], shared=False)
    a.persist(SavedSession("S", "P", ("S",), None))
    both(b, 3, a)  # from b: a got it too
    late = both(b, 4)  # from b: on its way to a
    since = b.position()
    both(a, 5)  # from a, after the client asked b: on its way to b
    handed = a.restore("P", first[-1])
    assert handed is not None
    assert [d[1] for d in handed.missed] == [2, 3, 5]
    heard = a.heard()
    assert not b.has_heard(heard)  # tick 5 is still on its way
    b.log(handed.missed[-1][-1], frozenset(), frozenset(), handed.missed[-1])
    assert b.has_heard(heard)
    assert b.unheard(("S",), heard, since) == [late]
    assert a.has_heard(b.heard()) is False and b.since(since, ("S",))[0][1] == 5
    # a server never heard from (gone, or from before this one started) is not waited for
    assert b.has_heard({**heard, "gone": 7})


def test_a_session_expires_after_the_max_disconnection_duration() -> None:
    clock = FakeClock()
    s = store(clock, duration=120)
    offset = log(s, 1)
    s.persist(SavedSession("S", "P", ("S",), None))
    clock.advance(119)
    log(s, 2)
    s.persist(SavedSession("T", "Q", ("T",), None))
    clock.advance(1)  # exactly the duration: still there
    assert s.sessions == 2
    clock.advance(0.5)
    assert s.restore("P", offset) is None  # expired, and dropped
    assert s.sessions == 1
    assert len(s) == 1  # packet 1 expired too, packet 2 is 1.5 s old


def test_an_offset_no_longer_kept_means_no_recovery() -> None:
    clock = FakeClock()
    s = store(clock, duration=10)
    old = log(s, 1)
    clock.advance(8)
    s.persist(SavedSession("S", "P", ("S",), None))
    clock.advance(5)  # packet 1 is 13 s old: gone; the session is 5 s old: kept
    log(s, 2)
    assert s.restore("P", old) is None
    assert s.restore("P", "never-sent") is None


def test_the_adapter_stamps_only_what_node_keeps() -> None:
    clock = FakeClock()
    io = Server(clock=clock, connection_state_recovery={"max_disconnection_duration": 60})
    adapter = io.sockets.adapter
    assert adapter.recovery is not None
    from thinkio.socketio import Packet, PacketType

    plain = Packet(PacketType.EVENT, "/", ["tick", 1])
    stamped = adapter.stamp(plain, BroadcastOptions())
    assert stamped.data[:2] == ["tick", 1] and isinstance(stamped.data[2], str)
    with_ack = Packet(PacketType.EVENT, "/", ["tick", 2], 7)
    assert adapter.stamp(with_ack, BroadcastOptions()) is with_ack
    assert adapter.stamp(plain, BroadcastOptions(volatile=True)) is plain
    assert len(adapter.recovery) == 1
    clock.advance(61)
    adapter.stamp(plain, BroadcastOptions())
    assert len(adapter.recovery) == 1  # the first one expired


def test_recovery_off_adds_nothing() -> None:
    io = Server()
    assert io.connection_state_recovery is None
    assert io.sockets.adapter.recovery is None


# -- the wire (sans-IO) ------------------------------------------------------------------------


def test_the_connect_answer_carries_the_pid() -> None:
    conn = Connection(now=0.0)
    conn.receive_message('0{"pid":"P","offset":"o-1","token":"x"}', now=0.0)
    event = conn.next_event()
    assert isinstance(event, ConnectRequest)
    assert event.auth == {"pid": "P", "offset": "o-1", "token": "x"}
    conn.accept("/", "S", "P")
    assert conn.data_to_send() == ['0{"sid":"S","pid":"P"}']
    legacy = Connection(now=0.0, protocol=4)
    legacy.next_event()
    legacy.accept("/", "S", "P")
    assert legacy.data_to_send() == ["0"]


# -- end to end, with the real socket.io-client --------------------------------------------------


def node_client_ready() -> None:
    why = npm_ci(NODE_DIR, "socket.io-client")
    if why is not None:
        missing_part(why)
    if shutil.which("node") is None:
        missing_part("node is not installed")


def recovery_app(parser: str = "default") -> tuple[Server, dict[str, Any]]:
    """A server that ticks to one client in every way a packet can reach it (broadcast, room,
    its own id, ``socket.emit``) and, to others only, an ``other`` event it must never see."""
    io = Server(connection_state_recovery=True, parser=parser)
    seen: dict[str, Any] = {"connects": [], "disconnects": [], "tick": 0}
    stop = anyio.Event()

    @io.on("connect")
    def connected(socket: Socket) -> None:
        if not socket.recovered:
            socket.join("room1")
            socket.data["name"] = "ada"
        seen["connects"].append((socket.id, socket.recovered, seen["tick"]))

    @io.on("disconnect")
    def disconnected(socket: Socket, reason: str) -> None:
        seen["disconnects"].append((reason, seen["tick"]))

    async def ticker(first: Socket) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            seen["tick"] = n
            kind = n % 4
            if kind == 0:
                await io.emit("tick", n)
            elif kind == 1:
                await io.to("room1").emit("tick", n)
            elif kind == 2:
                # the first Socket object, even once it dropped: as in Node, what it emits
                # is kept, and reaches the socket that recovers its id
                await first.emit("tick", n)
            else:
                await io.to(first.id).emit("tick", n)
            await io.except_("room1").emit("other", n)
            await anyio.sleep(0.002)

    @io.on("start")
    def start(socket: Socket) -> None:
        io.spawn(ticker, socket)

    @io.on("stop")
    def stop_ticking(socket: Socket) -> None:
        stop.set()

    answer_whoami(io)
    return io, seen


def answer_whoami(io: Server) -> None:
    @io.on("whoami")
    def whoami(socket: Socket) -> dict[str, Any]:
        return {
            "rooms": sorted(socket.rooms),
            "data": socket.data,
            "recovered": socket.recovered,
            "token": socket.auth.get("token"),
        }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("transport", "parser"),
    [("websocket", "default"), ("polling", "default"), ("websocket", "msgpack")],
)
async def test_the_node_client_misses_nothing_when_its_transport_is_cut(
    transport: str, parser: str
) -> None:
    node_client_ready()
    if parser == "msgpack":
        why = npm_ci(NODE_DIR.parent / "msgpack", "socket.io-msgpack-parser")
        if why is not None:
            missing_part(why)
    io, seen = recovery_app(parser=parser)
    async with running(io) as url:
        with anyio.fail_after(40):
            result = await anyio.run_process(
                ["node", str(NODE_DIR / "recovery.js"), url, transport, "40", "400", "cut", parser],
                check=False,
            )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    report = json.loads(out.strip().splitlines()[-1])
    ticks = report["ticks"]
    # every tick once, in order, from 1 to the last one the client waited for
    assert ticks == list(range(1, len(ticks) + 1)) and ticks[-1] >= 400
    assert report["others"] == []
    first, second = report["connects"]
    assert first["recovered"] is False and second["recovered"] is True
    assert first["id"] == second["id"] == report["id"]
    assert report["info"] == {
        "rooms": sorted([report["id"], "room1"]),
        "data": {"name": "ada"},
        "recovered": True,
        "token": "t0k",
    }
    # the server really emitted while the client was away, and saw a recoverable reason
    (reason, dropped_at), *_ = seen["disconnects"]
    assert reason in ("transport close", "transport error")
    back_at = seen["connects"][1][2]
    assert seen["connects"][1][:2] == (report["id"], True)
    assert back_at > dropped_at, seen


async def run_client(url: str, *args: str) -> dict[str, Any]:
    with anyio.fail_after(40):
        result = await anyio.run_process(
            ["node", str(NODE_DIR / "recovery.js"), url, *args], check=False
        )
    out = result.stdout.decode()
    assert result.returncode == 0, out + result.stderr.decode()
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.mark.anyio
async def test_a_session_past_the_max_disconnection_duration_starts_afresh() -> None:
    node_client_ready()
    clock = FakeClock()
    io = Server(clock=clock, connection_state_recovery={"max_disconnection_duration": 60})
    reasons: list[str] = []
    answer_whoami(io)

    @io.on("start")
    async def start(socket: Socket) -> None:
        await socket.emit("tick", 1)

    @io.on("disconnect")
    def gone(socket: Socket, reason: str) -> None:
        reasons.append(reason)
        clock.advance(61)  # the client comes back after 61 s, on the server's clock

    async with running(io) as url:
        report = await run_client(url, "websocket", "1", "1", "cut-once")
    first, second = report["connects"]
    assert reasons[0] == "transport close"
    assert second["recovered"] is False and second["id"] != first["id"]
    assert report["info"]["rooms"] == [second["id"]]


@pytest.mark.anyio
@pytest.mark.parametrize("skip", [True, False])
async def test_middlewares_run_again_only_if_asked(skip: bool) -> None:
    node_client_ready()
    io = Server(connection_state_recovery={"skip_middlewares": skip})
    ran: list[bool] = []
    answer_whoami(io)

    @io.use
    async def middleware(socket: Socket) -> None:
        ran.append(socket.recovered)
        if socket.recovered:
            # sent while the restored socket waits for its middlewares: it must get it too
            await io.to("room1").emit("tick", 2)

    @io.on("start")
    async def start(socket: Socket) -> None:
        socket.join("room1")
        await io.to("room1").emit("tick", 1)

    async with running(io) as url:
        report = await run_client(url, "polling", "1", "1", "cut-once")
    assert [c["recovered"] for c in report["connects"]] == [False, True]
    assert ran == ([False] if skip else [False, True])
    assert report["ticks"] == ([1] if skip else [1, 2])
    assert "room1" in report["info"]["rooms"]


@pytest.mark.anyio
async def test_a_client_that_disconnects_on_purpose_is_not_recovered() -> None:
    node_client_ready()
    io = Server(connection_state_recovery=True)
    reasons: list[str] = []
    answer_whoami(io)

    @io.on("start")
    async def start(socket: Socket) -> None:
        await socket.emit("tick", 1)

    @io.on("disconnect")
    def gone(socket: Socket, reason: str) -> None:
        reasons.append(reason)

    async with running(io) as url:
        report = await run_client(url, "websocket", "1", "1", "disconnect")
    first, second = report["connects"]
    # (the client disconnects again once it has reported)
    assert reasons and set(reasons) == {"client namespace disconnect"}
    assert second["recovered"] is False and second["id"] != first["id"]
    assert io.sockets.adapter.recovery is not None
    assert io.sockets.adapter.recovery.sessions == 0
