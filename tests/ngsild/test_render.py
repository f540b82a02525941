"""Rendering in the normalized, concise and keyValues representations (clause 4.5)."""

from __future__ import annotations

from typing import Any

from broker.ngsild.context import CORE, build_context
from broker.ngsild.parse import parse_entity
from broker.ngsild.render import RenderOptions, render_entity

NOW = "2026-01-02T03:04:05.678Z"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"

BODY: dict[str, Any] = {
    "id": "urn:ngsi-ld:Shop:1",
    "type": "Shop",
    "name": {"type": "Property", "value": "Kaido"},
    "address": {"type": "Property", "value": {"city": "Nara"}},
    "temp": {"type": "Property", "value": 20, "unitCode": "CEL"},
    "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
    "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [135.8, 34.7]}},
    "label": {"type": "LanguageProperty", "languageMap": {"en": "shop", "ja": "店"}},
    "category": {"type": "VocabProperty", "vocab": "Retail"},
}


def entity() -> dict[str, Any]:
    return parse_entity(BODY, CORE, NOW)


def test_normalized_round_trips_the_input() -> None:
    """Clause 4.5.1: normalized output is what was sent (no sysAttrs by default)."""
    assert render_entity(entity(), CORE, RenderOptions()) == BODY


def test_sys_attrs_add_created_and_modified_at() -> None:
    """Clause 4.8: options=sysAttrs adds createdAt/modifiedAt to entity and attributes."""
    out = render_entity(entity(), CORE, RenderOptions(sys_attrs=True))
    assert out["createdAt"] == out["modifiedAt"] == NOW
    assert out["name"]["createdAt"] == NOW


def test_concise_drops_what_is_implied() -> None:
    """Clause 4.5.21: concise keeps only what is needed to read the attribute back."""
    out = render_entity(entity(), CORE, RenderOptions(format="concise"))
    assert out["name"] == "Kaido"
    assert out["address"] == {"value": {"city": "Nara"}}
    assert out["temp"] == {"value": 20, "unitCode": "CEL"}
    assert out["owner"] == {"object": "urn:ngsi-ld:Person:1"}
    assert out["location"] == {"type": "Point", "coordinates": [135.8, 34.7]}
    assert out["label"] == {"languageMap": {"en": "shop", "ja": "店"}}
    assert out["category"] == {"vocab": "Retail"}


def test_concise_output_parses_back_to_the_same_entity() -> None:
    concise = render_entity(entity(), CORE, RenderOptions(format="concise"))
    assert parse_entity(concise, CORE, NOW) == entity()


def test_key_values() -> None:
    """Clause 4.5.3: keyValues maps each attribute to its value only."""
    out = render_entity(entity(), CORE, RenderOptions(format="keyValues"))
    assert out == {
        "id": "urn:ngsi-ld:Shop:1",
        "type": "Shop",
        "name": "Kaido",
        "address": {"city": "Nara"},
        "temp": 20,
        "owner": "urn:ngsi-ld:Person:1",
        "location": {"type": "Point", "coordinates": [135.8, 34.7]},
        "label": {"languageMap": {"en": "shop", "ja": "店"}},
        "category": {"vocab": "Retail"},
    }


def test_key_values_of_multi_instance_attributes() -> None:
    """Multi-instance attributes simplify to {"dataset": {datasetId or @none: value}}."""
    body = {
        "id": "urn:a:b",
        "type": "T",
        "t": [{"value": 1}, {"value": 2, "datasetId": "urn:ds:2"}],
    }
    out = render_entity(parse_entity(body, CORE, NOW), CORE, RenderOptions(format="keyValues"))
    assert out["t"] == {"dataset": {"@none": 1, "urn:ds:2": 2}}


def test_lang_turns_a_language_property_into_a_property() -> None:
    """Clause 4.15: with lang, a LanguageProperty is rendered as a Property with 'lang'."""
    out = render_entity(entity(), CORE, RenderOptions(lang="ja"))
    assert out["label"] == {"type": "Property", "value": "店", "lang": "ja"}
    out = render_entity(entity(), CORE, RenderOptions(lang="fr-CH,ja;q=0.9,en;q=0.8,*;q=0.5"))
    assert out["label"]["lang"] == "ja"


def test_attrs_selects_attributes() -> None:
    out = render_entity(entity(), CORE, RenderOptions(attrs={DEFAULT + "name"}))
    assert set(out) == {"id", "type", "name"}


def test_names_are_compacted_with_the_request_context() -> None:
    ctx = build_context({"Shop": "https://schema.org/Store", "name": "https://schema.org/name"}, {})
    e = parse_entity({"id": "urn:a:b", "type": "Shop", "name": "x"}, ctx, NOW)
    assert render_entity(e, CORE, RenderOptions())["type"] == "https://schema.org/Store"
    assert render_entity(e, ctx, RenderOptions())["name"] == {"type": "Property", "value": "x"}


def test_multi_instance_attributes_render_as_arrays() -> None:
    body = {
        "id": "urn:a:b",
        "type": "T",
        "t": [
            {"type": "Property", "value": 1},
            {"type": "Property", "value": 2, "datasetId": "urn:ds:2"},
        ],
    }
    out = render_entity(parse_entity(body, CORE, NOW), CORE, RenderOptions())
    assert out == body
