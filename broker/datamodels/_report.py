"""Validation results: every violation, as a JSON pointer into the entity as given.

jsonschema reports paths in the projected (keyValues) document; they are mapped back with
the projection's PathMap so that a client can find the offending member in what it sent.
Errors are sorted in document order (where they point in the entity), then by message, so
reports are stable and read like the entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, TypedDict

from ._jsonschema import Error, Validator, best_match
from ._pointers import Path, PathMap, document_order, pointer
from ._projection import Projection

__all__ = ["ErrorItem", "ValidationReport", "problem", "report", "schema_errors"]


class ErrorItem(TypedDict):
    """One violation: where ("" is the whole entity) and what."""

    path: str
    message: str


class ValidationReport(TypedDict):
    """The verdict on one entity; "type" is the entity's type as given (None if absent)."""

    type: Any
    valid: bool
    errors: list[ErrorItem]


#: Failures that say "this alternative is not the one meant" rather than "almost".
_MISMATCH: Final = frozenset({"type", "enum", "const"})


def _closest(errors: list[Error]) -> Error | None:
    """The most telling error of the alternative (anyOf/oneOf branch) closest to matching:
    the branch with the fewest type/enum/const mismatches, then the fewest errors.

    jsonschema's best_match alone often picks a discriminator mismatch ("'Point' is not
    one of ['LineString']") over the real problem in the branch that was meant.
    """
    branches: dict[str | int | None, list[Error]] = {}
    for error in errors:
        branch = error.relative_schema_path[0] if error.relative_schema_path else None
        branches.setdefault(branch, []).append(error)
    if not branches:
        return None
    chosen = min(
        branches.values(),
        key=lambda errs: (sum(e.validator in _MISMATCH for e in errs), len(errs)),
    )
    return best_match(chosen)


def _message(error: Error, paths: PathMap, where: str) -> str:
    """The error's message; for anyOf/oneOf, also the closest alternative's complaint."""
    if not error.context:
        return error.message
    best = _closest(error.context)
    if best is None:
        return error.message
    at = pointer(paths.original(tuple(best.absolute_path)))
    suffix = f" at {at}" if at != where else ""
    return f"{error.message} (closest match: {best.message}{suffix})"


def schema_errors(validator: Validator, projection: Projection) -> list[ErrorItem]:
    """The schema's complaints about every variant of the projection."""
    items: list[ErrorItem] = []
    for document, paths, only in projection.variants():
        for error in validator.iter_errors(document):
            projected = tuple(error.absolute_path)
            if only is not None and projected[:1] != (only,):
                continue
            where = pointer(paths.original(projected))
            items.append({"path": where, "message": _message(error, paths, where)})
    return items


def problem(path: Path, message: str) -> ErrorItem:
    return {"path": pointer(path), "message": message}


def report(entity: object, entity_type: Any, errors: Iterable[ErrorItem]) -> ValidationReport:
    """The report: errors deduplicated and in the entity's document order."""
    unique = {(e["path"], e["message"]): e for e in errors}
    ordered = sorted(
        unique.values(), key=lambda e: (document_order(entity, e["path"]), e["message"])
    )
    return {"type": entity_type, "valid": not ordered, "errors": ordered}
