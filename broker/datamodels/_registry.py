"""ModelRegistry: the data models known to the broker, and validation against them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from referencing.exceptions import NoSuchAnchor, PointerToNowhere, Unresolvable

import broker
from broker.ngsild.context import CORE, Context

from ._aliases import SDM_COMMON_SCHEMA, folder_keys
from ._contexts import ContextLibrary, compactor, is_term
from ._dialects import admit
from ._errors import ModelError
from ._folders import scan
from ._formats import format_checker_for
from ._jsonschema import Validator
from ._models import TYPE_IRI_KEY, TYPE_KEY, Index, Model, ModelInfo, build_index, declared
from ._pointers import Path as JsonPath
from ._projection import Piece, project
from ._report import ErrorItem, ValidationReport, problem, report, schema_errors
from ._schemas import SchemaStore

__all__ = ["ModelInfo", "ModelRegistry", "default_schema_dirs", "project_to_key_values"]

_COMMON_SCHEMA_FILE: Final = "common-schema.json"


def default_schema_dirs() -> list[Path]:
    """The packaged models folder: broker/models (in a source tree, a link to <root>/models)."""
    models = Path(broker.__file__).resolve().parent / "models"
    return [models] if models.is_dir() else []


def _unresolvable(error: Unresolvable) -> str:
    """Why a $ref did not resolve, in words that say what to fix."""
    cause = getattr(error, "_wrapped", error)  # jsonschema wraps referencing's error
    if isinstance(cause, PointerToNowhere | NoSuchAnchor):
        where = cause.resource.id() or "the schema it names"
        return f"cannot resolve $ref {str(error.ref)!r}: there is nothing there in {where}"
    return (
        f"cannot resolve $ref {str(error.ref)!r}: no loaded schema has that $id or address "
        "(schemas are never fetched from the network: load the folder that holds it)"
    )


class ModelRegistry:
    """Data models by entity type, their schemas, and validation of entities against them.

    Load folders laid out as the Smart Data Models repositories are (see load_dir) and
    register schemas at run time (register, register_shared). A type selects a model by its
    expanded IRI, then by its short name; when two models claim one, the later one wins.
    Compiled validators are cached per model until the registry changes. Not thread-safe:
    use copy() to give each tenant its own registry over the shared folders.
    """

    def __init__(self, schema_dirs: Iterable[str | os.PathLike[str]] = ()) -> None:
        self._schemas = SchemaStore()
        self._contexts = ContextLibrary()
        self._folder_contexts: dict[Path, Context] = {}
        self._models: dict[str, Model] = {}
        self._validators: dict[str, Validator] = {}
        self._index: Index | None = None
        for folder in schema_dirs:
            self.load_dir(folder)

    @classmethod
    def default(cls, extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> ModelRegistry:
        """The packaged models/ folder, then extra_dirs (whose models win on a clash)."""
        return cls([*default_schema_dirs(), *extra_dirs])

    def copy(self) -> ModelRegistry:
        """An independent registry with the same content (e.g. one per tenant)."""
        other = ModelRegistry()
        other._schemas = self._schemas.copy()
        other._contexts = self._contexts.copy()
        other._folder_contexts = dict(self._folder_contexts)
        other._models = dict(self._models)
        return other

    def _changed(self) -> None:
        self._index = None
        self._validators.clear()

    # Loading

    def load_dir(self, folder: str | os.PathLike[str]) -> list[ModelInfo]:
        """Load every schema and context.jsonld below folder; return the models found.

        Raises ModelError for a missing folder, a file that is not JSON, a schema that is
        not a valid JSON Schema or has an unknown "$schema", or an invalid @context file.
        """
        root = Path(folder).absolute()
        schemas, contexts = scan(root)
        for found in contexts:
            addresses = [*folder_keys(root, found.path), found.path.as_uri()]
            self._contexts.add(addresses, found.document)
        for found in contexts:
            context, trouble = self._contexts.resolve(found.document["@context"])
            if trouble is not None:
                raise ModelError(f"{found.path}: {trouble}")
            self._folder_contexts[found.path.parent] = context
        uris: list[str] = []
        for file in schemas:
            schema, draft, resource, own_uri = admit(file.contents, str(file.path))
            exact = [u for u in (own_uri, file.path.as_uri()) if u]
            keys = [(key, 1) for key in folder_keys(root, file.path)]
            if file.path.name == _COMMON_SCHEMA_FILE:
                keys.append((SDM_COMMON_SCHEMA, 2))
            self._schemas.add(resource, exact, keys)
            if file.model is not None:
                uris.append(exact[0])
                name = declared(schema, TYPE_KEY) or file.model
                iri = declared(schema, TYPE_IRI_KEY)
                self._put(Model(name, exact[0], schema, draft, file.path, None, iri))
        self._changed()
        index = self._indexed()
        return [index.infos[uri] for uri in uris]

    def register(
        self,
        name: str,
        schema: Mapping[str, Any],
        *,
        iri: str | None = None,
        context: Context | None = None,
        source: Path | None = None,
    ) -> ModelInfo:
        """Add (or replace) the model for entity type name, e.g. one a tenant registered.

        iri: the type's expanded IRI, if known; context: the @context its entities use
        (gives the type IRI and short attribute names). Raises ModelError for a bad schema.
        """
        checked, draft, resource, own_uri = admit(schema, f"model {name!r}")
        uri = own_uri or f"urn:kaido:model:{name}"
        self._schemas.add(resource, [uri], [])
        iri = iri or declared(checked, TYPE_IRI_KEY)
        self._put(Model(name, uri, checked, draft, source, context or CORE, iri))
        self._changed()
        return self._indexed().infos[uri]

    def register_shared(self, schema: Mapping[str, Any], *, uri: str | None = None) -> str:
        """Add a schema that models reference but that is no model; returns its URI."""
        _, _, resource, own_uri = admit(schema, f"shared schema {uri or ''}".strip())
        found = uri or own_uri
        if not found:
            raise ModelError("a shared schema needs an '$id' or a uri to be referenced by")
        self._schemas.add(resource, [found], [])
        self._changed()
        return found

    def _put(self, model: Model) -> None:
        self._models.pop(model.uri, None)  # a replacement counts as the latest
        self._models[model.uri] = model

    # Lookup

    def _context_of(self, model: Model) -> Context:
        if model.context is not None:
            return model.context
        if model.source is not None:
            for folder in model.source.parents:
                found = self._folder_contexts.get(folder)
                if found is not None:
                    return found
        return CORE

    def _indexed(self) -> Index:
        if self._index is None:
            self._index = build_index(self._models.values(), self._context_of)
        return self._index

    def models(self) -> list[ModelInfo]:
        """Every model, by name (then schema URI)."""
        return sorted(self._indexed().infos.values(), key=lambda i: (i.name, i.schema_id))

    def _find_uri(self, key: str) -> str | None:
        index = self._indexed()
        return (
            index.by_iri.get(key) or index.by_name.get(key) or (key if key in index.infos else None)
        )

    def get(self, name_or_iri: str) -> ModelInfo | None:
        """The model for a type name, a type IRI or a schema URI."""
        uri = self._find_uri(name_or_iri)
        return None if uri is None else self._indexed().infos[uri]

    def schema(self, name_or_iri: str) -> Mapping[str, Any] | None:
        """The model's JSON Schema as loaded (shared, do not modify it)."""
        uri = self._find_uri(name_or_iri)
        return None if uri is None else self._models[uri].schema

    def _lookup(self, entity_type: str, context: Context) -> str | None:
        """A type selects a model by its expanded IRI first, then by its short name."""
        index = self._indexed()
        iri = context.expand(entity_type)
        found = index.by_iri.get(iri)
        if found is None:
            name = entity_type if is_term(entity_type) else context.compact(iri)
            found = index.by_name.get(name) if is_term(name) else None
        return found

    def _matches(
        self, entity: Mapping[str, Any], context: Context, errors: list[ErrorItem]
    ) -> list[tuple[JsonPath, str]]:
        """(where the type is, model URI) for each of the entity's types that has a model."""
        key = "type" if "type" in entity else "@type"
        raw = entity.get(key)
        if raw is None:
            errors.append(problem((), "the entity has no 'type'"))
            return []
        candidates: list[tuple[JsonPath, object]] = [((key,), raw)]
        if isinstance(raw, list) and raw:
            candidates = [((key, i), name) for i, name in enumerate(raw)]
        found: list[tuple[JsonPath, str]] = []
        malformed = False
        for at, name in candidates:
            if not isinstance(name, str) or not name:
                errors.append(problem(at, "an entity type must be a non-empty string"))
                malformed = True
                continue
            uri = self._lookup(name, context)
            if uri is not None and all(uri != u for _, u in found):
                found.append((at, uri))
        if not found and not malformed:
            errors.append(problem((key,), f"no data model is known for type {raw!r}"))
        return found

    def find(self, entity: Mapping[str, Any]) -> list[ModelInfo]:
        """The models the entity's type(s) select (none: the type has no model)."""
        context, _ = self._contexts.resolve(entity.get("@context"))
        index = self._indexed()
        return [index.infos[uri] for _, uri in self._matches(entity, context, [])]

    # Validation

    def _validator(self, uri: str) -> Validator:
        validator = self._validators.get(uri)
        if validator is None:
            # Through a $ref, so that relative $refs resolve against the schema's own URI
            # (its file's, when it has no "$id"); the model's draft still applies.
            draft = self._models[uri].draft
            validator = draft(
                {"$ref": uri},
                registry=self._schemas.registry(),
                format_checker=format_checker_for(draft),
            )
            self._validators[uri] = validator
        return validator

    def project(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """The entity as the keyValues document its model's schema is checked against."""
        context, _ = self._contexts.resolve(entity.get("@context"))
        matches = self._matches(entity, context, [])
        model_context = self._indexed().contexts[matches[0][1]] if matches else context
        return project(entity, compactor(context, model_context)).document()

    def validate(self, entity: object) -> ValidationReport:
        """Validate an entity (normalized, concise or keyValues; with or without @context).

        The report lists every violation with a JSON pointer into the entity as given. An
        entity whose type has no model is invalid (check find() first to treat it otherwise).
        Raises ModelError when the model's schema cannot be used (e.g. an unresolvable $ref).
        """
        if not isinstance(entity, Mapping):
            kind = "an array" if isinstance(entity, list) else type(entity).__name__
            return report(
                entity, None, [problem((), f"an entity must be a JSON object, not {kind}")]
            )
        errors: list[ErrorItem] = []
        context, trouble = self._contexts.resolve(entity.get("@context"))
        if trouble is not None:
            errors.append(problem(("@context",), trouble))
        index = self._indexed()
        for at, uri in self._matches(entity, context, errors):
            model = self._models[uri]
            compact = compactor(context, index.contexts[uri])
            projection = project(entity, compact, Piece(model.name, (((), at),)))
            errors.extend(problem(where, what) for where, what in projection.problems)
            try:
                errors.extend(schema_errors(self._validator(uri), projection))
            except Unresolvable as error:
                raise ModelError(f"{model.source or uri}: {_unresolvable(error)}") from None
        return report(entity, entity.get("type", entity.get("@type")), errors)


def project_to_key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """entity (any NGSI-LD representation, or keyValues) as plain keyValues.

    Names given as IRIs are compacted with the entity's own inline @context and the core
    context (remote @contexts are not fetched); use ModelRegistry.project to compact with the
    loaded models' context.jsonld files as well.
    """
    if not isinstance(entity, Mapping):
        raise TypeError("an entity must be a JSON object")
    context, _ = ContextLibrary().resolve(entity.get("@context"))
    return project(entity, compactor(context, context)).document()
