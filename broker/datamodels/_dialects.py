"""Reading a schema: which JSON Schema draft it is written in, whether it is valid, its URI.

Smart Data Models use draft 2020-12 and (older files) draft-07, spelt with or without the
trailing "#" and sometimes with the other scheme; all of those must select the same
validator. A schema without "$schema" is read as 2020-12; an unknown "$schema" is an error
rather than a silent guess, and so is a schema its draft's metaschema rejects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import referencing.jsonschema
from referencing import Resource

from ._aliases import without_fragment
from ._errors import ModelError
from ._jsonschema import DRAFTS, Draft, schema_error
from ._pointers import pointer

__all__ = ["LATEST", "Admitted", "admit", "validator_class"]

LATEST: Final = DRAFTS["draft/2020-12"]
_DIALECT: Final = re.compile(
    r"https?://json-schema\.org/(draft-0[467]|draft/2019-09|draft/2020-12)/schema#?\Z"
)
#: "http://json-schema.org/schema#" means "the latest draft".
_LATEST: Final = re.compile(r"https?://json-schema\.org/schema#?\Z")

#: A usable schema: its contents, validator class, Resource and own URI ("$id"), if any.
Admitted = tuple[Mapping[str, Any], Draft, Resource[Any], str | None]


def validator_class(schema: Mapping[str, Any], where: str) -> Draft:
    """The validator class for schema's "$schema" (2020-12 when absent)."""
    dialect = schema.get("$schema")
    if dialect is None or (isinstance(dialect, str) and _LATEST.match(dialect)):
        return LATEST
    match = _DIALECT.match(dialect) if isinstance(dialect, str) else None
    if match is None:
        raise ModelError(
            f"{where}: unsupported $schema {dialect!r} (use draft-07 or draft 2020-12, e.g. "
            '"https://json-schema.org/draft/2020-12/schema")'
        )
    return DRAFTS[match.group(1)]


def _resource(schema: Mapping[str, Any], draft: Draft) -> Resource[Any]:
    """schema as a referencing Resource of the same draft as its validator."""
    meta = draft.META_SCHEMA
    dialect = meta["$id"] if "$id" in meta else meta["id"]  # "id" up to draft 4
    specification = referencing.jsonschema.specification_with(str(dialect))
    return specification.create_resource(schema)


def admit(schema: object, where: str) -> Admitted:
    """schema checked against its draft's metaschema, ready to register; else ModelError
    saying where (a file or a model name) and what is wrong."""
    if not isinstance(schema, Mapping):
        raise ModelError(f"{where}: a schema must be a JSON object")
    draft = validator_class(schema, where)
    wrong = schema_error(draft, schema)
    if wrong is not None:
        at = pointer(wrong[0]) or "the top"
        raise ModelError(f"{where}: not a valid JSON Schema at {at}: {wrong[1]}")
    resource = _resource(schema, draft)
    uri = resource.id()  # "$id", or "id" in draft 4
    return schema, draft, resource, without_fragment(uri) or None if uri else None
