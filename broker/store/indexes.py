"""The indexes every tenant database has (created on first write, idempotent).

- ``_id``: the entity id, unique per tenant (each tenant has its own database);
- ``type`` and ``attrNames``: the usual query entry points;
- ``modifiedAt``: recent-changes queries and stable ordering;
- 2dsphere on the geometry (default instance) of the core GeoProperties (location, observationSpace,
  operationSpace). Other GeoProperties get theirs when first written (ensure_geo_index).
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from ..ngsild.parse import GEO_ATTRIBUTES
from .documents import attr_path, instance_path

__all__ = ["ENTITIES", "ensure_geo_index", "ensure_indexes"]

ENTITIES = "entities"


def _geo_model(iri: str) -> IndexModel:
    """2dsphere on the geometry of the attribute's default instance (what geo-queries use)."""
    path = instance_path(iri, None) + ".geo"
    return IndexModel([(path, GEOSPHERE)], name=f"geo:{attr_path(iri)}"[:120])


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    await db[ENTITIES].create_indexes(
        [
            IndexModel([("type", ASCENDING), ("_id", ASCENDING)], name="type_id"),
            IndexModel([("attrNames", ASCENDING)], name="attrNames"),
            IndexModel([("modifiedAt", ASCENDING)], name="modifiedAt"),
            *(_geo_model(iri) for iri in sorted(GEO_ATTRIBUTES)),
        ]
    )


async def ensure_geo_index(db: AsyncDatabase[dict[str, Any]], iri: str) -> None:
    await db[ENTITIES].create_indexes([_geo_model(iri)])
