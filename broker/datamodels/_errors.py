"""The one exception of the package: a schema or schema folder that cannot be used."""

from __future__ import annotations

__all__ = ["ModelError"]


class ModelError(ValueError):
    """A data model cannot be loaded or used (bad schema, unresolvable $ref, missing folder).

    It is about the schemas, never about the entity being validated: entity problems are
    reported in the validation report instead.
    """
