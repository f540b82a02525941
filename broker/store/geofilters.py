"""Geo-queries (clause 4.10) as MongoDB filters over the stored entity layout.

The target geometry is that of the geoproperty's default instance, stored at
``attrs.<encoded IRI>.@none.geo`` (documents.py). Entities without it never match, as
clause 4.10 requires ("Entities which do not convey the target GeoProperty ... shall be
considered as non-matching"); so neither do entities that only have instances of it with a
datasetId, nor entities where it is not a GeoProperty.

Only ``$geoWithin``, ``$geoIntersects`` and plain comparisons are used, never ``$near``:
``$near`` cannot appear in ``count_documents`` (an aggregation ``$match``), which answers
count=true, and it imposes its own sort on the results. The filters are standard MongoDB,
so they run unchanged on a real server. Combine one with other conditions through ``$and``
(it may have top-level ``$and``/``$nor`` keys of its own), not by merging dicts.

MongoDB computes on a sphere of radius 6378.1 km (``EARTH_RADIUS_M``) and joins positions
with great-circle arcs, where GeoJSON (RFC 7946 section 3.1.1) draws straight lines in
longitude/latitude: for a shape a few kilometres wide the two differ by centimetres, for a
continent they differ visibly.

What each georel means here (T: the entity's target geometry, R: the reference geometry, d:
the distance; "exact" means as exact as MongoDB's S2 predicates):

==============  ==========================================================  ===============
georel          filter and meaning                                          2dsphere index
==============  ==========================================================  ===============
near;maxDist.   ``$geoWithin $centerSphere [R, d/R_earth]``: T lies wholly  yes
                within d of the point R, i.e. within its buffer, as clause
                4.10 words it. Exact for points; for lines and areas
                MongoDB checks every vertex (a cap under a hemisphere is
                convex, so that is exact too) with ~3 m of tolerance at
                the edge. d of half the Earth's circumference or more:
                every entity with T. (Brokers built on ``$near`` or
                PostGIS ST_DWithin match a line or area as soon as a part
                of it is within d; the ETSI suite's official cases only
                use points, where both readings agree.)
near;minDist.   T is disjoint from the buffer: every point of T is farther  no (negation);
                than d from R. Points: exact (not ``$geoWithin`` the cap).  yes for d of a
                Lines and areas: also not ``$geoIntersects`` a 64-gon       quarter of the
                inscribed in the cap, so a road passing near R is out       circumference
                even if both its ends are far; one grazing the cap only     or more
                in the slivers outside the 64-gon (at most 0.12% of d
                deep) is still in. For d of a quarter circumference or
                more, the complement of the cap is the cap around R's
                antipode of radius pi - d/R_earth, at most a hemisphere
                and thus convex, and the filter is exactly ``$geoWithin``
                that cap. Nothing matches from half the circumference on.
within          ``$geoWithin $geometry R``: T lies inside R. R must be a     yes
                Polygon or MultiPolygon (MongoDB's only containers); any
                other R is refused with BadRequestData. Exact.
intersects      ``$geoIntersects R``. Exact.                                yes
contains        T contains R: T is of R's dimension or higher, and every    yes (one of the
                vertex of R (rings' included) ``$geoIntersects`` T.         vertex clauses)
                MongoDB has no "contains". Exact for a Point or MultiPoint
                R, and for any R when T is a convex Polygon without holes;
                wrong (a false match) when R leaves a concave T, or crosses
                a hole, between two of its vertices; a vertex on T's
                boundary counts as inside (the OGC would say not).
disjoint        T exists and does not ``$geoIntersects`` R. Exact.          no (negation)
equals          T is the same GeoJSON as R: same type, same positions in    yes (through an
                the same order (compared as values, so key order and       added
                extra members of T do not matter), plus ``$geoIntersects    ``$geoIntersects
                R`` to let the index narrow the scan. The OGC's equality    R``)
                is of point sets: a ring written from another vertex or
                the other way round, or with a repeated position, is equal
                to the OGC but does not match here.
overlaps        T has R's dimension (no single Point ever overlaps          yes (the
                anything: nothing matches a Point R), T ``$geoIntersects``  ``$geoIntersects``
                R, T does not contain R (as for contains above) and, when  clause)
                R is an area, T is not ``$geoWithin`` R. Approximations:
                geometries that only touch (a shared edge, lines crossing
                at a point) count as overlapping; for lines and points T
                inside R is not excluded; the contains test errs as above.
==============  ==========================================================  ===============

Which index: a 2dsphere index exists on the geometry path of location, observationSpace and
operationSpace, and of any other GeoProperty once written (indexes.py). The georels marked
"no" are evaluated document by document on whatever the rest of the query (type, ids)
narrows the scan to; MongoDB runs the others without an index too, only slower.
"""

from __future__ import annotations

import math
from typing import Any, Final

from ..ngsild.errors import BadRequestData
from ..ngsild.geoquery import GeoQuery
from .documents import instance_path

__all__ = ["CIRCLE_VERTICES", "EARTH_RADIUS_M", "geo_filter", "geometry_path"]

#: MongoDB's Earth radius (kRadiusOfEarthInMeters): $centerSphere radians = meters / this.
EARTH_RADIUS_M: Final = 6_378_100.0
#: Vertices of the polygon inscribed in a near;minDistance cap (see the module docstring).
CIRCLE_VERTICES: Final = 64

_DIMENSION: Final = {
    "Point": 0,
    "MultiPoint": 0,
    "LineString": 1,
    "MultiLineString": 1,
    "Polygon": 2,
    "MultiPolygon": 2,
}
_AREAS: Final = frozenset({"Polygon", "MultiPolygon"})
#: A filter no document matches (and that MongoDB answers without a scan).
_NOTHING: Final[dict[str, Any]] = {"_id": {"$in": []}}


