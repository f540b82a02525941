"""Matching changes to subscriptions and building notifications (clauses 4.9, 4.10, 4.19,
5.2.12, 5.3.1, 5.8.6), as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from broker.ngsild.changes import EntityChange
from broker.ngsild.context import CORE, CORE_CONTEXT_URL
from broker.ngsild.errors import BadRequestData
from broker.ngsild.geomatch import geo_matches
from broker.ngsild.geoquery import parse_geoquery
from broker.ngsild.matching import (
    Compiled,
    SubscriptionIndex,
    attribute_diff,
    compile_subscription,
    match_change,
)
from broker.ngsild.model import Entity
from broker.ngsild.notification import Delivery, change_data, envelope
from broker.ngsild.parse import parse_entity
from broker.ngsild.q import parse_q
from broker.ngsild.qmatch import q_matches
from broker.ngsild.scopes import check_scope_query, scope_query_matches
from broker.ngsild.subscription import parse_subscription

NOW = "2026-11-27T09:00:00.000Z"
LATER = "2026-11-27T09:00:01.000Z"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"


def entity(**attrs: Any) -> Entity:
    return parse_entity({"id": "urn:ngsi-ld:V:1", "type": "V", **attrs}, CORE, NOW)


def compiled(**members: Any) -> Compiled:
    notification = {"endpoint": {"uri": "http://h/n"}, **members.pop("notification", {})}
    body = {"type": "Subscription", "entities": [{"type": "V"}], **members}
    body["notification"] = notification
    sub = parse_subscription(body, CORE, NOW, "urn:ngsi-ld:Subscription:1")
    return compile_subscription(None, sub, 1, CORE, CORE, None)


def change(old: Entity | None, new: Entity | None) -> EntityChange:
    return EntityChange(None, "urn:ngsi-ld:V:1", old, new)


def reason(c: Compiled, old: Entity | None, new: Entity | None) -> str | None:
    return match_change(c, change(old, new), attribute_diff(old, new), NOW)


# -- q (clause 4.9) ----------------------------------------------------------------------

E = entity(
    speed={"type": "Property", "value": 80, "observedAt": "2026-11-27T08:00:00Z"},
    name="Eiffel Tower",
    tags={"type": "Property", "value": ["a", "b"]},
    address={"type": "Property", "value": {"city": "Nara", "zip": "630"}},
    owner={"type": "Relationship", "object": "urn:ngsi-ld:P:1"},
    level={"type": "Property", "value": 3, "accuracy": {"type": "Property", "value": 0.5}},
)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("speed>50", True),
        ("speed>=80;speed<=80", True),
        ("speed<50", False),
        ("speed==70..90", True),
        ("speed==1,2,80", True),
        ("speed!=80", False),
        ("speed!=81", True),
        ('name=="Eiffel Tower"', True),
        ('name~="Eif+el"', True),
        ('name!~="^Tour"', True),
        ("tags==b", True),
        ("address[city]==Nara", True),
        ('address[zip]=="630"', True),
        ("owner==urn:ngsi-ld:P:1", True),
        ("level.accuracy<1", True),
        ("speed.observedAt>2026-11-27T07:59:00Z", True),
        ("speed.observedAt>2026-11-27T08:00:00.000Z", False),
        ("colour", False),
        ("!colour", True),
        ("colour==red|speed>70", True),
        ("(colour==red|speed>70);name", True),
        ('speed=="80"', False),
    ],
)
def test_q_in_memory(q: str, expected: bool) -> None:
    assert q_matches(parse_q(q, CORE), E) is expected


# -- geoQ (clause 4.10) ------------------------------------------------------------------

POINT = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [135.80, 34.68]}}
SQUARE = [[[135.7, 34.6], [135.9, 34.6], [135.9, 34.8], [135.7, 34.8], [135.7, 34.6]]]


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "expected"),
    [
        ("near;maxDistance==2000", "Point", [135.81, 34.68], True),
        ("near;maxDistance==500", "Point", [135.81, 34.68], False),
        ("near;minDistance==500", "Point", [135.81, 34.68], True),
        ("within", "Polygon", SQUARE, True),
        ("intersects", "Polygon", SQUARE, True),
        ("disjoint", "Polygon", SQUARE, False),
        ("equals", "Point", [135.80, 34.68], True),
        ("within", "Polygon", [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]], False),
    ],
)
def test_geo_in_memory(georel: str, geometry: str, coordinates: Any, expected: bool) -> None:
    query = parse_geoquery(georel, geometry, coordinates, None, CORE.expand)
    assert query is not None
    assert geo_matches(query, entity(location=POINT)) is expected
    assert geo_matches(query, entity()) is False  # no location: never matches


# -- scopeQ (clause 4.19) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("/Nara/Park", True),
        ("/Nara/#", True),
        ("/Nara/+", True),
        ("/Kyoto,/Nara/Park", True),
        ("/Nara;/Kyoto/#", False),
        ("/#", True),
        ("/Nara", False),
    ],
)
def test_scope_query(q: str, expected: bool) -> None:
    check_scope_query(q)
    assert scope_query_matches(q, ["/Nara/Park"]) is expected
    assert scope_query_matches(q, None) is False


def test_scope_query_syntax() -> None:
    with pytest.raises(BadRequestData):
        check_scope_query("Nara/Park")


# -- triggers (clause 5.2.12) ------------------------------------------------------------


def test_default_triggers() -> None:
    """attributeCreated and attributeUpdated by default: creation counts as the former."""
    c = compiled()
    old = entity(speed=1)
    assert reason(c, None, old) == "attributeCreated"
    assert reason(c, old, entity(speed=2)) == "attributeUpdated"
    assert reason(c, old, None) is None
    assert reason(c, old, entity()) is None  # only a deletion


def test_entity_triggers() -> None:
    c = compiled(notificationTrigger=["entityCreated", "entityDeleted", "entityUpdated"])
    old = entity(speed=1)
    assert reason(c, None, old) == "entityCreated"
    assert reason(c, old, entity(speed=2)) == "entityUpdated"
    assert reason(c, old, None) == "entityDeleted"


def test_watched_attributes_and_attribute_deleted() -> None:
    """watchedAttributes: only their changes count; attributeDeleted on entity deletion."""
    c = compiled(watchedAttributes=["speed"], notificationTrigger=["attributeDeleted"])
    old = entity(speed=1, colour="red")
    assert reason(c, old, entity(speed=1)) is None  # colour went, not watched
    assert reason(c, old, entity(colour="red")) == "attributeDeleted"
    assert reason(c, old, None) == "attributeDeleted"


def test_selectors_q_status() -> None:
    c = compiled(entities=[{"type": "V", "idPattern": "^urn:ngsi-ld:V:[0-9]$"}], q="speed>5")
    assert reason(c, None, entity(speed=9)) == "attributeCreated"
    assert reason(c, None, entity(speed=1)) is None
    other = compiled(entities=[{"type": "V", "id": "urn:ngsi-ld:V:2"}])
    assert reason(other, None, entity(speed=9)) is None
    paused = compiled(isActive=False)
    assert reason(paused, None, entity(speed=9)) is None
    expiring = compiled(expiresAt="2026-11-27T09:00:00.500Z")
    assert (
        match_change(expiring, change(None, entity(a=1)), attribute_diff(None, entity(a=1)), LATER)
        is None
    )


def test_index_candidates() -> None:
    """Only subscriptions indexed under the entity's types or changed attributes."""
    index = SubscriptionIndex()
    by_type = compiled()
    body = {
        "type": "Subscription",
        "watchedAttributes": ["speed"],
        "notification": {"endpoint": {"uri": "http://h/n"}},
    }
    sub = parse_subscription(body, CORE, NOW, "urn:ngsi-ld:Subscription:2")
    by_attr = compile_subscription(None, sub, 1, CORE, CORE, None)
    index.put(by_type)
    index.put(by_attr)
    new = entity(speed=1)
    assert {c.id for c in index.candidates(change(None, new), attribute_diff(None, new))} == {
        by_type.id,
        by_attr.id,
    }
    w = parse_entity({"id": "urn:x:W", "type": "W", "colour": 1}, CORE, NOW)
    assert index.candidates(EntityChange(None, "urn:x:W", None, w), attribute_diff(None, w)) == []
    other_tenant = EntityChange("t2", "urn:ngsi-ld:V:1", None, new)
    assert index.candidates(other_tenant, attribute_diff(None, new)) == []
    index.remove(None, by_type.id)
    assert len(index) == 1


