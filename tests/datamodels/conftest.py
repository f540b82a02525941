"""Fixtures: a small schema folder laid out as the Smart Data Models repositories are.

dataModel.City holds a Gate model whose $refs use the addresses Smart Data Models really
use (GitHub Pages, raw.githubusercontent.com), a shared city-schema.json and the subject's
context.jsonld; data-models/common-schema.json is the common schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from broker.datamodels import ModelRegistry

SDM_PAGES = "https://smart-data-models.github.io"
SDM_RAW = "https://raw.githubusercontent.com/smart-data-models"
COMMON_ID = f"{SDM_PAGES}/data-models/common-schema.json"
CITY_CONTEXT = f"{SDM_RAW}/dataModel.City/master/context.jsonld"
GATE_IRI = "https://smartdatamodels.org/dataModel.City/Gate"
CITY = "https://smartdatamodels.org/dataModel.City/"

COMMON: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": COMMON_ID,
    "title": "Common definitions",
    "definitions": {
        "EntityIdentifierType": {"type": "string", "format": "uri"},
        "Common": {
            "type": "object",
            "properties": {
                "id": {"$ref": "#/definitions/EntityIdentifierType"},
                "dateCreated": {"type": "string", "format": "date-time"},
                "name": {"type": "string"},
            },
        },
    },
}
CITY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{SDM_PAGES}/dataModel.City/city-schema.json",
    "definitions": {
        "width": {"type": "number", "minimum": 0, "maximum": 10},
        "short": {"type": "string", "maxLength": 2},
    },
}
GATE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{SDM_PAGES}/dataModel.City/Gate/schema.json",
    "title": "  Smart Data Models -  Gate ",
    "description": "A gate in a city wall.",
    "type": "object",
    "allOf": [
        {"$ref": f"{COMMON_ID}#/definitions/Common"},
        {
            "properties": {
                "type": {"type": "string", "enum": ["Gate"]},
                "width": {
                    "$ref": f"{SDM_RAW}/dataModel.City/master/city-schema.json#/definitions/width"
                },
                "openedAt": {"type": "string", "format": "date-time"},
                "contact": {"type": "string", "format": "email"},
                "ipv4": {"type": "string", "format": "ipv4"},
                "ipv6": {"type": "string", "format": "ipv6"},
                "homepage": {"type": "string", "format": "uri"},
                "refWall": {"$ref": f"{COMMON_ID}#/definitions/EntityIdentifierType"},
                "label": {"type": "object", "additionalProperties": {"type": "string"}},
                "colour": {"type": "string", "enum": ["red", "green"]},
                "config": {"type": "object", "required": ["mode"]},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
                "members": {"type": "array", "items": {"type": "string", "format": "uri"}},
                "location": {
                    "type": "object",
                    "required": ["type", "coordinates"],
                    "properties": {
                        "type": {"enum": ["Point"]},
                        "coordinates": {"type": "array", "minItems": 2},
                    },
                },
            },
            "required": ["id", "type"],
        },
    ],
}
CITY_CONTEXT_DOC: dict[str, Any] = {
    "@context": {
        "Gate": GATE_IRI,
        "width": f"{CITY}width",
        "openedAt": f"{CITY}openedAt",
        "colour": f"{CITY}colour",
        "id": "@id",
        "type": "@type",
    }
}


def write_tree(root: Path, files: Mapping[str, object]) -> Path:
    """Write each JSON document at its path below root; return root."""
    for name, document in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document if isinstance(document, str) else json.dumps(document))
    return root


CITY_FILES: dict[str, object] = {
    "data-models/common-schema.json": COMMON,
    "dataModel.City/city-schema.json": CITY_SCHEMA,
    "dataModel.City/context.jsonld": CITY_CONTEXT_DOC,
    "dataModel.City/Gate/schema.json": GATE,
    "dataModel.City/Gate/examples/example.json": {"id": "x", "type": "Gate"},
}


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("sdm"), CITY_FILES)


@pytest.fixture
def registry(city_dir: Path) -> ModelRegistry:
    return ModelRegistry([city_dir])


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[Mapping[str, object]], Path]:
    """Write a schema folder of the given files into a fresh directory."""
    counter = iter(range(1000))

    def make(files: Mapping[str, object]) -> Path:
        return write_tree(tmp_path / f"tree{next(counter)}", files)

    return make
