"""Prometheus metrics of one server: ``Server(metrics={"path": "/metrics"})``.

What is counted, and how it costs nothing when metrics are off:

* read from the server's own state when Prometheus scrapes (no work in between): open
  Engine.IO sessions by transport, sessions opened, sockets per namespace, sessions dropped
  as slow consumers (their outbox overflowed);
* counted as it happens, through the server's :class:`~.observer.ServerObserver` (None when
  metrics are off, tested once per message or broadcast): Engine.IO messages and bytes in and
  out (broadcast copies counted per recipient), broadcasts and their fan-out, and the time
  clients take to answer the server's ack requests.

Counters on the message path are plain integers (no lock: the server runs on one thread);
the two histograms are ``prometheus_client``'s. ``prometheus_client`` writes the text
exposition format; each server has its own registry, so two servers in one process (tests,
workers) keep their own numbers. Under ``thinkio run --workers N`` each worker serves its own
metrics, labelled ``worker="<n>"``; Prometheus adds them up (``sum by (job)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from ..errors import ConfigError
from ..extras import require
from ..http import HttpExchange, HttpRequest

__all__ = ("MetricsSource", "ServerMetrics", "metrics_options")

#: Fan-out (recipients per broadcast) histogram buckets.
FANOUT_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
#: Ack round trip histogram buckets, in seconds.
ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class MetricsSource(Protocol):
    """What the metrics read from their server (:class:`.server.Server`)."""

    @property
    def engine(self) -> Any:
        """The :class:`thinkio.engine.EngineServer` (its ``sockets`` and counters)."""

    @property
    def namespaces(self) -> Mapping[str, Any]:
        """Namespaces by name (each with its ``sockets``)."""


def metrics_options(value: bool | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Check the ``metrics`` option: None/False (off), True (``/metrics``), or a mapping
    with ``path`` and ``labels`` (constant labels on every sample).

    Raises:
        ConfigError: an unknown key, or a path that is not absolute.
    """
    if value is None or value is False:
        return None
    options: dict[str, Any] = {"path": "/metrics", "labels": {}}
    if value is not True:
        if not isinstance(value, Mapping):
            raise ConfigError(f"metrics: expected True or {{'path': '/metrics'}}, got {value!r}")
        unknown = set(value) - set(options)
        if unknown:
            raise ConfigError(f"metrics: unknown option(s) {sorted(unknown)} (path, labels)")
        options.update(value)
    path = options["path"]
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigError(f"metrics.path: expected an absolute URL path, got {path!r}")
    options["labels"] = {str(k): str(v) for k, v in dict(options["labels"]).items()}
    return options


