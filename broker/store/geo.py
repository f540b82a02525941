"""Geometries in the store: which attributes carry them (they need a 2dsphere index), and
MongoDB refusing one that it cannot index."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pymongo.errors import OperationFailure, WriteError

from ..ngsild.errors import BadRequestData
from ..ngsild.model import Entity

__all__ = ["CANNOT_INDEX_GEOMETRY", "geo_attribute_names", "geometry_refused", "indexable"]

#: MongoDB's error code for a document whose geometry a 2dsphere index cannot take ("Can't
#: extract geo keys"): a self-intersecting polygon, duplicate vertices, crossing edges...
CANNOT_INDEX_GEOMETRY = 16755


def geo_attribute_names(entity: Entity) -> list[str]:
    """The names of the entity's GeoProperties (often none: written as plain loops, as
    batches ask it of thousands of entities)."""
    names = []
    for iri, instances in entity["attrs"].items():
        for inst in instances:
            if inst["type"] == "GeoProperty":
                names.append(iri)
                break
    return names


def geometry_refused(error: Mapping[str, Any] | None) -> BadRequestData:
    """The 400 for a write MongoDB refused because of a geometry (error: its details)."""
    message = str((error or {}).get("errmsg", "")).strip()
    return BadRequestData(
        "A GeoProperty's geometry cannot be indexed (MongoDB 2dsphere): a polygon must not "
        "intersect itself, its rings must not repeat a vertex or cross each other"
        + (f"; MongoDB says: {message}" if message else "")
    )


@contextmanager
def indexable() -> Iterator[None]:
    """Turn MongoDB's refusal of a geometry in a write into a 400 (nothing was written)."""
    try:
        yield
    except (WriteError, OperationFailure) as err:
        if err.code == CANNOT_INDEX_GEOMETRY:
            raise geometry_refused(err.details) from None
        raise
