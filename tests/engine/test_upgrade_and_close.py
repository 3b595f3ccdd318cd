"""Polling → WebSocket upgrades and WebSocket closes on a fake clock: the probe, the upgrade
timeout, and the close timeout of a client that does not take its last packets."""

from __future__ import annotations

from thinkio.limits import Limits
from thinkio.websocket import close_frame, data_frame

from ..http.support import parse_responses
from .support import PATH, Harness, WsClient, get, post


def test_a_polling_session_upgrades_to_websocket() -> None:
    h = Harness()
    sid = h.polling_open()
    probe = WsClient(h, query=f"&sid={sid}")
    probe.send("2probe")
    assert probe.read() == ["3probe"]
    finish_upgrade(h, sid, probe)
    # Polling is over for this session: a GET now is a protocol error (Node: code 3).
    _, [(status, _, _)] = h.http(get(f"{PATH}polling&sid={sid}"))
    assert status == 400


def test_a_probe_that_never_completes_is_dropped_at_the_upgrade_timeout() -> None:
    h = Harness(upgrade_timeout=10)
    sid = h.polling_open()
    probe = WsClient(h, query=f"&sid={sid}")
    probe.send("2probe")
    assert probe.read() == ["3probe"]
    h.clock.advance(9.9)
    assert not probe.t.closing
    h.clock.advance(0.2)
    probe.read()
    assert probe.t.closing or probe.t.lost
    # The session goes on over polling.
    assert h.reasons == []
    h.io.emit_nowait("news", "still polling")
    _, [(_, _, body)] = h.http(get(f"{PATH}polling&sid={sid}"))
    assert body == b'42["news","still polling"]'
    _, [(status, _, _)] = h.http(post(f"{PATH}polling&sid={sid}", b"3"))
    assert status == 200


def test_a_closed_session_whose_client_does_not_read_is_cut_at_the_close_timeout() -> None:
    h = Harness(limits=Limits(websocket_close_timeout=30))
    client = WsClient(h, capacity=1024)  # the network holds 1 KiB; the rest waits
    client.open()
    for _ in range(100):
        h.io.emit_nowait("news", "z" * 500)  # 50 KB: under the pause mark, over the network
    for socket in list(h.io.sockets.sockets.values()):
        socket.disconnect_nowait(close=True)
    assert h.reasons
    # Open: what is queued and the close frame are still owed, then the client's close frame.
    assert not client.t.lost
    h.clock.advance(29.9)
    assert not client.t.lost
    h.clock.advance(1.2)
    assert client.t.lost  # cut: the client never read its last packets


def test_a_closed_session_reads_what_the_client_still_sends_until_its_close_frame() -> None:
    # RFC 6455 7.1.1: TCP closed at once would reset a client still sending, and the reset
    # can destroy the close frame before it is read.
    h = Harness()
    client = WsClient(h, answer_close=False)
    client.open()
    for socket in list(h.io.sockets.sockets.values()):
        socket.disconnect_nowait(close=True)
    assert client.read() == [] and client.close_code == 1000
    for n in range(50):
        # Sent before it read the close frame (wsproto would refuse now: raw frames).
        client.t.feed(data_frame(f'42["event",{n}]', mask=True))
    assert h.events == []
    assert not client.t.closing
    client.t.feed(close_frame(1000, mask=True))
    assert client.t.lost  # closed, not cut: no time passed
    assert h.reasons == ["forced server close"]
    assert not h.io.engine.closing_handshakes


def test_a_shutdown_does_not_wait_for_close_frames() -> None:
    h = Harness()
    closed, live = WsClient(h, answer_close=False), WsClient(h, answer_close=False)
    closed.open()
    live.open()
    next(s for s in h.io.sockets.sockets.values()).disconnect_nowait(close=True)
    assert [closed.t.lost, live.t.lost] == [False, False]  # one waits for its close frame
    h.io.engine.close_all()
    assert [closed.t.lost, live.t.lost] == [True, True]  # both close once written
    assert not h.io.engine.closing_handshakes


def test_a_dropped_probe_closing_late_does_not_end_the_next_upgrade() -> None:
    """A probe refused for a bad message whose connection ends only after the client began
    the next upgrade: the next probe still upgrades the session (the fuzzer found this)."""
    h = Harness()
    sid = h.polling_open()
    first = WsClient(h, query=f"&sid={sid}", answer_close=False)
    first.send("4hello")  # not "2probe": the upgrade is dropped and this probe closed
    assert first.read() == []
    assert first.close_code == 1000
    second = WsClient(h, query=f"&sid={sid}")
    second.send("2probe")
    assert second.read() == ["3probe"]
    first.t.disconnect()  # the first probe's connection ends only now
    assert second.close_code is None and not second.t.closing
    finish_upgrade(h, sid, second)


def finish_upgrade(h: Harness, sid: str, probe: WsClient) -> None:
    """Complete an upgrade whose probe got ``3probe``; the session is on the WebSocket after."""
    # The client has the parked poll answered with a NOOP, then sends "5".
    t, answered = h.http(get(f"{PATH}polling&sid={sid}"))
    probe.send("5")
    answered += parse_responses(t.take())
    assert [a[2] for a in answered] == [b"6"]
    h.io.emit_nowait("news", "on ws")
    assert probe.read() == ['42["news","on ws"]']
