"""from_owned_document (the read path's decoder, which reuses the driver's dicts) gives
exactly what from_document gives, on documents as the driver returns them."""

from __future__ import annotations

import copy
from typing import Any

import bson
import orjson
import pytest

from broker.ngsild.context import CORE
from broker.ngsild.parse import parse_entity
from broker.store.documents import READ_PROJECTION, from_document, from_owned_document, to_document

NOW = "2026-01-01T00:00:00.000Z"

BODIES: list[dict[str, Any]] = [
    {"id": "urn:a:empty", "type": "T"},
    {"id": "urn:a:scoped", "type": ["T", "U"], "scope": ["/a/b", "/c"]},
    {
        "id": "urn:a:1",
        "type": "Vehicle",
        "speed": {"type": "Property", "value": 12, "unitCode": "KMH", "observedAt": NOW},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        "owner": {"type": "Relationship", "object": "urn:a:owner", "objectType": "Person"},
        "data": {"type": "JsonProperty", "json": {"$set": {"a.b": [1, {"%x": 2}]}}},
        "address": {"type": "Property", "value": {"street.name": "x", "$ref": ["y", {"z.": 1}]}},
        "tags": {"type": "ListProperty", "valueList": [1, "two", {"th.ree": 3}]},
        "label": {"type": "LanguageProperty", "languageMap": {"en": "car", "ja": "車"}},
        "category": {"type": "VocabProperty", "vocab": ["Retail", "Food"]},
        "friends": {"type": "ListRelationship", "objectList": [{"object": "urn:a:f"}]},
        "https://ex.org/dotted.name": {
            "type": "Property",
            "value": 1,
            "https://ex.org/sub.prop": {
                "type": "Property",
                "value": {"k.k": 1},
                "https://ex.org/subsub": {
                    "type": "GeoProperty",
                    "value": {"type": "Point", "coordinates": [3, 4]},
                },
            },
            "rel": {"type": "Relationship", "object": "urn:a:2"},
        },
        "temperature": [
            {"type": "Property", "value": 20},
            {"type": "Property", "value": 21, "datasetId": "urn:ds:1"},
            {"type": "Property", "value": [22, 23], "datasetId": "urn:ds:2.x"},
        ],
    },
]


def _as_read(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the driver hands it over: through BSON, with READ_PROJECTION."""
    read: dict[str, Any] = bson.decode(bson.encode(doc))
    return {k: v for k, v in read.items() if k not in READ_PROJECTION}


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b["id"])
def test_owned_decoding_equals_the_copying_one(body: dict[str, Any]) -> None:
    entity = parse_entity(body, CORE, NOW)
    doc = _as_read(to_document(entity, 7))
    expected = from_document(copy.deepcopy(doc))
    got = from_owned_document(doc)
    assert got == expected == entity
    # Same order too (it decides the order of the rendered members).
    assert orjson.dumps(got) == orjson.dumps(expected)


def test_projection_leaves_out_only_what_reads_never_use() -> None:
    entity = parse_entity(BODIES[2], CORE, NOW)
    full = bson.decode(bson.encode(to_document(entity, 3)))
    assert from_owned_document(_as_read(full)) == from_document(full)


def test_instances_without_attributes_are_skipped_like_from_document() -> None:
    doc = {"_id": "urn:a:b", "type": ["T"], "createdAt": NOW, "modifiedAt": NOW, "attrs": {"x": {}}}
    assert from_owned_document(copy.deepcopy(doc)) == from_document(doc)
    del doc["attrs"]
    assert from_owned_document(copy.deepcopy(doc)) == from_document(doc)
