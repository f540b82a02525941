"""Data models: Smart Data Models (and the project's own) JSON Schemas, and validation.

Public API::

    from broker.datamodels import ModelRegistry, project_to_key_values

    registry = ModelRegistry.default(["../shared/smart-data-models"])  # + packaged models/
    registry.models()             # [ModelInfo(name, iri, iris, title, description, source,
                                  #            schema_id)], by name
    registry.get("Device")        # a ModelInfo by type name, type IRI or schema URI
    registry.schema("Device")     # its JSON Schema (do not modify it)
    registry.find(entity)         # the models the entity's type(s) select
    registry.validate(entity)     # {"type": ..., "valid": bool,
                                  #  "errors": [{"path": "/json/pointer", "message": ...}]}
    registry.register("Gate", schema, iri=..., context=...)   # at run time (tenant models)
    registry.register_shared(schema, uri=...)                  # a schema models $ref
    registry.copy()               # an independent registry, e.g. per tenant
    project_to_key_values(entity) # any NGSI-LD representation -> keyValues

Folders are laid out as the Smart Data Models repositories: <Subject>/<Model>/schema.json
(a model named after its folder), shared <Subject>/*-schema.json and common-schema.json
anywhere, and <Subject>/context.jsonld (the @context that gives the subject's type IRIs).
The packaged folder is <repo root>/models, laid out the same way; its schemas name their
type and type IRI with "x-ngsi-ld-type" and "x-ngsi-ld-type-iri", which are honoured.
Folders loaded later win over earlier ones for a type they both define.

Why it works offline: every "$ref" resolves from the schemas loaded, by "$id" and by each
address Smart Data Models publish a file under (GitHub Pages, raw.githubusercontent.com with
or without a branch, github.com raw/blob, the legacy fiware.github.io common schema); an
entity's @context URLs resolve against the loaded context.jsonld files the same way, and
unknown ones are ignored. Nothing is fetched; an unresolvable $ref raises ModelError.

Which model: a type selects the model whose type IRI it expands to (with the entity's
@context, e.g. the Smart Data Models one, or the core context alone), else the model of
the same short name. Validation projects the entity onto the keyValues shape the schemas
describe (see project_to_key_values) and checks formats (date-time, time, uri,
uri-reference, email, ipv4, ipv6, date, uuid, regex). Error pointers point into the entity
as given (e.g. /dateObserved/value for a normalized attribute), sorted in document order.
"""

from ._errors import ModelError
from ._registry import ModelInfo, ModelRegistry, default_schema_dirs, project_to_key_values
from ._report import ErrorItem, ValidationReport

__all__ = [
    "ErrorItem",
    "ModelError",
    "ModelInfo",
    "ModelRegistry",
    "ValidationReport",
    "default_schema_dirs",
    "project_to_key_values",
]
