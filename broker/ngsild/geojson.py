"""GeoJSON geometry checks (RFC 7946) for GeoProperty values.

A geometry that reached the store unchecked would either be refused by MongoDB's 2dsphere
index (a 500 for the client) or silently never match a geo-query, so each one is checked
here and a bad one is answered with a 400 that says what is wrong.
"""

from __future__ import annotations

from typing import Any

from .errors import BadRequestData

__all__ = ["GEOMETRY_TYPES", "looks_like_geometry", "validate_geometry"]

GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def looks_like_geometry(value: object) -> bool:
    """True for an object that claims to be a GeoJSON geometry (concise GeoProperty)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)  # a list or an object is unhashable
        and value["type"] in GEOMETRY_TYPES
        and ("coordinates" in value or "geometries" in value)
    )


def _position(p: Any, where: str) -> None:
    if not isinstance(p, list) or not 2 <= len(p) <= 3:
        raise BadRequestData(f"{where}: a position must be an array of 2 or 3 numbers, got {p!r}")
    for n in p:
        if isinstance(n, bool) or not isinstance(n, int | float):
            raise BadRequestData(f"{where}: a position must hold numbers only, got {p!r}")
    lon, lat = p[0], p[1]
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise BadRequestData(
            f"{where}: position {p!r} is out of range: longitude comes first and must be "
            "within [-180, 180], latitude within [-90, 90]"
        )


def _positions(ps: Any, where: str, minimum: int) -> None:
    if not isinstance(ps, list) or len(ps) < minimum:
        raise BadRequestData(f"{where}: expected an array of at least {minimum} positions")
    for p in ps:
        _position(p, where)


def _ring(ring: Any, where: str) -> None:
    _positions(ring, where, 4)
    if ring[0] != ring[-1]:
        raise BadRequestData(f"{where}: a linear ring must be closed (first position == last)")


def _polygon(rings: Any, where: str) -> None:
    if not isinstance(rings, list) or not rings:
        raise BadRequestData(f"{where}: a Polygon needs an array of linear rings")
    for ring in rings:
        _ring(ring, where)


def _many(value: Any, where: str, check: Any) -> None:
    if not isinstance(value, list) or not value:
        raise BadRequestData(f"{where}: expected a non-empty array")
    for item in value:
        check(item, where)


def validate_geometry(value: object, where: str = "GeoProperty") -> None:
    """Raise BadRequestData unless value is a valid GeoJSON geometry."""
    if not isinstance(value, dict):
        raise BadRequestData(f"{where}: the value must be a GeoJSON geometry object")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        raise BadRequestData(
            f"{where}: {kind!r} is not a GeoJSON geometry type "
            f"(expected one of {', '.join(sorted(GEOMETRY_TYPES))})"
        )
    where = f"{where} ({kind})"
    if kind == "GeometryCollection":
        geometries = value.get("geometries")
        if not isinstance(geometries, list):
            raise BadRequestData(f"{where}: 'geometries' must be an array")
        for g in geometries:
            validate_geometry(g, where)
        return
    if "coordinates" not in value:
        raise BadRequestData(f"{where}: 'coordinates' is missing")
    coords = value["coordinates"]
    if kind == "Point":
        _position(coords, where)
    elif kind == "MultiPoint":
        _positions(coords, where, 1)
    elif kind == "LineString":
        _positions(coords, where, 2)
    elif kind == "MultiLineString":
        _many(coords, where, lambda c, w: _positions(c, w, 2))
    elif kind == "Polygon":
        _polygon(coords, where)
    else:
        _many(coords, where, _polygon)
