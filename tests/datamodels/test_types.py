"""Which model an entity's type selects: short name, expanded IRI, core-only expansion."""

from __future__ import annotations

from typing import Any

import pytest

from broker.datamodels import ModelRegistry
from broker.ngsild.context import build_context

GATE_IRI = "https://smartdatamodels.org/dataModel.City/Gate"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
CITY_CONTEXTS = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/master/context.jsonld",
    "https://smart-data-models.github.io/dataModel.City/context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/main/context.jsonld",
]
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
CITY = "https://smartdatamodels.org/dataModel.City/"


def names(registry: ModelRegistry, entity: dict[str, Any]) -> list[str]:
    return [m.name for m in registry.find(entity)]


def test_model_iris_come_from_the_subject_context(registry: ModelRegistry) -> None:
    gate = registry.get("Gate")
    assert gate is not None
    assert gate.iri == GATE_IRI
    assert gate.iris == (GATE_IRI, f"{DEFAULT}Gate")
    assert registry.get(GATE_IRI) == gate
    assert registry.get(f"{DEFAULT}Gate") == gate
    assert registry.get(gate.schema_id) == gate


def test_short_name_without_context(registry: ModelRegistry) -> None:
    assert names(registry, {"id": "urn:x", "type": "Gate"}) == ["Gate"]


@pytest.mark.parametrize("url", CITY_CONTEXTS)
def test_short_name_with_the_sdm_context(registry: ModelRegistry, url: str) -> None:
    for context in (url, [CORE_URL, url], [url, "iudx:Gate"]):
        assert names(registry, {"id": "urn:x", "type": "Gate", "@context": context}) == ["Gate"]


def test_expanded_iri(registry: ModelRegistry) -> None:
    assert names(registry, {"id": "urn:x", "type": GATE_IRI}) == ["Gate"]
    assert names(registry, {"id": "urn:x", "type": [GATE_IRI]}) == ["Gate"]


def test_core_only_expansion(registry: ModelRegistry) -> None:
    """Data sent with the core context alone has types in the default vocabulary."""
    assert names(registry, {"id": "urn:x", "type": f"{DEFAULT}Gate"}) == ["Gate"]
    assert names(registry, {"id": "urn:x", "type": "Gate", "@context": CORE_URL}) == ["Gate"]


def test_compact_iri_with_an_inline_prefix(registry: ModelRegistry) -> None:
    entity = {"id": "urn:x", "type": "city:Gate", "@context": {"city": CITY}}
    assert names(registry, entity) == ["Gate"]


def test_expanded_attribute_names_validate(registry: ModelRegistry) -> None:
    """Names expanded with the SDM context are compacted back with the model's context."""
    entity = {
        "id": "urn:ngsi-ld:Gate:1",
        "type": GATE_IRI,
        f"{CITY}width": {"type": "Property", "value": 99},
        f"{DEFAULT}contact": {"type": "Property", "value": "nobody"},
    }
    errors = registry.validate(entity)["errors"]
    assert [e["path"] for e in errors] == [
        f"/{CITY.replace('/', '~1')}width/value",
        f"/{DEFAULT.replace('/', '~1')}contact/value",
    ]


def test_iri_wins_over_short_name(registry: ModelRegistry) -> None:
    other = build_context({"Gate": "https://example.org/Gate"}, {})
    registry.register(
        "Gate",
        {"type": "object", "properties": {"kind": {"const": "other"}}},
        context=other,
    )
    assert registry.get("https://example.org/Gate") is not None
    sdm = {"id": "urn:x", "type": "Gate", "@context": CITY_CONTEXTS[0]}
    assert registry.find(sdm)[0].iri == GATE_IRI
    assert registry.find({"id": "urn:x", "type": "https://example.org/Gate"})[0].iri == (
        "https://example.org/Gate"
    )
    # By short name alone, the model registered last wins.
    assert registry.find({"id": "urn:x", "type": "Gate"})[0].iri == "https://example.org/Gate"


def test_several_types(registry: ModelRegistry) -> None:
    entity = {"id": "urn:x", "type": ["Door", "Gate"], "width": 99}
    assert names(registry, entity) == ["Gate"]
    result = registry.validate(entity)
    assert result["type"] == ["Door", "Gate"]
    assert [e["path"] for e in result["errors"]] == ["/width"]


def test_unknown_type(registry: ModelRegistry) -> None:
    result = registry.validate({"id": "urn:x", "type": "Door"})
    assert result == {
        "type": "Door",
        "valid": False,
        "errors": [{"path": "/type", "message": "no data model is known for type 'Door'"}],
    }


def test_missing_or_malformed_type(registry: ModelRegistry) -> None:
    assert registry.validate({"id": "urn:x"})["errors"] == [
        {"path": "", "message": "the entity has no 'type'"}
    ]
    assert registry.validate({"id": "urn:x", "type": ["Gate", 3]})["errors"] == [
        {"path": "/type/1", "message": "an entity type must be a non-empty string"}
    ]
