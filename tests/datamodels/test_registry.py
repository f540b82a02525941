"""ModelRegistry: loading folders, listing, run-time registration, caching, errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

import broker
from broker.datamodels import ModelError, ModelRegistry, default_schema_dirs
from broker.ngsild.context import build_context

Tree = Callable[[Mapping[str, object]], Path]
GATE = {"id": "urn:ngsi-ld:Gate:1", "type": "Gate", "width": 11}


def test_models_listing(registry: ModelRegistry, city_dir: Path) -> None:
    [gate] = registry.models()
    assert gate.as_dict() == {
        "name": "Gate",
        "iri": "https://smartdatamodels.org/dataModel.City/Gate",
        "title": "Smart Data Models - Gate",
        "description": "A gate in a city wall.",
        "source": str(city_dir / "dataModel.City" / "Gate" / "schema.json"),
        "schema": "https://smart-data-models.github.io/dataModel.City/Gate/schema.json",
    }
    schema = registry.schema("Gate")
    assert schema is not None and schema["description"] == "A gate in a city wall."
    assert registry.get("Door") is None and registry.schema("Door") is None


def test_load_dir_returns_the_models_found(city_dir: Path) -> None:
    registry = ModelRegistry()
    assert registry.models() == []
    assert [m.name for m in registry.load_dir(city_dir)] == ["Gate"]


def test_register_at_run_time(registry: ModelRegistry) -> None:
    context = build_context({"Door": "https://tenant.example/Door"}, {})
    info = registry.register(
        "Door", {"type": "object", "properties": {"width": {"maximum": 1}}}, context=context
    )
    assert info.iri == "https://tenant.example/Door"
    assert info.schema_id == "urn:kaido:model:Door"
    assert [m.name for m in registry.models()] == ["Door", "Gate"]
    assert not registry.validate({"id": "urn:x", "type": "Door", "width": 2})["valid"]
    given = registry.register("Hatch", {"type": "object"}, iri="https://tenant.example/Hatch")
    assert given.iri == "https://tenant.example/Hatch"


def test_registering_again_replaces(registry: ModelRegistry) -> None:
    assert not registry.validate(GATE)["valid"]
    registry.register("Gate", {"type": "object"})
    assert registry.validate(GATE)["valid"]


def test_copy_is_independent(registry: ModelRegistry) -> None:
    tenant = registry.copy()
    tenant.register("Gate", {"type": "object"})
    assert tenant.validate(GATE)["valid"]
    assert not registry.validate(GATE)["valid"]


def test_validators_are_cached_until_the_registry_changes(registry: ModelRegistry) -> None:
    uri = "https://smart-data-models.github.io/dataModel.City/Gate/schema.json"
    registry.validate(GATE)
    first = registry._validators[uri]
    registry.validate(GATE)
    assert registry._validators[uri] is first
    registry.register("Door", {"type": "object"})
    assert uri not in registry._validators


def test_later_folders_win(tree: Tree, city_dir: Path) -> None:
    override = tree({"Other/Gate/schema.json": {"type": "object"}})
    registry = ModelRegistry([city_dir, override])
    assert registry.validate(GATE)["valid"]
    assert len(registry.models()) == 2


def test_default_dirs_are_the_packaged_models_folder() -> None:
    packaged = Path(broker.__file__).resolve().parent / "models"
    assert default_schema_dirs() == ([packaged] if packaged.is_dir() else [])


def test_default_adds_extra_dirs(city_dir: Path) -> None:
    assert ModelRegistry.default([city_dir]).get("Gate") is not None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"D/M/schema.json": "{not json"}, "not valid JSON"),
        ({"D/M/schema.json": {"type": 12}}, "not a valid JSON Schema at /type"),
        ({"D/M/schema.json": {"$schema": "https://example.org/s"}}, "unsupported \\$schema"),
        ({"D/M/schema.json": [1]}, "a schema must be a JSON object"),
        ({"D/context.jsonld": {"terms": {}}}, "not a JSON-LD context document"),
        ({"D/context.jsonld": {"@context": {"x": 3}}}, "invalid '@context'"),
    ],
)
def test_bad_folders(tree: Tree, files: Mapping[str, object], message: str) -> None:
    folder = tree(files)
    with pytest.raises(ModelError, match=message) as caught:
        ModelRegistry([folder])
    assert str(folder) in str(caught.value)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a folder of schemas"):
        ModelRegistry([tmp_path / "absent"])


def test_examples_and_hidden_folders_are_skipped(tree: Tree) -> None:
    folder = tree(
        {
            "D/M/schema.json": {"type": "object"},
            "D/M/examples/schema.json": "{not json",
            ".git/x/schema.json": "{not json",
        }
    )
    assert [m.name for m in ModelRegistry([folder]).models()] == ["M"]


def test_project_uses_the_model_context(registry: ModelRegistry) -> None:
    entity = {
        "id": "urn:x",
        "type": "https://smartdatamodels.org/dataModel.City/Gate",
        "https://smartdatamodels.org/dataModel.City/width": {"type": "Property", "value": 3},
    }
    assert registry.project(entity) == {"id": "urn:x", "type": "Gate", "width": 3}
