"""Projection of every NGSI-LD representation onto the keyValues shape of the schemas."""

from __future__ import annotations

from typing import Any

import pytest

from broker.datamodels import project_to_key_values
from broker.ngsild.context import CORE
from broker.ngsild.parse import parse_entity
from broker.ngsild.render import Format, RenderOptions, render_entity

NOW = "2026-01-02T03:04:05.678Z"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
POINT = {"type": "Point", "coordinates": [135.8, 34.7]}

NORMALIZED: dict[str, Any] = {
    "id": "urn:ngsi-ld:Gate:1",
    "type": "Gate",
    "name": {"type": "Property", "value": "North gate", "observedAt": "2026-01-01T00:00:00Z"},
    "width": {"type": "Property", "value": 4.5, "unitCode": "MTR", "accuracy": {"value": 0.1}},
    "refWall": {"type": "Relationship", "object": "urn:ngsi-ld:Wall:1"},
    "location": {"type": "GeoProperty", "value": POINT},
    "label": {"type": "LanguageProperty", "languageMap": {"en": "gate", "ja": "門"}},
    "colour": {"type": "VocabProperty", "vocab": "red"},
    "config": {"type": "JsonProperty", "json": {"mode": "auto"}},
    "tags": {"type": "ListProperty", "valueList": ["a", "b"]},
    "members": {
        "type": "ListRelationship",
        "objectList": [{"object": "urn:ngsi-ld:Guard:1"}, {"object": "urn:ngsi-ld:Guard:2"}],
    },
    "@context": ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"],
}
KEY_VALUES: dict[str, Any] = {
    "id": "urn:ngsi-ld:Gate:1",
    "type": "Gate",
    "name": "North gate",
    "width": 4.5,
    "refWall": "urn:ngsi-ld:Wall:1",
    "location": POINT,
    "label": {"en": "gate", "ja": "門"},
    "colour": "red",
    "config": {"mode": "auto"},
    "tags": ["a", "b"],
    "members": ["urn:ngsi-ld:Guard:1", "urn:ngsi-ld:Guard:2"],
}


def test_normalized() -> None:
    assert project_to_key_values(NORMALIZED) == KEY_VALUES


def test_concise() -> None:
    concise = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": "Gate",
        "name": "North gate",
        "width": {"value": 4.5, "unitCode": "MTR"},
        "refWall": {"object": "urn:ngsi-ld:Wall:1"},
        "location": POINT,
        "label": {"languageMap": {"en": "gate", "ja": "門"}},
        "colour": {"vocab": "red"},
        "config": {"json": {"mode": "auto"}},
        "tags": {"valueList": ["a", "b"]},
        "members": {"objectList": [{"object": "urn:ngsi-ld:Guard:1"}, "urn:ngsi-ld:Guard:2"]},
    }
    assert project_to_key_values(concise) == KEY_VALUES


def test_key_values_and_plain_json_stay_as_they_are() -> None:
    plain = {
        **KEY_VALUES,
        "address": {"type": "PostalAddress", "addressLocality": "Nara"},
        "configuration": [{"parameter": "p", "value": "v"}],
        "reading": {"value": 3, "quality": "good"},
    }
    assert project_to_key_values(plain) == plain
    with_context = {**plain, "@context": "https://example.org/context.jsonld"}
    assert project_to_key_values(with_context) == plain


@pytest.mark.parametrize("fmt", ["normalized", "concise", "keyValues"])
def test_every_rendering_of_the_broker_projects_alike(fmt: Format) -> None:
    """What the broker itself serves, in each representation, projects to the same."""
    entity = parse_entity(NORMALIZED, CORE, NOW)
    rendered = render_entity(entity, CORE, RenderOptions(format=fmt, sys_attrs=True))
    assert project_to_key_values(rendered) == KEY_VALUES


def test_json_ld_value_objects_are_unwrapped() -> None:
    entity = {
        "id": "urn:x",
        "type": "Gate",
        "openedAt": {
            "type": "Property",
            "value": {"@type": "DateTime", "@value": "2026-01-01T00:00:00Z"},
        },
        "history": {"type": "Property", "value": [{"@value": 1}, {"at": {"@value": 2}}]},
    }
    assert project_to_key_values(entity) == {
        "id": "urn:x",
        "type": "Gate",
        "openedAt": "2026-01-01T00:00:00Z",
        "history": [1, {"at": 2}],
    }


def test_context_and_system_members_are_dropped() -> None:
    entity = {
        "id": "urn:x",
        "type": "Gate",
        "createdAt": NOW,
        "modifiedAt": NOW,
        "name": {"type": "Property", "value": "n", "createdAt": NOW},
        "@context": {"name": "https://example.org/name"},
    }
    assert project_to_key_values(entity) == {"id": "urn:x", "type": "Gate", "name": "n"}


def test_expanded_names_are_compacted() -> None:
    """Back to the short name when a context has one; otherwise kept as given."""
    entity = {
        "@id": "urn:x",
        "@type": f"{DEFAULT}Gate",
        f"{DEFAULT}width": {"type": "Property", "value": 1},
        "https://uri.etsi.org/ngsi-ld/location": {"type": "GeoProperty", "value": POINT},
        "ex:height": {"type": "Property", "value": 2},
        "@context": {"ex": "https://example.org/"},
        "https://example.org/depth": {"type": "Property", "value": 3},
    }
    assert project_to_key_values(entity) == {
        "id": "urn:x",
        "type": "Gate",
        "width": 1,
        "location": POINT,
        "ex:height": 2,
        "https://example.org/depth": 3,
    }


def test_multi_instance_attributes_project_to_the_default_instance() -> None:
    normalized = {
        "id": "urn:x",
        "type": "Gate",
        "width": [
            {"type": "Property", "value": 2, "datasetId": "urn:ds:1"},
            {"type": "Property", "value": 1},
        ],
    }
    key_values = {"id": "urn:x", "type": "Gate", "width": {"dataset": {"urn:ds:1": 2, "@none": 1}}}
    expected = {"id": "urn:x", "type": "Gate", "width": 1}
    assert project_to_key_values(normalized) == expected
    assert project_to_key_values(key_values) == expected


def test_geometry_sent_as_a_json_string() -> None:
    entity = {
        "id": "urn:x",
        "type": "Gate",
        "location": {"type": "GeoProperty", "value": '{"type": "Point", "coordinates": [1, 2]}'},
    }
    assert project_to_key_values(entity)["location"] == {"type": "Point", "coordinates": [1, 2]}


def test_single_type_array_becomes_a_string() -> None:
    assert project_to_key_values({"id": "urn:x", "type": ["Gate"]})["type"] == "Gate"
    assert project_to_key_values({"id": "urn:x", "type": ["A", "B"]})["type"] == ["A", "B"]


def test_not_an_object() -> None:
    with pytest.raises(TypeError):
        project_to_key_values([])  # type: ignore[arg-type]