# -- notification data (clause 5.3.1, ETSI TP 046_22 / 046_3x expectations) -------------


def test_attribute_deleted_key_values() -> None:
    """TP 046_22_01: keyValues shows the deleted attribute as "urn:ngsi-ld:null"."""
    c = compiled(notification={"format": "keyValues"}, notificationTrigger=["attributeDeleted"])
    old, new = entity(speed=1, name="x"), entity(speed=1)
    data = change_data(c, change(old, new), attribute_diff(old, new), "attributeDeleted", NOW)
    assert data == {"id": "urn:ngsi-ld:V:1", "type": "V", "speed": 1, "name": "urn:ngsi-ld:null"}


def test_language_property_deleted() -> None:
    """TP 046_35: a deleted LanguageProperty is {"@none": "urn:ngsi-ld:null"}."""
    c = compiled(notification={"showChanges": True})
    street = {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place"}}
    old, new = entity(street=street), entity()
    data = change_data(c, change(old, new), attribute_diff(old, new), "attributeDeleted", NOW)
    assert data["street"] == {
        "type": "LanguageProperty",
        "languageMap": {"@none": "urn:ngsi-ld:null"},
        "previousLanguageMap": {"fr": "Grand Place"},
    }


def test_entity_deleted_sys_attrs_and_watched() -> None:
    """TP 046_22_12: on deletion, attributeDeleted shows only the watched attributes,
    with deletedAt (and createdAt/modifiedAt with sysAttrs)."""
    c = compiled(
        watchedAttributes=["name"],
        notificationTrigger=["attributeDeleted"],
        notification={"sysAttrs": True},
    )
    old = entity(name="x", speed=1)
    data = change_data(c, change(old, None), attribute_diff(old, None), "attributeDeleted", LATER)
    assert data == {
        "id": "urn:ngsi-ld:V:1",
        "type": "V",
        "createdAt": NOW,
        "modifiedAt": NOW,
        "deletedAt": LATER,
        "name": {
            "type": "Property",
            "value": "urn:ngsi-ld:null",
            "createdAt": NOW,
            "modifiedAt": NOW,
            "deletedAt": LATER,
        },
    }


def test_dataset_id_selection() -> None:
    """Clause 5.2.12 datasetId: only those instances are notified."""
    c = compiled(datasetId=["urn:ngsi-ld:Dataset:fr"])
    new = entity(
        name=[
            {"type": "Property", "value": "fr", "datasetId": "urn:ngsi-ld:Dataset:fr"},
            {"type": "Property", "value": "en", "datasetId": "urn:ngsi-ld:Dataset:en"},
        ]
    )
    data = change_data(c, change(None, new), attribute_diff(None, new), "attributeCreated", NOW)
    assert data["name"] == {
        "type": "Property",
        "value": "fr",
        "datasetId": "urn:ngsi-ld:Dataset:fr",
    }


def _delivery(endpoint: dict[str, Any], context: object, tenant: str | None) -> Delivery:
    notification = {
        "id": "urn:n:1",
        "type": "Notification",
        "subscriptionId": "urn:s:1",
        "data": [],
        "triggerReason": "entityCreated",
    }
    return Delivery("urn:n:1", tenant, "urn:s:1", "k", "s", endpoint, context, notification)


def test_envelope() -> None:
    """Clause 6.3.5: Link for application/json, @context in the body for ld+json;
    receiverInfo and the tenant as headers; notifiedAt after subscriptionId."""
    headers, body = envelope(_delivery({"uri": "http://h/n"}, None, None), NOW)
    assert headers == {
        "Content-Type": "application/json",
        "Link": f'<{CORE_CONTEXT_URL}>; rel="http://www.w3.org/ns/json-ld#context"; '
        'type="application/ld+json"',
    }
    assert list(body) == ["id", "type", "subscriptionId", "notifiedAt", "data", "triggerReason"]
    endpoint = {
        "uri": "http://h/n",
        "accept": "application/ld+json",
        "receiverInfo": [{"key": "X-Key", "value": "v"}],
    }
    headers, body = envelope(_delivery(endpoint, ["https://x/c"], "nara"), NOW)
    assert headers == {"Content-Type": "application/ld+json", "X-Key": "v", "NGSILD-Tenant": "nara"}
    assert body["@context"] == ["https://x/c"]


def test_per_entity_subscriptions_are_indexed_by_id() -> None:
    """Thousands of subscriptions on single entities of one type: an update of one entity
    considers only its own subscriptions (matching must not scan them all)."""
    index = SubscriptionIndex()
    for n in range(2000):
        body = {
            "type": "Subscription",
            "entities": [{"type": "V", "id": f"urn:ngsi-ld:V:{n}"}],
            "notification": {"endpoint": {"uri": "http://h/n"}},
        }
        sub = parse_subscription(body, CORE, NOW, f"urn:ngsi-ld:Subscription:e{n}")
        index.put(compile_subscription(None, sub, 1, CORE, CORE, None))
    index.put(compiled())  # urn:ngsi-ld:Subscription:1, on the whole type
    new = entity(speed=1)  # urn:ngsi-ld:V:1
    found = index.candidates(change(None, new), attribute_diff(None, new))
    assert {c.id for c in found} == {"urn:ngsi-ld:Subscription:e1", "urn:ngsi-ld:Subscription:1"}
