"""Subscription payloads: checks, defaults, merge and read-back (clauses 5.2.12, 5.8)."""

from __future__ import annotations

from typing import Any

import pytest

from broker.ngsild.context import CORE, CORE_CONTEXT_URL, build_context
from broker.ngsild.errors import BadRequestData
from broker.ngsild.subscription import (
    context_link_url,
    merge_subscription,
    parse_subscription,
    render_subscription,
    subscription_status,
)

NOW = "2026-11-27T09:00:00.000Z"
CTX = build_context({"Vehicle": "https://example.org/Vehicle", "speed": "https://ex.org/s"}, {})


def body(**members: Any) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://h/n"}},
        **members,
    }


def test_defaults_and_generated_id() -> None:
    """Clause 5.8.1.4: a generated id; clause 5.2.12: default notificationTrigger."""
    sub = parse_subscription(body(), CORE, NOW, "urn:ngsi-ld:Subscription:x")
    assert sub == {
        "id": "urn:ngsi-ld:Subscription:x",
        "type": "Subscription",
        "entities": [{"type": "https://uri.etsi.org/ngsi-ld/default-context/Vehicle"}],
        "notificationTrigger": ["attributeCreated", "attributeUpdated"],
        "notification": {"endpoint": {"uri": "http://h/n"}},
    }


def test_names_expanded_and_compacted() -> None:
    """Clause 5.8.1: names are expanded with the @context, compacted again on read."""
    sub = parse_subscription(
        body(
            watchedAttributes=["speed"],
            notification={"endpoint": {"uri": "http://h/n"}, "attributes": ["speed"]},
        ),
        CTX,
        NOW,
        "urn:x:1",
    )
    assert sub["entities"] == [{"type": "https://example.org/Vehicle"}]
    assert sub["watchedAttributes"] == ["https://ex.org/s"]
    out = render_subscription(sub, CTX, {"timesSent": 2, "status": "ok"}, NOW)
    assert out["entities"] == [{"type": "Vehicle"}]
    assert out["notification"]["attributes"] == ["speed"]
    assert out["notification"]["timesSent"] == 2 and out["notification"]["status"] == "ok"
    assert "timesFailed" not in out["notification"]
    assert out["status"] == "active"


def test_mqtt_qos_number_is_kept_as_text() -> None:
    """TP 058_02 sends MQTT-QoS as a number: it is accepted (and stored as text)."""
    endpoint = {"uri": "mqtt://h/topic", "notifierInfo": [{"key": "MQTT-QoS", "value": 1}]}
    sub = parse_subscription(body(notification={"endpoint": endpoint}), CORE, NOW, "urn:x:1")
    assert sub["notification"]["endpoint"]["notifierInfo"] == [{"key": "MQTT-QoS", "value": "1"}]


def test_percent_encoded_q_is_accepted() -> None:
    """TP 046_05 sends q percent-encoded in the body (name=="Eiffel%20Tower")."""
    sub = parse_subscription(body(q='name=="Eiffel%20Tower"'), CORE, NOW, "urn:x:1")
    assert sub["q"] == 'name=="Eiffel%20Tower"'


@pytest.mark.parametrize(
    "members",
    [
        {"q": "a{b}==1"},  # linked entities are not supported in subscriptions
        {"csf": "x"},
        {"notification": {"endpoint": {"uri": "http://h/n"}, "pick": ["a"]}},
        {"entities": [{"type": "Vehicle", "foo": 1}]},
        {"geoQ": {"georel": "within", "geometry": "Point", "coordinates": [1, 2], "x": 1}},
    ],
)
def test_refused(members: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData):
        parse_subscription(body(**members), CORE, NOW, "urn:x:1")


def test_geo_query_is_checked_and_kept() -> None:
    """Clause 5.2.13: geoQ members as in a query; coordinates may be a JSON string."""
    geo = {"georel": "near;maxDistance==100", "geometry": "Point", "coordinates": "[1,2]"}
    sub = parse_subscription(body(geoQ=geo), CORE, NOW, "urn:x:1")
    assert sub["geoQ"] == {
        "georel": "near;maxDistance==100",
        "geometry": "Point",
        "coordinates": [1, 2],
        "geoproperty": "https://uri.etsi.org/ngsi-ld/location",
    }
    assert render_subscription(sub, CORE, {}, NOW)["geoQ"]["geoproperty"] == "location"


def test_merge() -> None:
    """Clause 5.8.2: members replaced, null removes, notification merged per member."""
    sub = parse_subscription(body(throttling=2), CORE, NOW, "urn:x:1")
    merged = merge_subscription(
        sub, {"throttling": None, "notification": {"format": "concise"}}, CORE, NOW
    )
    assert "throttling" not in merged
    assert merged["notification"] == {"endpoint": {"uri": "http://h/n"}, "format": "concise"}
    with pytest.raises(BadRequestData):
        merge_subscription(sub, {"entities": None}, CORE, NOW)  # nothing would be selected
    with pytest.raises(BadRequestData):
        merge_subscription(sub, {"notification": None}, CORE, NOW)
    with pytest.raises(BadRequestData):
        merge_subscription(sub, {"id": "urn:x:2"}, CORE, NOW)
    with pytest.raises(BadRequestData):
        merge_subscription(sub, {"nonsense": None}, CORE, NOW)
    again = merge_subscription(
        {**sub, "notificationTrigger": ["entityCreated"]},
        {"notificationTrigger": None},
        CORE,
        NOW,
    )
    assert again["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]


def test_status() -> None:
    """Clause 5.2.12: expired past expiresAt (whatever isActive), paused if not active."""
    sub = parse_subscription(body(expiresAt="2026-11-27T10:00:00Z"), CORE, NOW, "urn:x:1")
    assert subscription_status(sub, NOW) == "active"
    assert subscription_status({**sub, "isActive": False}, NOW) == "paused"
    assert subscription_status(sub, "2026-11-27T10:00:00.001Z") == "expired"


def test_context_link_url() -> None:
    assert context_link_url(None) == CORE_CONTEXT_URL
    assert context_link_url("https://x/c.jsonld") == "https://x/c.jsonld"
    assert context_link_url(["https://x/c.jsonld", CORE_CONTEXT_URL]) == "https://x/c.jsonld"
    assert context_link_url([CORE_CONTEXT_URL]) == CORE_CONTEXT_URL
    assert context_link_url({"a": "https://x/a"}) is None
    assert context_link_url(["https://x/a", "https://x/b"]) is None
