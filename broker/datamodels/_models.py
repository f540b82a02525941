"""What is known about each model, and the index that finds a model from an entity type."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from broker.ngsild.context import DEFAULT_VOCAB, Context

from ._jsonschema import Draft

__all__ = ["TYPE_IRI_KEY", "TYPE_KEY", "Index", "Model", "ModelInfo", "build_index", "declared"]

#: Schema members (the project's models/ convention) naming the entity type and its IRI.
TYPE_KEY: Final = "x-ngsi-ld-type"
TYPE_IRI_KEY: Final = "x-ngsi-ld-type-iri"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the registry knows about one model.

    name: the entity type's short name; iri: its expanded type IRI (with the model's
    @context when there is one, else the core context's @vocab); iris: every IRI that
    selects it; schema_id: the URI its schema is registered under ("$id" when it has one).
    """

    name: str
    iri: str
    iris: tuple[str, ...]
    title: str | None
    description: str | None
    source: Path | None
    schema_id: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (as printed by `python -m broker models`)."""
        return {
            "name": self.name,
            "iri": self.iri,
            "title": self.title,
            "description": self.description,
            "source": None if self.source is None else str(self.source),
            "schema": self.schema_id,
        }


@dataclass(frozen=True, slots=True)
class Model:
    """A registered model: its schema and where its type IRI comes from."""

    name: str
    uri: str
    schema: Mapping[str, Any]
    draft: Draft
    source: Path | None
    context: Context | None  # None: the context.jsonld of its folder (or an ancestor)
    iri: str | None  # declared (x-ngsi-ld-type-iri) or given at registration


@dataclass(frozen=True, slots=True)
class Index:
    """Models by schema URI (in registration order), by type IRI and by type name."""

    infos: dict[str, ModelInfo] = field(default_factory=dict)
    contexts: dict[str, Context] = field(default_factory=dict)
    by_iri: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)


def declared(schema: Mapping[str, Any], key: str) -> str | None:
    """A non-empty string member of the schema, else None."""
    value = schema.get(key)
    return value if isinstance(value, str) and value else None


def _text(value: object) -> str | None:
    """A title or description on one line (Smart Data Models pad them with spaces)."""
    return " ".join(value.split()) or None if isinstance(value, str) else None


def build_index(models: Iterable[Model], context_of: Callable[[Model], Context]) -> Index:
    """The index of models; a later model wins an IRI or a name over an earlier one."""
    out = Index()
    for model in models:
        context = context_of(model)
        candidates = (model.iri, context.expand(model.name), DEFAULT_VOCAB + model.name)
        iris = tuple(dict.fromkeys(i for i in candidates if i))
        out.infos[model.uri] = ModelInfo(
            name=model.name,
            iri=iris[0],
            iris=iris,
            title=_text(model.schema.get("title")),
            description=_text(model.schema.get("description")),
            source=model.source,
            schema_id=model.uri,
        )
        out.contexts[model.uri] = context
        out.by_iri.update(dict.fromkeys(iris, model.uri))
        out.by_name[model.name] = model.uri
    return out
