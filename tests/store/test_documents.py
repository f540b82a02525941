"""Entities map to one MongoDB document each, and back, losslessly."""

from __future__ import annotations

from broker.ngsild.context import CORE
from broker.ngsild.parse import parse_entity
from broker.store.documents import from_document, to_document

NOW = "2026-01-01T00:00:00.000Z"


def test_round_trip_and_geometry_path() -> None:
    entity = parse_entity(
        {
            "id": "urn:a:1",
            "type": "T",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
            "data": {"type": "JsonProperty", "json": {"$set": {"a.b": 1}}},
            "p": {
                "type": "Property",
                "value": 1,
                "https://ex.org/q.r": {"type": "Property", "value": 2},
            },
        },
        CORE,
        NOW,
    )
    doc = to_document(entity, 3)
    assert doc["_id"] == "urn:a:1" and doc["rev"] == 3
    loc = doc["attrs"]["https://uri%2Eetsi%2Eorg/ngsi-ld/location"]["@none"]
    assert loc["geo"] == {"type": "Point", "coordinates": [1, 2]} and "value" not in loc
    assert "https://uri.etsi.org/ngsi-ld/location" in doc["attrNames"]
    assert from_document(doc) == entity
