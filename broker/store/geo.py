"""Which attributes of an entity carry geometries (they need a 2dsphere index)."""

from __future__ import annotations

from ..ngsild.model import Entity

__all__ = ["geo_attribute_names"]


def geo_attribute_names(entity: Entity) -> list[str]:
    return [
        iri
        for iri, instances in entity["attrs"].items()
        if any(i["type"] == "GeoProperty" for i in instances)
    ]