def geometry_path(geoproperty: str) -> str:
    """Where the geometry of the GeoProperty's default instance is stored."""
    return instance_path(geoproperty, None) + ".geo"


def geo_filter(q: GeoQuery) -> dict[str, Any]:
    """The MongoDB filter that selects the entities matching q (see the module docstring).

    Raises BadRequestData for a geo-query MongoDB cannot answer (within a non-area).
    """
    path = geometry_path(q.geoproperty)
    reference = q.reference
    if q.georel == "near":
        center = [q.coordinates[0], q.coordinates[1]]
        if q.max_distance is not None:
            return _near_max(path, center, q.max_distance / EARTH_RADIUS_M)
        if q.min_distance is None:  # GeoQuery guarantees one of them for near
            raise BadRequestData("georel 'near' needs maxDistance or minDistance")
        return _near_min(path, center, q.min_distance / EARTH_RADIUS_M)
    if q.georel == "within":
        if q.geometry not in _AREAS:
            raise BadRequestData(
                f"georel 'within' needs a Polygon or MultiPolygon reference geometry, got a "
                f"{q.geometry}: the store can only test whether geometries lie within an area"
            )
        return {path: {"$geoWithin": {"$geometry": reference}}}
    if q.georel == "intersects":
        return {path: _intersects(reference)}
    if q.georel == "disjoint":
        return {path: {"$exists": True}, "$nor": [{path: _intersects(reference)}]}
    if q.georel == "equals":
        return {
            path: _intersects(reference),
            path + ".type": q.geometry,
            path + ".coordinates": q.coordinates,
        }
    dimension = _DIMENSION[q.geometry]
    if q.georel == "contains":
        kinds = [kind for kind, dim in _DIMENSION.items() if dim >= dimension]
        return {path + ".type": {"$in": kinds}, "$and": _covers_vertices(path, q)}
    # overlaps
    if q.geometry == "Point":
        return dict(_NOTHING)
    kinds = [kind for kind, dim in _DIMENSION.items() if dim == dimension and kind != "Point"]
    excluded: list[dict[str, Any]] = [{"$and": _covers_vertices(path, q)}]
    if q.geometry in _AREAS:
        excluded.append({path: {"$geoWithin": {"$geometry": reference}}})
    return {path + ".type": {"$in": kinds}, path: _intersects(reference), "$nor": excluded}


def _intersects(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"$geoIntersects": {"$geometry": geometry}}


def _near_max(path: str, center: list[float], radius: float) -> dict[str, Any]:
    if radius >= math.pi:  # the cap is the whole sphere
        return {path: {"$exists": True}}
    return {path: {"$geoWithin": {"$centerSphere": [center, radius]}}}


def _near_min(path: str, center: list[float], radius: float) -> dict[str, Any]:
    if radius >= math.pi:  # nothing on Earth is farther than half its circumference
        return dict(_NOTHING)
    if radius >= math.pi / 2:
        # The complement of the cap is the cap around the antipode, at most a hemisphere.
        return {path: {"$geoWithin": {"$centerSphere": [_antipode(center), math.pi - radius]}}}
    return {
        path: {"$exists": True},
        "$nor": [
            {path: {"$geoWithin": {"$centerSphere": [center, radius]}}},
            {path: _intersects(_inscribed_polygon(center, radius))},
        ],
    }


def _antipode(center: list[float]) -> list[float]:
    lon, lat = center
    return [lon - 180 if lon > 0 else lon + 180, -lat]


def _inscribed_polygon(center: list[float], radius: float) -> dict[str, Any]:
    """A Polygon whose vertices lie on the circle of the given angular radius around center.

    Each vertex is the point at that distance on an evenly spaced bearing (the spherical
    "destination point" formula). For a cap smaller than a hemisphere the great-circle edges
    between them stay inside the cap, so whatever intersects the polygon is within the
    distance.
    """
    lon1, lat1 = math.radians(center[0]), math.radians(center[1])
    ring: list[list[float]] = []
    for i in range(CIRCLE_VERTICES):
        bearing = 2 * math.pi * i / CIRCLE_VERTICES
        sin_lat2 = math.sin(lat1) * math.cos(radius) + math.cos(lat1) * math.sin(radius) * math.cos(
            bearing
        )
        lat2 = math.asin(max(-1.0, min(1.0, sin_lat2)))
        lon2 = lon1 + math.atan2(
            math.sin(bearing) * math.sin(radius) * math.cos(lat1),
            math.cos(radius) - math.sin(lat1) * sin_lat2,
        )
        lon = (math.degrees(lon2) + 180) % 360 - 180
        ring.append([lon, math.degrees(lat2)])
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def _covers_vertices(path: str, q: GeoQuery) -> list[dict[str, Any]]:
    """One $geoIntersects clause per distinct vertex of q's reference geometry."""
    return [
        {path: _intersects({"type": "Point", "coordinates": vertex})}
        for vertex in _vertices(q.coordinates, q.geometry)
    ]


def _vertices(coordinates: list[Any], kind: str) -> list[list[float]]:
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2}
    positions: list[Any] = [coordinates]
    for _ in range(depth.get(kind, 3)):
        positions = [inner for outer in positions for inner in outer]
    unique: dict[tuple[float, float], list[float]] = {}
    for p in positions:
        unique.setdefault((float(p[0]), float(p[1])), [p[0], p[1]])
    return list(unique.values())
