"""Prometheus metrics: the instruments, and a registry per application.

HTTP requests and MongoDB commands are measured per app (``Metrics``, with a
CollectorRegistry of its own, so that tests building many apps do not collide). The
notification instruments are process-wide, so that delivery code can count without
reaching the app, and every app's registry exposes them::

    from broker.metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_PENDING, NOTIFICATIONS_SENT

    NOTIFICATIONS_SENT.labels(channel="http").inc()    # delivered (2xx, or published)
    NOTIFICATIONS_FAILED.labels(channel="mqtt").inc()  # one failed attempt (each retry counts)
    NOTIFICATIONS_PENDING.set(n)                       # waiting in the outbox

This module imports nothing of the broker, so any package may use it without cycles.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from pymongo import monitoring

__all__ = [
    "CONTENT_TYPE",
    "NOTIFICATIONS_FAILED",
    "NOTIFICATIONS_PENDING",
    "NOTIFICATIONS_SENT",
    "Metrics",
    "StoreListener",
]

#: Prometheus text exposition format 0.0.4, which every scraper reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: Channels of notification endpoints (their series exist, at 0, before the first one).
CHANNELS = ("http", "mqtt")

# Methods are a label: anything outside these is counted as "other", so that a client
# inventing methods cannot add series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Store commands take from ~0.1 ms (an indexed find on a warm server) to seconds.
_STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

# registry=None: created once per process, registered in each app's registry below.
NOTIFICATIONS_SENT = Counter(
    "kaido_notifications_sent",
    "Notifications delivered: the endpoint answered 2xx (HTTP) or took the message (MQTT)",
    ["channel"],
    registry=None,
)
NOTIFICATIONS_FAILED = Counter(
    "kaido_notifications_failed",
    "Failed notification delivery attempts (each retry counts once)",
    ["channel"],
    registry=None,
)
NOTIFICATIONS_PENDING = Gauge(
    "kaido_notifications_pending",
    "Notifications waiting in the outbox for delivery",
    registry=None,
)
for _channel in CHANNELS:
    NOTIFICATIONS_SENT.labels(channel=_channel)
    NOTIFICATIONS_FAILED.labels(channel=_channel)


class StoreListener(monitoring.CommandListener):
    """PyMongo command monitoring: the latency of every command the driver sends."""

    def __init__(self, seconds: Histogram) -> None:
        self._seconds = seconds
        # (command, outcome) -> its child: labels() takes a lock and builds tuples, and
        # this runs for every command. Bounded: the driver's command names are a fixed set.
        self._children: dict[tuple[str, str], Histogram] = {}

    def _observe(self, command: str, outcome: str, micros: int) -> None:
        key = (command, outcome)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._seconds.labels(command, outcome)
        child.observe(micros / 1e6)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._observe(event.command_name, "succeeded", event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._observe(event.command_name, "failed", event.duration_micros)


class Metrics:
    """The instruments of one application, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kaido_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "kaido_http_request_duration_seconds",
            "Time to handle an HTTP request, until the handler returns its response",
            ["method", "route"],
            registry=self.registry,
        )
        self.store_seconds = Histogram(
            "kaido_store_command_duration_seconds",
            "Latency of MongoDB commands (PyMongo command monitoring), by command and outcome",
            ["command", "outcome"],
            buckets=_STORE_BUCKETS,
            registry=self.registry,
        )
        for shared in (NOTIFICATIONS_SENT, NOTIFICATIONS_FAILED, NOTIFICATIONS_PENDING):
            self.registry.register(shared)
        # The usual process_* and python_* series (CPU, memory, open files, GC).
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(GC_COLLECTOR)
        #: To give to the MongoDB client (``connect(uri, event_listeners=[...])``).
        self.store_listener = StoreListener(self.store_seconds)
        #: (method, route, status) -> the children of requests and request_seconds, so
        #: that a request costs two dict lookups rather than two labels() calls.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            # Bounded like the series themselves: methods, route patterns and statuses.
            children = self._request_children[key] = (
                self.requests.labels(method, route, str(status)),
                self.request_seconds.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """Every series, in the text format of CONTENT_TYPE."""
        return generate_latest(self.registry)
