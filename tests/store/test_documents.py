"""Entities map to one MongoDB document each, and back, losslessly."""

from __future__ import annotations

from typing import Any

import bson

from broker.ngsild.context import CORE
from broker.ngsild.parse import parse_entity
from broker.store.documents import dataset_key, encode_instance, from_document, to_document
from broker.store.keys import encode_key

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


def _reference_document(entity: dict[str, Any], rev: int) -> dict[str, Any]:
    """to_document as it was written first: every instance through _encode_instance."""
    attrs = entity["attrs"]
    doc: dict[str, Any] = {
        "_id": entity["id"],
        "type": entity["type"],
        "createdAt": entity["createdAt"],
        "modifiedAt": entity["modifiedAt"],
        "rev": rev,
        "attrNames": list(attrs),
        "attrs": {
            encode_key(iri): {dataset_key(i.get("datasetId")): encode_instance(i) for i in insts}
            for iri, insts in attrs.items()
        },
    }
    if "scope" in entity:
        doc["scope"] = entity["scope"]
    return doc


def test_to_document_fast_path_writes_the_same_bytes() -> None:
    """The inlined common case stores exactly what _encode_instance stores (BSON bytes
    compare member order too)."""
    entity = parse_entity(
        {
            "id": "urn:a:1",
            "type": ["T", "U"],
            "scope": "/a/b",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
            "p": {"type": "Property", "value": 1.5, "unitCode": "C", "observedAt": NOW},
            "q": [
                {"type": "Property", "value": "x"},
                {"type": "Property", "value": True, "datasetId": "urn:d:1.2"},
            ],
            "d": {"type": "Property", "value": {"$a": {"b.c": [1, {"%": 2}]}}},
            "l": {"type": "Property", "value": [1, "two"]},
            "r": {"type": "Relationship", "object": "urn:x:1", "objectType": "T"},
            "s": {"type": "Property", "value": 1, "https://ex.org/s.t": {"value": 2}},
            "lp": {"type": "LanguageProperty", "languageMap": {"en": "a"}},
            "lr": {"type": "ListRelationship", "objectList": ["urn:x:1"]},
            "https://ex.org/a.b$c": 3,
        },
        CORE,
        NOW,
    )
    entity["attrs"]["https://ex.org/none"] = [{"type": "Property", "value": None}]
    assert bson.encode(to_document(entity, 4)) == bson.encode(_reference_document(entity, 4))
    assert from_document(to_document(entity, 4)) == entity
