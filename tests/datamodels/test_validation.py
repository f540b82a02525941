"""Validation reports: every violation, with a JSON pointer into the entity as given."""

from __future__ import annotations

from typing import Any

import pytest

from broker.datamodels import ModelRegistry

POINT = {"type": "Point", "coordinates": [135.8, 34.7]}


def paths(registry: ModelRegistry, entity: Any) -> dict[str, str]:
    return {e["path"]: e["message"] for e in registry.validate(entity)["errors"]}


def test_normalized_pointers(registry: ModelRegistry) -> None:
    entity = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "width": {"type": "Property", "value": 11, "unitCode": "MTR"},
        "openedAt": {"type": "Property", "value": {"@type": "DateTime", "@value": "today"}},
        "refWall": {"type": "Relationship", "object": "wall 1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1]}},
        "colour": {"type": "VocabProperty", "vocab": "blue"},
        "config": {"type": "JsonProperty", "json": {"other": 1}},
        "tags": {"type": "ListProperty", "valueList": ["ok", "too long"]},
        "members": {
            "type": "ListRelationship",
            "objectList": [{"object": "urn:ngsi-ld:Guard:1"}, {"object": "guard 2"}],
        },
        "label": {"type": "LanguageProperty", "languageMap": {"en": 3}},
    }
    assert paths(registry, entity) == {
        "/width/value": "11 is greater than the maximum of 10",
        "/openedAt/value/@value": "'today' is not a 'date-time'",
        "/refWall/object": "'wall 1' is not a 'uri'",
        "/location/value/coordinates": "[1] is too short",
        "/colour/vocab": "'blue' is not one of ['red', 'green']",
        "/config/json": "'mode' is a required property",
        "/tags/valueList/1": "'too long' is too long",
        "/members/objectList/1/object": "'guard 2' is not a 'uri'",
        "/label/languageMap/en": "3 is not of type 'string'",
    }


def test_concise_and_key_values_pointers(registry: ModelRegistry) -> None:
    concise = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "width": {"value": 11, "unitCode": "MTR"},
        "refWall": {"object": "wall 1"},
        "tags": ["ok", "too long"],
    }
    expected = {
        "/width/value": "11 is greater than the maximum of 10",
        "/refWall/object": "'wall 1' is not a 'uri'",
        "/tags/1": "'too long' is too long",
    }
    assert paths(registry, concise) == expected
    key_values = {**concise, "width": 11, "refWall": "wall 1"}
    assert paths(registry, key_values) == {
        "/width": "11 is greater than the maximum of 10",
        "/refWall": "'wall 1' is not a 'uri'",
        "/tags/1": "'too long' is too long",
    }


def test_every_instance_of_a_multi_instance_attribute(registry: ModelRegistry) -> None:
    entity = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "width": [
            {"type": "Property", "value": 12, "datasetId": "urn:ds:a"},
            {"type": "Property", "value": 11},
            {"type": "Property", "value": 5, "datasetId": "urn:ds:b"},
        ],
        "openedAt": "never",
    }
    assert paths(registry, entity) == {
        "/width/0/value": "12 is greater than the maximum of 10",
        "/width/1/value": "11 is greater than the maximum of 10",
        "/openedAt": "'never' is not a 'date-time'",
    }


def test_errors_are_in_document_order(registry: ModelRegistry) -> None:
    entity = {
        "type": "Gate",
        "width": {"type": "Property", "value": 11},
        "tags": [f"long-{i}" for i in range(12)],
        "colour": "blue",
    }
    result = registry.validate(entity)
    assert [e["path"] for e in result["errors"]] == [
        "",
        "/width/value",
        *[f"/tags/{i}" for i in range(12)],
        "/colour",
    ]
    assert result["errors"][0]["message"] == "'id' is a required property"
    assert registry.validate(entity) == result  # deterministic


def test_names_with_slash_and_tilde_are_escaped(registry: ModelRegistry) -> None:
    entity = {"id": "urn:x", "type": "Gate", "a/b~c": 1}
    registry.register("Gate", {"properties": {"a/b~c": {"type": "string"}}})
    assert paths(registry, entity) == {"/a~1b~0c": "1 is not of type 'string'"}


def test_closest_alternative_is_explained(registry: ModelRegistry) -> None:
    registry.register(
        "Gate",
        {
            "properties": {
                "location": {
                    "oneOf": [
                        {"properties": {"type": {"enum": ["Polygon"]}}, "required": ["type"]},
                        {
                            "properties": {
                                "type": {"enum": ["Point"]},
                                "coordinates": {"minItems": 2},
                            }
                        },
                    ]
                }
            }
        },
    )
    entity = {"id": "urn:x", "type": "Gate", "location": {"type": "Point", "coordinates": [1]}}
    [error] = registry.validate(entity)["errors"]
    assert error["path"] == "/location"
    assert error["message"].endswith("(closest match: [1] is too short at /location/coordinates)")


def test_ngsi_ld_structure_problems(registry: ModelRegistry) -> None:
    entity = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "width": {"type": "Property", "unitCode": "MTR"},
        "@context": [{"bad": 3}],
    }
    found = paths(registry, entity)
    assert found["/width"] == "a Property must have a 'value' member"
    assert found["/@context"].startswith("invalid '@context': ")


def test_duplicate_after_compaction(registry: ModelRegistry) -> None:
    entity = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "width": 1,
        "https://smartdatamodels.org/dataModel.City/width": 2,
    }
    assert paths(registry, entity) == {
        "/https:~1~1smartdatamodels.org~1dataModel.City~1width": (
            "'https://smartdatamodels.org/dataModel.City/width' is the same attribute as 'width'"
        )
    }


@pytest.mark.parametrize("entity", [[], "text", 3, None])
def test_not_an_object(registry: ModelRegistry, entity: Any) -> None:
    result = registry.validate(entity)
    assert result["valid"] is False
    assert result["type"] is None
    assert result["errors"][0]["path"] == ""
