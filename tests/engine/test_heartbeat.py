"""Engine.IO sessions on a fake clock: the heartbeat (ping, pong, ping timeout), the connect
timeout, and the timer heap under a steady stream of messages. Polling and WebSocket, driven
through in-memory transports; time moves only when a test says so."""

from __future__ import annotations

import json

import anyio
import pytest

from thinkio.server import Socket

from .support import PATH, Harness, WsClient, get, post


def test_polling_session_without_pong_is_closed_at_the_ping_timeout() -> None:
    h = Harness()
    sid = h.polling_open()
    h.clock.advance(25)
    _, [(_, _, body)] = h.http(get(f"{PATH}polling&sid={sid}"))
    assert body == b"2"
    h.clock.advance(19.9)
    assert h.reasons == []
    h.clock.advance(0.2)
    assert h.reasons == ["ping timeout"]
    assert h.io.sockets.sockets == {}
    _, [(status, _, body)] = h.http(get(f"{PATH}polling&sid={sid}"))
    assert status == 400
    assert json.loads(body) == {"code": 1, "message": "Session ID unknown"}


def test_a_parked_poll_is_answered_when_its_session_times_out() -> None:
    h = Harness()
    sid = h.polling_open()
    h.clock.advance(25)
    h.http(get(f"{PATH}polling&sid={sid}"))  # takes the ping
    t, answered = h.http(get(f"{PATH}polling&sid={sid}"))
    assert answered == []  # parked: nothing to say yet
    h.clock.advance(20.1)
    assert h.reasons == ["ping timeout"]
    # The long poll does not hang until the HTTP request timeout.
    assert t.take() != b"" or t.lost


def test_polling_session_answering_pings_lives_on() -> None:
    h = Harness()
    sid = h.polling_open()
    for _ in range(10):
        h.clock.advance(25)
        _, [(_, _, body)] = h.http(get(f"{PATH}polling&sid={sid}"))
        assert body == b"2"
        h.clock.advance(19)
        _, [(status, _, _)] = h.http(post(f"{PATH}polling&sid={sid}", b"3"))
        assert status == 200
    assert h.reasons == []
    assert len(h.io.sockets.sockets) == 1


def test_websocket_session_without_pong_is_cut_at_the_ping_timeout() -> None:
    h = Harness()
    client = WsClient(h)
    client.open()
    h.clock.advance(25)
    assert client.read() == ["2"]
    h.clock.advance(19.9)
    assert not client.t.closing
    h.clock.advance(0.2)
    assert h.reasons == ["ping timeout"]
    # A client that does not answer is not waited for: its connection is cut at once.
    assert client.t.lost
    assert h.io.http.open == 0


def test_websocket_session_answering_pings_lives_on() -> None:
    h = Harness()
    client = WsClient(h)
    client.open()
    for _ in range(10):
        h.clock.advance(25)
        assert client.read() == ["2"]
        h.clock.advance(19)
        client.send("3")
    assert h.reasons == []
    assert not client.t.closing


def test_a_session_that_joins_no_namespace_is_closed_at_the_connect_timeout() -> None:
    h = Harness(connect_timeout=10, ping_interval=300, ping_timeout=300)
    client = WsClient(h)
    [opening] = client.read()
    sid = json.loads(opening[1:])["sid"]
    h.clock.advance(9.9)
    assert not client.t.closing
    h.clock.advance(0.2)
    assert not client.t.closing  # the close frame is out; the server waits for the client's
    client.read()
    assert client.close_code == 1000
    assert client.t.lost  # the client answered it: the server closed the connection
    _, [(status, _, _)] = h.http(get(f"{PATH}polling&sid={sid}"))
    assert status == 400  # the session is gone


def test_the_timer_heap_stays_bounded_under_a_stream_of_messages() -> None:
    """The connect-timer leak: a timer armed and cancelled per message must not stay in
    the heap; after many messages the heap holds about one timer per live session."""
    h = Harness()
    clients = [WsClient(h) for _ in range(5)]
    for c in clients:
        c.open()
    sizes = []
    for i in range(4000):
        clients[i % 5].send(f'42["event",{i}]')
        if i % 100 == 0:
            sizes.append(h.io.timers.heap_size)
    assert len(h.events) == 4000
    assert max(sizes) < 300
    assert len(h.io.timers) <= 5 * 2 + 2  # per session: heartbeat (+ connect); HTTP sweep


def test_the_timer_heap_stays_bounded_over_many_heartbeats() -> None:
    h = Harness(ping_interval=1, ping_timeout=1)
    client = WsClient(h)
    client.open()
    for _ in range(3000):
        h.clock.advance(1)
        assert client.read() == ["2"]
        client.send("3")
    assert h.reasons == []
    assert h.io.timers.heap_size < 300


@pytest.mark.anyio
async def test_async_handlers_run_with_the_fake_clock_on_both_backends() -> None:
    h = Harness()
    greeted = anyio.Event()

    @h.io.on("connect")
    async def hello(socket: Socket) -> None:
        await anyio.lowlevel.checkpoint()
        await socket.emit("hello", socket.id)
        greeted.set()

    async with anyio.create_task_group() as tg:
        await tg.start(h.io.run)
        client = WsClient(h)
        [opening] = client.read()
        assert opening.startswith("0{")
        client.send("40")
        with anyio.fail_after(5):
            await greeted.wait()
        messages: list[str | bytes] = []
        with anyio.fail_after(5):
            while len(messages) < 2:  # the emit is written by the flusher task's next turn
                messages += client.read()
                await anyio.lowlevel.checkpoint()
        assert messages[0].startswith("40{")  # type: ignore[union-attr]
        sid = json.loads(messages[0][2:])["sid"]  # type: ignore[index]
        assert messages[1] == f'42["hello","{sid}"]'
        # Time in the server is the fake clock's even with the timer task running.
        h.clock.advance(25)
        h.clock.advance(20.1)
        assert h.reasons == ["ping timeout"]
        with anyio.fail_after(5):
            await h.io.shutdown()
