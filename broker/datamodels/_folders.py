"""Find the schemas and @context files in a folder laid out as Smart Data Models are.

<Subject>/<Model>/schema.json is a model named after its folder (unless the schema says
otherwise with "x-ngsi-ld-type", as the project's models/ do); any other *-schema.json
(<Subject>/device-schema.json, data-models/common-schema.json, models/common-schema.json)
is a shared schema that models reference; context.jsonld files give the models at or below
their folder their type IRIs. Examples, hidden folders and everything else are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from ._errors import ModelError

__all__ = ["ContextFile", "SchemaFile", "read_json", "scan"]

_MODEL_FILE: Final = "schema.json"
_SHARED_SUFFIX: Final = "-schema.json"
_CONTEXT_FILE: Final = "context.jsonld"
_SKIPPED_DIRS: Final = frozenset({"examples", "node_modules", "__pycache__"})


@dataclass(frozen=True, slots=True)
class SchemaFile:
    path: Path
    contents: Any
    #: The model's name (its folder's) for <Model>/schema.json; None for a shared schema.
    model: str | None


@dataclass(frozen=True, slots=True)
class ContextFile:
    path: Path
    document: dict[str, Any]


def read_json(path: Path) -> Any:
    """The parsed file; ModelError saying which file and why when that fails."""
    try:
        return orjson.loads(path.read_bytes())
    except OSError as error:
        raise ModelError(f"{path}: cannot read it: {error.strerror or error}") from None
    except orjson.JSONDecodeError as error:
        raise ModelError(f"{path}: not valid JSON: {error}") from None


def scan(root: Path) -> tuple[list[SchemaFile], list[ContextFile]]:
    """Every schema and context file below root, in a stable (sorted) order."""
    if not root.is_dir():
        raise ModelError(f"{root}: not a folder of schemas")
    schemas: list[SchemaFile] = []
    contexts: list[ContextFile] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        here = Path(folder)
        for name in sorted(files):
            path = here / name
            if name == _MODEL_FILE:
                model = here.name if here != root else None
                schemas.append(SchemaFile(path, read_json(path), model))
            elif name.endswith(_SHARED_SUFFIX):
                schemas.append(SchemaFile(path, read_json(path), None))
            elif name == _CONTEXT_FILE:
                document = read_json(path)
                if not isinstance(document, dict) or "@context" not in document:
                    raise ModelError(f"{path}: not a JSON-LD context document (no '@context')")
                contexts.append(ContextFile(path, document))
    return schemas, contexts
