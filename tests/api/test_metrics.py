"""GET /metrics: Prometheus text format, requests by route pattern, store latency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from broker.api import create_app
from broker.api.metrics import METRICS
from broker.metrics import NOTIFICATIONS_PENDING, NOTIFICATIONS_SENT, Metrics
from broker.settings import Settings

from .helpers import ENTITIES, JSON, vehicle

Client = Any

ENTITY_ROUTE = "/ngsi-ld/v1/entities/{entityId}"


async def scrape(client: Client) -> tuple[str, dict[tuple[str, frozenset[Any]], float]]:
    """The /metrics text, and its samples by (name, labels)."""
    r = await client.get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = await r.text()
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def value(samples: dict[tuple[str, frozenset[Any]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_by_route_pattern_and_status(client: Client) -> None:
    assert (await client.post(ENTITIES, json=vehicle(1), headers=JSON)).status == 201
    assert (await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")).status == 200
    assert (await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:404")).status == 404
    assert (await client.get(ENTITIES, params={"type": "Vehicle"})).status == 200
    assert (await client.get("/no/such/route")).status == 404

    text, samples = await scrape(client)
    requests = "kaido_http_requests_total"
    assert value(samples, requests, method="POST", route=ENTITIES, status="201") == 1
    assert value(samples, requests, method="GET", route=ENTITY_ROUTE, status="200") == 1
    assert value(samples, requests, method="GET", route=ENTITY_ROUTE, status="404") == 1
    assert value(samples, requests, method="GET", route=ENTITIES, status="200") == 1
    assert value(samples, requests, method="GET", route="unmatched", status="404") == 1
    # Route patterns, never raw paths: ids and unknown paths do not become series.
    assert "urn:ngsi-ld:Vehicle" not in text
    assert "/no/such/route" not in text

    latency = "kaido_http_request_duration_seconds_count"
    assert value(samples, latency, method="GET", route=ENTITY_ROUTE) == 2
    assert value(samples, latency, method="POST", route=ENTITIES) == 1
    assert value(samples, "kaido_http_request_duration_seconds_sum", method="POST", route=ENTITIES)


async def test_store_latency_is_observed(client: Client) -> None:
    assert (await client.post(ENTITIES, json=vehicle(1), headers=JSON)).status == 201
    assert (await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")).status == 200

    _, samples = await scrape(client)
    count = "kaido_store_command_duration_seconds_count"
    assert value(samples, count, command="insert", outcome="succeeded") >= 1
    assert value(samples, count, command="find", outcome="succeeded") >= 1
    assert (
        value(
            samples, "kaido_store_command_duration_seconds_sum", command="find", outcome="succeeded"
        )
        > 0
    )


async def test_notification_instruments_are_exposed(client: Client) -> None:
    _, before = await scrape(client)
    assert ("kaido_notifications_failed_total", frozenset({("channel", "mqtt")})) in before
    NOTIFICATIONS_SENT.labels(channel="http").inc()
    NOTIFICATIONS_PENDING.set(3)
    try:
        _, after = await scrape(client)
        sent = "kaido_notifications_sent_total"
        assert value(after, sent, channel="http") == value(before, sent, channel="http") + 1
        assert value(after, "kaido_notifications_pending") == 3
    finally:
        NOTIFICATIONS_PENDING.set(0)


async def test_process_series_and_the_metrics_route_itself(client: Client) -> None:
    await scrape(client)
    text, samples = await scrape(client)
    assert "python_info" in text
    requests = "kaido_http_requests_total"
    assert value(samples, requests, method="GET", route="/metrics", status="200") == 1


async def test_each_app_has_its_own_registry(
    aiohttp_client: Callable[..., Any], settings: Settings, mongo_uri: str
) -> None:
    apps = [create_app(settings, mongo_uri) for _ in range(3)]
    assert len({id(app[METRICS].registry) for app in apps}) == 3
    first, second = [await aiohttp_client(app) for app in apps[:2]]
    await first.get("/version")
    _, samples = await scrape(second)
    requests = "kaido_http_requests_total"
    assert value(samples, requests, method="GET", route="/version", status="200") == 0


def test_invented_methods_do_not_add_series() -> None:
    metrics = Metrics()
    metrics.observe_request("BREW", "unmatched", 405, 0.001)
    metrics.observe_request("PROPFIND", "unmatched", 405, 0.001)
    sample = 'kaido_http_requests_total{method="other",route="unmatched",status="405"} 2.0'
    assert sample in metrics.render().decode()
