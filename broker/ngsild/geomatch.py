"""Evaluate a geo-query (clause 4.10, see geoquery.py) on one entity in memory.

Subscriptions test their geoQ on every matching change, without a round trip to the store.
Points (the usual target: a sensor's or a vehicle's location) are evaluated exactly, with
great-circle distances on MongoDB's sphere; lines and areas are evaluated through their
vertices (a road that crosses a zone without a vertex inside it does not "intersect" it
here). The store's geo-queries (MongoDB S2) remain the reference for Query Entities.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from .geoquery import GeoQuery
from .model import Entity

__all__ = ["EARTH_RADIUS_M", "geo_matches"]

#: The radius MongoDB's spherical geometry uses.
EARTH_RADIUS_M = 6378100.0

Position = Sequence[float]


def _positions(geometry: dict[str, Any]) -> Iterator[Position]:
    def walk(value: Any) -> Iterator[Position]:
        if value and isinstance(value[0], int | float):
            yield value
        else:
            for item in value:
                yield from walk(item)

    yield from walk(geometry.get("coordinates") or [])


def _polygons(geometry: dict[str, Any]) -> list[list[list[Position]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"]]
    if geometry.get("type") == "MultiPolygon":
        return list(geometry["coordinates"])
    return []


def distance(a: Position, b: Position) -> float:
    """Great-circle distance in meters (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _in_ring(p: Position, ring: Sequence[Position]) -> bool:
    x, y = p[0], p[1]
    inside = False
    for i in range(len(ring) - 1):
        (x1, y1), (x2, y2) = ring[i][:2], ring[i + 1][:2]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _in_polygons(p: Position, polygons: list[list[list[Position]]]) -> bool:
    return any(
        _in_ring(p, rings[0]) and not any(_in_ring(p, hole) for hole in rings[1:])
        for rings in polygons
    )


def _same(a: Position, b: Position) -> bool:
    return abs(a[0] - b[0]) < 1e-12 and abs(a[1] - b[1]) < 1e-12


def _intersects(target: dict[str, Any], reference: dict[str, Any]) -> bool:
    t_points, r_points = list(_positions(target)), list(_positions(reference))
    r_polygons, t_polygons = _polygons(reference), _polygons(target)
    if any(_in_polygons(p, r_polygons) for p in t_points):
        return True
    if any(_in_polygons(p, t_polygons) for p in r_points):
        return True
    return any(_same(a, b) for a in t_points for b in r_points)


def _within(target: dict[str, Any], reference: dict[str, Any]) -> bool:
    polygons = _polygons(reference)
    points = list(_positions(target))
    if polygons:
        return bool(points) and all(_in_polygons(p, polygons) for p in points)
    return target == reference


def geo_matches(query: GeoQuery, entity: Entity) -> bool:
    """Whether the entity's target GeoProperty (default instance) satisfies the query;
    entities without it never match (clause 4.10)."""
    target: dict[str, Any] | None = None
    for inst in entity["attrs"].get(query.geoproperty, ()):
        if "datasetId" not in inst and inst.get("type") == "GeoProperty":
            target = inst["value"]
    if not isinstance(target, dict):
        return False
    reference = query.reference
    rel = query.georel
    if rel == "near":
        origin = query.coordinates
        distances = [distance(p, origin) for p in _positions(target)]
        if not distances:
            return False
        if query.max_distance is not None:
            return all(d <= query.max_distance for d in distances)
        return all(d >= (query.min_distance or 0.0) for d in distances)
    if rel == "within":
        return _within(target, reference)
    if rel == "contains":
        return _within(reference, target)
    if rel == "intersects":
        return _intersects(target, reference)
    if rel == "disjoint":
        return not _intersects(target, reference)
    if rel == "equals":
        return bool(target.get("type") == reference["type"]) and bool(
            target.get("coordinates") == reference["coordinates"]
        )
    # overlaps: the two areas share some but not all of their points
    return (
        _intersects(target, reference)
        and not _within(target, reference)
        and not _within(reference, target)
    )