class ServerMetrics:
    """One server's metrics: its observer, its registry, and the HTTP handler serving them.

    Args:
        source: the server.
        path: where they are served (the server mounts :meth:`handle` there).
        labels: constant labels put on every sample (``{"worker": "1"}``).

    Raises:
        MissingExtra: ``prometheus_client`` is not installed (``thinkio[metrics]``).
    """

    def __init__(
        self, source: MetricsSource, *, path: str = "/metrics", labels: Mapping[str, str] = {}
    ) -> None:
        self._prom = require("prometheus_client", "metrics")
        self.source = source
        self.path = path
        self.messages_received = 0
        self.bytes_received = 0
        self.messages_sent = 0
        self.bytes_sent = 0
        self.broadcasts = 0
        self._build(dict(labels))

    def _build(self, labels: dict[str, str]) -> None:
        prom = self._prom
        self.labels = labels
        self.registry = prom.CollectorRegistry(auto_describe=True)
        names = list(labels)
        values = list(labels.values())
        fanout = prom.Histogram(
            "thinkio_broadcast_recipients",
            "Local sockets reached by one broadcast.",
            names,
            registry=self.registry,
            buckets=FANOUT_BUCKETS,
        )
        acks = prom.Histogram(
            "thinkio_ack_latency_seconds",
            "Time a client took to answer the server's ack request.",
            names,
            registry=self.registry,
            buckets=ACK_BUCKETS,
        )
        self._fanout = fanout.labels(*values) if names else fanout
        self._acks = acks.labels(*values) if names else acks
        self.registry.register(_Collector(self, prom))
        self._exposition = prom.generate_latest
        self._content_type = prom.CONTENT_TYPE_LATEST.encode()

    def add_labels(self, labels: Mapping[str, str]) -> None:
        """Put more constant labels on every sample (a cluster worker adds
        ``worker="<n>"``). Call it before the server serves: the histograms start again."""
        self._build({**self.labels, **{str(k): str(v) for k, v in labels.items()}})

    # -- ServerObserver -----------------------------------------------------------------------

    def messages_in(self, count: int, size: int) -> None:
        self.messages_received += count
        self.bytes_received += size

    def messages_out(self, count: int, size: int) -> None:
        self.messages_sent += count
        self.bytes_sent += size

    def broadcast(self, recipients: int, messages: int, size: int) -> None:
        self.broadcasts += 1
        self.messages_sent += recipients * messages
        self.bytes_sent += recipients * size
        self._fanout.observe(recipients)

    def ack_answered(self, seconds: float) -> None:
        self._acks.observe(seconds)

    def event_sent(self, namespace: str, sid: str, args: list[Any]) -> None:
        pass  # counted by messages_out

    # -- exposition ---------------------------------------------------------------------------

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return bytes(self._exposition(self.registry))

    def handle(self, request: HttpRequest, exchange: HttpExchange) -> None:
        """The HTTP handler of :attr:`path`: GET (or HEAD) answers the text format."""
        if request.method not in ("GET", "HEAD"):
            exchange.respond(
                405,
                [(b"allow", b"GET, HEAD"), (b"content-type", b"text/plain; charset=utf-8")],
                b"Method Not Allowed",
            )
            return
        body = self.render()
        headers = [(b"content-type", self._content_type), (b"cache-control", b"no-store")]
        exchange.respond(200, headers, b"" if request.method == "HEAD" else body)


class _Collector:
    """Turns the server's state and the plain counters into samples, at scrape time."""

    def __init__(self, metrics: ServerMetrics, prom: Any) -> None:
        self.metrics = metrics
        self.core = prom.metrics_core

    def collect(self) -> Iterator[Any]:
        m = self.metrics
        core = self.core
        names = list(m.labels)
        values = list(m.labels.values())
        engine = m.source.engine

        def family(kind: Any, name: str, doc: str, value: float) -> Any:
            metric = kind(name, doc, labels=names)
            metric.add_metric(values, value)
            return metric

        by_transport = {"polling": 0, "websocket": 0}
        for esock in list(engine.sockets.values()):
            by_transport[esock.transport] = by_transport.get(esock.transport, 0) + 1
        connections = core.GaugeMetricFamily(
            "thinkio_connections",
            "Open Engine.IO sessions, by transport.",
            labels=[*names, "transport"],
        )
        for transport, count in sorted(by_transport.items()):
            connections.add_metric([*values, transport], count)
        yield connections
        yield family(
            core.CounterMetricFamily,
            "thinkio_connections_opened",
            "Engine.IO sessions opened.",
            engine.sessions_opened,
        )
        sockets = core.GaugeMetricFamily(
            "thinkio_sockets",
            "Sockets connected, by namespace.",
            labels=[*names, "namespace"],
        )
        for name, ns in sorted(m.source.namespaces.items()):
            sockets.add_metric([*values, name], len(ns.sockets))
        yield sockets
        counters = (
            ("thinkio_messages_received", "Engine.IO messages received.", m.messages_received),
            ("thinkio_bytes_received", "Bytes of the messages received.", m.bytes_received),
            (
                "thinkio_messages_sent",
                "Engine.IO messages queued (a broadcast counts once per recipient).",
                m.messages_sent,
            ),
            ("thinkio_bytes_sent", "Bytes of the messages queued.", m.bytes_sent),
            ("thinkio_broadcasts", "Broadcasts delivered on this server.", m.broadcasts),
            (
                "thinkio_slow_consumers_dropped",
                "Sessions closed because their outbox overflowed (a client not reading).",
                engine.slow_consumers_dropped,
            ),
        )
        for name, doc, value in counters:
            yield family(core.CounterMetricFamily, name, doc, value)
