"""$ref resolution: offline, by $id and by every address Smart Data Models publish under."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from broker.datamodels import ModelError, ModelRegistry

Tree = Callable[[Mapping[str, object]], Path]
SHARED_ID = "https://smart-data-models.github.io/dataModel.City/city-schema.json"
ALIASES = [
    SHARED_ID,
    "http://smart-data-models.github.io/dataModel.City/city-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/master/city-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/main/city-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/refs/heads/master/city-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.City/city-schema.json",
    "https://github.com/smart-data-models/dataModel.City/raw/master/city-schema.json",
    "https://github.com/smart-data-models/dataModel.City/blob/master/city-schema.json",
    "https://smart-data-models.github.io/dataModel.city/City-Schema.json",
]
COMMON_ALIASES = [
    "https://smart-data-models.github.io/data-models/common-schema.json",
    "https://raw.githubusercontent.com/smart-data-models/data-models/master/common-schema.json",
    "https://fiware.github.io/dataModels/common-schema.json",
    "https://fiware.github.io/data-models/common-schema.json",
]
SHORT = {"$schema": "https://json-schema.org/draft/2020-12/schema",
         "definitions": {"short": {"type": "string", "maxLength": 2}}}  # fmt: skip


def model(refs: list[str], **extra: Any) -> dict[str, Any]:
    """A model whose property aN uses the Nth $ref."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {f"a{i}": {"$ref": ref} for i, ref in enumerate(refs)},
        **extra,
    }


def too_long(refs: list[str]) -> dict[str, Any]:
    return {"id": "urn:x", "type": "Tower", **{f"a{i}": "abc" for i in range(len(refs))}}


def test_every_published_address_of_a_shared_schema(tree: Tree) -> None:
    refs = [f"{uri}#/definitions/short" for uri in ALIASES]
    folder = tree(
        {
            "dataModel.City/city-schema.json": {**SHORT, "$id": SHARED_ID},
            "dataModel.City/Tower/schema.json": model(refs),
        }
    )
    result = ModelRegistry([folder]).validate(too_long(refs))
    assert [e["path"] for e in result["errors"]] == [f"/a{i}" for i in range(len(refs))]
    assert all(e["message"] == "'abc' is too long" for e in result["errors"])


def test_a_schema_without_id_is_found_by_its_place(tree: Tree) -> None:
    """No $id: the file is still known under its repository path, and by file URI."""
    refs = [f"{uri}#/definitions/short" for uri in ALIASES[:3]] + [
        "../city-schema.json#/definitions/short"
    ]
    folder = tree(
        {
            "dataModel.City/city-schema.json": SHORT,
            "dataModel.City/Tower/schema.json": model(refs),
        }
    )
    result = ModelRegistry([folder]).validate(too_long(refs))
    assert len(result["errors"]) == len(refs)


def test_a_clone_of_one_repository_works_as_a_root(tree: Tree) -> None:
    refs = [f"{ALIASES[2]}#/definitions/short"]
    folder = tree(
        {
            "dataModel.City/city-schema.json": SHORT,
            "dataModel.City/Tower/schema.json": model(refs),
        }
    )
    registry = ModelRegistry([folder / "dataModel.City"])
    assert not registry.validate(too_long(refs))["valid"]


@pytest.mark.parametrize("place", ["data-models/common-schema.json", "common-schema.json"])
def test_common_schema_anywhere(tree: Tree, place: str) -> None:
    """common-schema.json answers for the Smart Data Models common schema wherever it is."""
    refs = [f"{uri}#/definitions/short" for uri in COMMON_ALIASES]
    folder = tree({place: SHORT, "Domain/Tower/schema.json": model(refs)})
    result = ModelRegistry([folder]).validate(too_long(refs))
    assert len(result["errors"]) == len(refs)


def test_an_exact_id_wins_over_a_fallback(tree: Tree) -> None:
    refs = [f"{COMMON_ALIASES[0]}#/definitions/short"]
    loose = {**SHORT, "definitions": {"short": {"type": "string"}}}
    folder = tree(
        {
            "common-schema.json": loose,
            "data-models/common-schema.json": {**SHORT, "$id": COMMON_ALIASES[0]},
            "Domain/Tower/schema.json": model(refs),
        }
    )
    assert not ModelRegistry([folder]).validate(too_long(refs))["valid"]


def test_unresolvable_ref_is_a_clear_error(tree: Tree) -> None:
    refs = ["https://example.org/elsewhere.json#/definitions/short"]
    folder = tree({"Domain/Tower/schema.json": model(refs)})
    registry = ModelRegistry([folder])
    with pytest.raises(ModelError, match="cannot resolve \\$ref") as caught:
        registry.validate(too_long(refs))
    message = str(caught.value)
    assert "https://example.org/elsewhere.json" in message
    assert "Tower/schema.json" in message
    assert "never fetched" in message


def test_a_ref_to_a_missing_definition_is_a_clear_error(tree: Tree) -> None:
    refs = [f"{SHARED_ID}#/definitions/nothing"]
    folder = tree(
        {
            "dataModel.City/city-schema.json": {**SHORT, "$id": SHARED_ID},
            "dataModel.City/Tower/schema.json": model(refs),
        }
    )
    with pytest.raises(ModelError, match="cannot resolve") as caught:
        ModelRegistry([folder]).validate(too_long(refs))
    assert f"'/definitions/nothing': there is nothing there in {SHARED_ID}" in str(caught.value)


def test_draft_07_is_honoured(tree: Tree) -> None:
    """In draft-07 a keyword next to $ref is ignored; in 2020-12 it applies."""
    schema: dict[str, Any] = {
        "type": "object",
        "definitions": {"text": {"type": "string"}},
        "properties": {"name": {"$ref": "#/definitions/text", "maxLength": 1}},
    }
    folder = tree(
        {
            "D/Old/schema.json": {**schema, "$schema": "http://json-schema.org/draft-07/schema#"},
            "D/New/schema.json": {
                **schema,
                "$schema": "https://json-schema.org/draft/2020-12/schema",
            },
        }
    )
    registry = ModelRegistry([folder])
    assert registry.validate({"id": "urn:x", "type": "Old", "name": "ab"})["valid"]
    assert not registry.validate({"id": "urn:x", "type": "New", "name": "ab"})["valid"]


def test_register_shared_at_run_time(registry: ModelRegistry) -> None:
    uri = "https://tenant.example/shared.json"
    registry.register_shared(SHORT, uri=uri)
    registry.register("Tower", model([f"{uri}#/definitions/short"]))
    assert not registry.validate({"id": "urn:x", "type": "Tower", "a0": "abc"})["valid"]
    with pytest.raises(ModelError, match="needs an '\\$id'"):
        registry.register_shared(SHORT)
