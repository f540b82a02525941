"""GeoJSON representation of entities (clause 4.5.16, Accept: application/geo+json)."""

from __future__ import annotations

from typing import Any

from ..ngsild.context import Context
from ..ngsild.model import Entity
from ..ngsild.render import RenderOptions, render_entity

__all__ = ["feature", "feature_collection"]


def feature(entity: Entity, ctx: Context, opts: RenderOptions, geometry_iri: str) -> dict[str, Any]:
    """A Feature whose geometry is the chosen GeoProperty and properties the entity."""
    instances = entity["attrs"].get(geometry_iri, [])
    geometry = next((i["value"] for i in instances if i["type"] == "GeoProperty"), None)
    rendered = render_entity(entity, ctx, opts)
    rendered.pop("id")
    return {"id": entity["id"], "type": "Feature", "geometry": geometry, "properties": rendered}


def feature_collection(
    entities: list[Entity], ctx: Context, opts: RenderOptions, geometry_iri: str
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [feature(e, ctx, opts, geometry_iri) for e in entities],
    }
