"""Prometheus metrics, scraped over HTTP from a running server after real clients used it."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from thinkio import App
from thinkio.client import Client
from thinkio.errors import ConfigError
from thinkio.limits import Limits
from thinkio.server import Server, Socket

from .conftest import running

pytestmark = pytest.mark.anyio


async def scrape(url: str, path: str = "/metrics") -> dict[tuple[str, tuple[Any, ...]], float]:
    """Every sample of the server's metrics, by (name, sorted labels)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def wait_for(condition: Any) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.01)


async def test_connections_messages_broadcasts_and_acks_are_counted() -> None:
    io = Server(metrics=True)
    chat = io.of("/chat")
    news = anyio.Event()
    callers: list[Socket] = []

    @io.on("echo")
    def echo(socket: Socket, text: str) -> str:
        return text

    @io.on("ask-me")
    def ask_me(socket: Socket) -> None:
        callers.append(socket)

    @chat.on("connect")
    def joined(socket: Socket) -> None:
        pass

    async with running(io) as url:
        got: list[str] = []
        async with (
            Client(url, transports=("websocket",), reconnection=False) as ws_client,
            Client(url, transports=("polling",), reconnection=False) as poll_client,
            Client(url, namespaces=("/chat",), reconnection=False),
        ):
            ws_client.on("question", lambda: "answer")
            poll_client.on("news", lambda text: (got.append(text), news.set()))
            await wait_for(lambda: len(io.sockets.sockets) == 2 and len(chat.sockets) == 1)
            assert await ws_client.call("echo", "hello") == ["hello"]
            await ws_client.emit("ask-me")
            await wait_for(lambda: callers)
            assert await callers[0].call("question") == ["answer"]
            await io.emit("news", "to both")
            with anyio.fail_after(5):
                await news.wait()

            samples = await scrape(url)
            connections = {
                transport: samples[("thinkio_connections", (("transport", transport),))]
                for transport in ("polling", "websocket")
            }
            # The /chat client upgraded to WebSocket, or is still on polling: 3 either way.
            assert sum(connections.values()) == 3
            assert connections["websocket"] >= 1 and connections["polling"] >= 1
            assert samples[("thinkio_connections_opened_total", ())] == 3
            assert samples[("thinkio_sockets", (("namespace", "/"),))] == 2
            assert samples[("thinkio_sockets", (("namespace", "/chat"),))] == 1
            assert samples[("thinkio_broadcasts_total", ())] == 1
            assert samples[("thinkio_broadcast_recipients_count", ())] == 1
            assert samples[("thinkio_broadcast_recipients_sum", ())] == 2
            assert samples[("thinkio_ack_latency_seconds_count", ())] == 1
            assert 0 < samples[("thinkio_ack_latency_seconds_sum", ())] < 5
            # In: 3 CONNECTs, echo, its ack request, ask-me, the answer to "question".
            assert samples[("thinkio_messages_received_total", ())] == 3 + 1 + 1 + 1
            # Out: 3 CONNECT replies, the echo ack, "question", the broadcast to 2.
            assert samples[("thinkio_messages_sent_total", ())] == 3 + 1 + 1 + 2
            assert samples[("thinkio_bytes_received_total", ())] > 0
            assert samples[("thinkio_bytes_sent_total", ())] > len('2["news","to both"]') * 2
            assert samples[("thinkio_slow_consumers_dropped_total", ())] == 0

        await wait_for(lambda: not io.engine.sockets)
        samples = await scrape(url)
        assert samples[("thinkio_sockets", (("namespace", "/"),))] == 0
        assert samples[("thinkio_connections", (("transport", "websocket"),))] == 0


async def test_a_dropped_slow_consumer_is_counted_and_labels_apply() -> None:
    io = Server(
        metrics={"path": "/internal/metrics", "labels": {"worker": "7"}},
        limits=Limits(max_outbox_packets=20),
    )

    @io.on("flood")
    def flood(socket: Socket) -> None:
        # More packets than the outbox holds, queued before anything can be written.
        for i in range(50):
            socket.emit_nowait("item", i)

    async with running(io) as url:
        async with Client(url, transports=("websocket",), reconnection=False) as client:
            await wait_for(lambda: io.engine.sockets)
            await client.emit("flood")
            await wait_for(lambda: not io.engine.sockets)
        samples = await scrape(url, "/internal/metrics")
        assert samples[("thinkio_slow_consumers_dropped_total", (("worker", "7"),))] == 1
        assert samples[("thinkio_connections_opened_total", (("worker", "7"),))] == 1
        async with httpx.AsyncClient() as http:
            assert (await http.get(url + "/metrics")).status_code == 404
            assert (await http.post(url + "/internal/metrics")).status_code == 405


async def test_metrics_are_off_by_default() -> None:
    io = Server()
    assert io.observer is None and io.metrics is None
    async with running(io) as url, httpx.AsyncClient() as http:
        assert (await http.get(url + "/metrics")).status_code == 404


def test_an_app_takes_the_metrics_setting() -> None:
    app = App(metrics={"path": "/prometheus"})
    assert app.io.metrics is not None and app.io.metrics.path == "/prometheus"
    with pytest.raises(ConfigError, match=r"metrics\.path"):
        App(metrics={"path": "prometheus"})


@pytest.mark.parametrize("bad", [{"path": "metrics"}, {"port": 9100}, "yes"])
def test_bad_metrics_options_are_refused(bad: Any) -> None:
    with pytest.raises(ConfigError, match="metrics"):
        Server(metrics=bad)
