"""A slow consumer on a fake clock: a client that stops reading has a bounded outbox, and is
closed when it overflows; the other sessions are not disturbed."""

from __future__ import annotations

from thinkio.limits import Limits

from .support import PATH, Harness, WsClient, get

LIMITS = Limits(max_outbox_packets=200, max_outbox_bytes=256 * 1024)


def test_a_websocket_client_that_stops_reading_is_cut_at_its_outbox_limit() -> None:
    h = Harness(limits=LIMITS)
    healthy = WsClient(h)
    healthy.open()
    silent = WsClient(h, capacity=16 * 1024)  # the network holds 16 KiB, then writes buffer
    silent.open()
    payload = "x" * 1000
    sent = 0
    while not h.reasons:
        h.io.emit_nowait("news", payload)
        sent += 1
        assert len(healthy.read()) == 1  # the healthy client reads every one as it comes
        assert sent < 10_000, "the silent client's outbox never overflowed"
    assert h.reasons == ["transport error"]
    # Bounded: the transport's buffer (64 KiB high mark) plus the outbox limit, no more.
    assert sent * 1000 < 16 * 1024 + 64 * 1024 + LIMITS.max_outbox_bytes + 10_000
    assert silent.t.lost  # cut at once: what was queued for it is dropped, not flushed
    assert silent.t.get_write_buffer_size() == 0
    assert len(h.io.sockets.sockets) == 1
    h.io.emit_nowait("news", "after")
    assert healthy.read() == ['42["news","after"]']
    assert not healthy.t.closing


def test_the_outbox_packet_limit_applies_to_small_packets() -> None:
    h = Harness(limits=LIMITS)
    silent = WsClient(h, capacity=1024)
    silent.open()
    sent = 0
    while not h.reasons:
        h.io.emit_nowait("n", sent)
        sent += 1
        assert sent < 100_000
    # 1 KiB in the network, 64 KiB in the transport's buffer, then 200 packets queued.
    assert sent < (1024 + 64 * 1024) // 10 + LIMITS.max_outbox_packets + 10
    assert silent.t.lost


def test_a_polling_client_that_stops_polling_is_closed_at_its_outbox_limit() -> None:
    h = Harness(limits=LIMITS)
    silent = h.polling_open()
    healthy = WsClient(h)
    healthy.open()
    sent = 0
    while not h.reasons:
        h.io.emit_nowait("news", sent)
        sent += 1
        assert sent <= LIMITS.max_outbox_packets + 1
    assert h.reasons == ["transport error"]
    assert sent == LIMITS.max_outbox_packets + 1
    _, [(status, _, _)] = h.http(get(f"{PATH}polling&sid={silent}"))
    assert status == 400  # the session is gone, its queue with it
    assert len(healthy.read()) == sent
    assert not healthy.t.closing


def test_a_slow_reader_that_catches_up_in_time_is_kept() -> None:
    h = Harness(limits=LIMITS)
    client = WsClient(h, capacity=16 * 1024)
    client.open()
    received = 0
    for _ in range(20):
        for _ in range(100):  # 100 KB: more than the network and the buffer hold
            h.io.emit_nowait("news", "y" * 1000)
        while got := client.read():  # the client reads all: the buffers drain
            received += len(got)
    assert h.reasons == []
    assert received == 2000
