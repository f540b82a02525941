"""``$geoWithin`` and ``$geoIntersects`` for the dev store, in place of mongomock-ng's.

mongomock-ng 7.11's geospatial matching gets the broker's geo-queries (store/geofilters.py)
wrong: ``$geoWithin`` refuses ``$centerSphere``, its point-in-polygon test computes the
crossings of slanted edges with a wrong formula, and ``$geoIntersects`` misses a query
Polygon or LineString lying wholly inside a stored Polygon. ``install`` replaces both
operators in mongomock's operator map (the single ``_Filterer`` behind find, count,
delete, update and an aggregation's ``$match``, also under ``$not``, ``$and``, ...) with
the functions below. mongomock's ``$near``/``$geoNear`` are left as they are.

What they compute, and how it differs from MongoDB (whose S2 library works on the sphere,
with great-circle edges and exact predicates). This is a development and test tool: good
for city-scale data, not a geodesy library.

- ``$centerSphere: [[lon, lat], radians]`` is spherical (haversine): a Point is within if
  its great-circle distance to the center is at most the radius (plus ~1e-9 rad, ~6 mm:
  MongoDB tests the point's S2 leaf cell, ~1 cm). A LineString or Polygon (holes included)
  is within if all its vertices are, MongoDB's rule, with MongoDB's quirk that a vertex of
  a line or polygon must be at least pi *metres* inside the circle (geometry_container.cpp
  compares a distance in metres with an arc length clamped to pi). Multi-geometries and
  GeometryCollections: every part. A radius of pi or more holds everything.
- Everything else is planar in longitude/latitude degrees: edges are straight lines
  between positions, not great-circle arcs. Both agree at the vertices; in between, a
  great circle bends poleward by about L^2 tan(lat) / 8R for an east-west edge of length
  L: ~1.4 cm for 1 km at 35 degrees latitude, ~1.4 m for 10 km, ~140 m for 100 km. So
  answers are exact for points, and for shapes that are not near each other's edges
  relative to that bend. Longitudes are unwrapped (each edge goes the short way round,
  as a great circle does, so shapes across the antimeridian work, and the two shapes are
  compared at the offsets of 360 degrees that bring them together), but a ring around a
  pole cannot be drawn in the plane: as a query it is refused (NotImplemented, 238), and
  a stored one never matches.
- Boundaries are closed: a point on an edge or vertex (within 1e-9 degrees, ~0.1 mm) is
  within and intersects, as MongoDB has it for points (S2's leaf-cell test); shapes that
  merely touch (a shared vertex or edge, a line ending on a boundary) intersect here,
  while S2's semi-open polygon boundaries may say they do not.
- ``$geoWithin $geometry`` takes a Polygon or MultiPolygon (or a GeometryCollection with
  some) as MongoDB does; anything else is BadValue. A stored Point, LineString or Polygon
  is within if it lies inside one of the query's polygons (holes are not part of a
  polygon); a stored multi-geometry or GeometryCollection if each of its parts lies
  inside one of them (possibly different ones): MongoDB's rule too, so a line crossing
  from one polygon of a MultiPolygon into an adjacent one is not within.
- ``$geoIntersects $geometry`` takes any GeoJSON geometry: true if some part of the stored
  geometry and some part of the query share a point, containment either way included.
- Stored values: GeoJSON objects, legacy pairs (``[lon, lat]``, ``{x: lon, y: lat}``) as
  points, and arrays of either (any element may match). Values that are no valid
  geometry just do not match; they are not checked further (a real 2dsphere index refuses
  a self-crossing polygon at write time, the dev store does not).
- Query geometries are checked as MongoDB does in outline (positions in range, closed
  rings of 3 distinct vertices or more, rings that do not cross themselves or each other,
  holes inside the shell), and refused with BadValue (2), with messages of our own. Legacy
  flat shapes (``$box``, ``$center``, ``$polygon``) and big polygons (the strictwinding
  ``crs``) are not supported (238). As everywhere in mongomock, a query is only looked at
  document by document, so a bad one goes unnoticed by an empty collection.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final

from pymongo.errors import OperationFailure

__all__ = ["geo_intersects", "geo_within", "install"]

Point = tuple[float, float]
Ring = tuple[Point, ...]

#: MongoDB's Earth radius (kRadiusOfEarthInMeters), for its $centerSphere quirk.
EARTH_RADIUS_M: Final = 6_378_100.0
#: Planar tolerance, in degrees (~0.1 mm): a point this close to an edge is on it.
EPS: Final = 1e-9
#: Angular tolerance, in radians (~6 mm), for a point at the edge of a $centerSphere cap.
CAP_SLACK: Final = 1e-9
_BAD_VALUE: Final = 2
_POINT, _LINE, _AREA = 0, 1, 2
_OUT, _EDGE, _IN = 0, 1, 2
_STRICT_WINDING: Final = "urn:x-mongodb:crs:strictwinding:EPSG:4326"


class _Invalid(Exception):
    """Not a geometry MongoDB accepts (a query with it is BadValue, a stored one no match)."""


class _Unsupported(Exception):
    """A geometry MongoDB accepts but the dev store cannot compute with."""


@dataclass(frozen=True, slots=True)
class _Part:
    """A point, a line or a polygon (outer ring first), unwrapped, with its bounding box."""

    kind: int
    rings: tuple[Ring, ...]
    west: float
    south: float
    east: float
    north: float


def _part(kind: int, rings: tuple[Ring, ...]) -> _Part:
    lons = [p[0] for ring in rings for p in ring]
    lats = [p[1] for ring in rings for p in ring]
    return _Part(kind, rings, min(lons), min(lats), max(lons), max(lats))


def _moved(part: _Part, turn: float) -> _Part:
    rings = tuple(tuple((lon + turn, lat) for lon, lat in ring) for ring in part.rings)
    return _Part(part.kind, rings, part.west + turn, part.south, part.east + turn, part.north)


def _placements(part: _Part, other: _Part) -> Iterator[_Part]:
    """part, moved by whole turns of longitude, wherever its box meets other's."""
    if part.south > other.north + EPS or other.south > part.north + EPS:
        return
    for turn in (0.0, 360.0, -360.0):
        if part.west + turn <= other.east + EPS and other.west <= part.east + turn + EPS:
            yield part if turn == 0.0 else _moved(part, turn)


# -- parsing ---------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _in_range(lon: float, lat: float) -> Point:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise _Invalid(f"longitude/latitude is out of bounds, lng: {lon} lat: {lat}")
    return (lon, lat)


def _position(value: Any) -> Point:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise _Invalid(f"GeoJSON position must be an array of at least 2 numbers: {value!r}")
    numbers = [_number(item) for item in value]
    lon, lat = numbers[0], numbers[1]
    if lon is None or lat is None or None in numbers:
        raise _Invalid(f"GeoJSON position must only contain numbers: {value!r}")
    return _in_range(lon, lat)


def _positions(value: Any, what: str, minimum: int) -> list[Point]:
    if not isinstance(value, list | tuple) or len(value) < minimum:
        raise _Invalid(f"{what} must be an array of at least {minimum} positions")
    return [_position(item) for item in value]


def _array(value: Any, what: str) -> Sequence[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise _Invalid(f"{what} coordinates must have at least 1 element")
    return value


def _unwrap(points: Iterable[Point], previous: float | None) -> list[Point]:
    """Longitudes moved by whole turns so that each edge spans at most 180 degrees."""
    unwrapped: list[Point] = []
    for lon, lat in points:
        if previous is not None:
            lon += 360.0 * round((previous - lon) / 360.0)
        unwrapped.append((lon, lat))
        previous = lon
    return unwrapped


def _same_place(a: Point, b: Point) -> bool:
    """Whether two positions are one point of the sphere (e.g. longitudes -180 and 180)."""
    return a[1] == b[1] and (abs(a[1]) == 90.0 or (a[0] - b[0]) % 360.0 == 0.0)


def _deduplicated(points: Iterable[Point]) -> list[Point]:
    """Without consecutive repeats (MongoDB drops them too)."""
    kept: list[Point] = []
    for point in points:
        if not kept or kept[-1] != point:
            kept.append(point)
    return kept


def _line(value: Any) -> _Part:
    points = _deduplicated(_unwrap(_positions(value, "LineString", 2), None))
    if len(points) == 1:
        points.append(points[0])
    return _part(_LINE, (tuple(points),))


def _polygon(value: Any) -> _Part:
    rings: list[Ring] = []
    for ring in _array(value, "Polygon"):
        positions = _positions(ring, "a Polygon's ring", 4)
        if not _same_place(positions[0], positions[-1]):
            raise _Invalid("Loop is not closed, first vertex does not equal last vertex")
        points = _deduplicated(_unwrap(positions, rings[0][0][0] if rings else None))
        if len(points) < 4:
            raise _Invalid("Loop must have at least 3 different vertices")
        if abs(points[-1][0] - points[0][0]) > EPS:  # back a turn of longitude away
            raise _Unsupported("polygon rings around a pole are not supported")
        points[-1] = points[0]
        rings.append(tuple(points))
    return _part(_AREA, tuple(rings))


def _geojson(value: Mapping[str, Any]) -> list[_Part]:
    kind = value.get("type")
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list | tuple) or not members:
            raise _Invalid("GeometryCollection geometries must have at least 1 element")
        parts: list[_Part] = []
        for member in members:
            if not isinstance(member, Mapping):
                raise _Invalid("a GeometryCollection's geometries must be GeoJSON objects")
            parts.extend(_geojson(member))
        return parts
    crs = value.get("crs")
    if isinstance(crs, Mapping) and _STRICT_WINDING in str(crs.get("properties")):
        raise _Unsupported("big polygons (the strictwinding crs) are not supported")
    coordinates = value.get("coordinates")
    if kind == "Point":
        return [_part(_POINT, ((_position(coordinates),),))]
    if kind == "MultiPoint":
        return [_part(_POINT, ((_position(p),),)) for p in _array(coordinates, kind)]
    if kind == "LineString":
        return [_line(coordinates)]
    if kind == "MultiLineString":
        return [_line(line) for line in _array(coordinates, kind)]
    if kind == "Polygon":
        return [_polygon(coordinates)]
    if kind == "MultiPolygon":
        return [_polygon(polygon) for polygon in _array(coordinates, kind)]
    raise _Invalid(f"unknown GeoJSON type: {kind!r}")


def _legacy_point(value: Any) -> Point | None:
    """A legacy coordinate pair: [lon, lat] or a document of two numbers."""
    items = list(value.values()) if isinstance(value, Mapping) else value
    if not isinstance(items, list | tuple) or len(items) != 2:
        return None
    lon, lat = _number(items[0]), _number(items[1])
    if lon is None or lat is None:
        return None
    return _in_range(lon, lat)


def _stored(value: Any) -> Iterator[list[_Part]]:
    """The geometries a stored value holds: itself, or any element of an array."""
    candidates = [value, *value] if isinstance(value, list) else [value]
    for candidate in candidates:
        try:
            if isinstance(candidate, Mapping) and "type" in candidate:
                yield _geojson(candidate)
                continue
            point = _legacy_point(candidate)
        except (_Invalid, _Unsupported):
            continue
        if point is not None:
            yield [_part(_POINT, ((point,),))]


# -- planar predicates -----------------------------------------------------------------


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0
    if length2 > 0.0:
        t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    ex, ey = a[0] + t * dx - p[0], a[1] + t * dy - p[1]
    return ex * ex + ey * ey <= EPS * EPS


def _cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether segments ab and cd cross at a point inside both."""
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    return ((d1 > 0.0 > d2) or (d1 < 0.0 < d2)) and ((d3 > 0.0 > d4) or (d3 < 0.0 < d4))


def _meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether the closed segments ab and cd share a point."""
    return (
        _cross(a, b, c, d)
        or _on_segment(a, c, d)
        or _on_segment(b, c, d)
        or _on_segment(c, a, b)
        or _on_segment(d, a, b)
    )


def _ring_location(p: Point, ring: Ring) -> int:
    x, y = p
    inside = False
    for a, b in pairwise(ring):
        if _on_segment(p, a, b):
            return _EDGE
        if (a[1] > y) != (b[1] > y) and x < a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]):
            inside = not inside
    return _IN if inside else _OUT


def _location(p: Point, area: _Part) -> int:
    """Where p is relative to a polygon: inside, on its boundary, or out (holes are out)."""
    if not (
        area.west - EPS <= p[0] <= area.east + EPS and area.south - EPS <= p[1] <= area.north + EPS
    ):
        return _OUT
    where = _ring_location(p, area.rings[0])
    if where != _IN:
        return where
    for hole in area.rings[1:]:
        in_hole = _ring_location(p, hole)
        if in_hole != _OUT:
            return _OUT if in_hole == _IN else _EDGE
    return _IN


def _covers_segment(area: _Part, a: Point, b: Point) -> bool:
    """Whether the closed segment ab lies in the polygon (boundary included).

    ab is cut wherever it meets the boundary; between two cuts it is wholly inside or
    wholly outside, as its midpoint is.
    """
    if _location(a, area) == _OUT or _location(b, area) == _OUT:
        return False
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return True
    cuts = [0.0, 1.0]
    for ring in area.rings:
        for c, d in pairwise(ring):
            if _cross(a, b, c, d):
                oa, ob = _orient(c, d, a), _orient(c, d, b)
                cuts.append(oa / (oa - ob))
            for end in (c, d):
                if _on_segment(end, a, b):
                    cuts.append(((end[0] - a[0]) * dx + (end[1] - a[1]) * dy) / length2)
    cuts.sort()
    for t0, t1 in pairwise(cuts):
        if t1 > t0:
            t = (t0 + t1) / 2
            if _location((a[0] + t * dx, a[1] + t * dy), area) == _OUT:
                return False
    return True


def _interior_point(ring: Ring) -> Point | None:
    """A point strictly inside a ring: halfway between the first two crossings of a
    horizontal line through no vertex (None for a ring without area)."""
    ys = sorted({p[1] for p in ring})
    if len(ys) < 2:
        return None
    y = (ys[0] + ys[1]) / 2
    xs = sorted(
        a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        for a, b in pairwise(ring)
        if (a[1] > y) != (b[1] > y)
    )
    return ((xs[0] + xs[1]) / 2, y) if len(xs) >= 2 else None


def _covers(area: _Part, part: _Part) -> bool:
    """Whether the polygon area covers part (a point, a line or a polygon)."""
    if part.kind == _POINT:
        return _location(part.rings[0][0], area) != _OUT
    # Every edge of part (of its holes too) must lie in the area; that leaves the area's
    # holes, which must not be inside part (unless in one of part's own holes). Part's
    # boundary does not enter them, so one point inside each hole tells.
    if not all(_covers_segment(area, a, b) for ring in part.rings for a, b in pairwise(ring)):
        return False
    if part.kind == _LINE:
        return True
    for hole in area.rings[1:]:
        inner = _interior_point(hole)
        if inner is not None and _location(inner, part) != _OUT:
            return False
    return True


def _edges_meet(rings: Iterable[Ring], others: Sequence[Ring]) -> bool:
    return any(
        _meet(a, b, c, d)
        for ring in rings
        for a, b in pairwise(ring)
        for other in others
        for c, d in pairwise(other)
    )


def _intersect(first: _Part, second: _Part) -> bool:
    """Whether two parts share a point (boundaries included)."""
    a, b = (first, second) if first.kind <= second.kind else (second, first)
    if a.kind == _POINT:
        p = a.rings[0][0]
        if b.kind == _POINT:
            q = b.rings[0][0]
            return abs(p[0] - q[0]) <= EPS and abs(p[1] - q[1]) <= EPS
        if b.kind == _LINE:
            return any(_on_segment(p, c, d) for c, d in pairwise(b.rings[0]))
        return _location(p, b) != _OUT
    if a.kind == _LINE and b.kind == _LINE:
        return _edges_meet(a.rings, b.rings)
    # b is a polygon: without boundary contact, a lies wholly inside or wholly outside
    # b, and (if a is a polygon too) b wholly inside or outside a; one vertex tells.
    if _location(a.rings[0][0], b) != _OUT:
        return True
    if a.kind == _AREA and _location(b.rings[0][0], a) != _OUT:
        return True
    return _edges_meet(a.rings, b.rings)


# -- spherical cap ($centerSphere) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cap:
    lon: float  # radians
    lat: float
    radius: float

    def angle_to(self, p: Point) -> float:
        lon, lat = math.radians(p[0]), math.radians(p[1])
        h = (
            math.sin((lat - self.lat) / 2) ** 2
            + math.cos(self.lat) * math.cos(lat) * math.sin((lon - self.lon) / 2) ** 2
        )
        return 2 * math.asin(math.sqrt(min(1.0, h)))

    def holds(self, part: _Part) -> bool:
        if self.radius >= math.pi:
            return True
        if part.kind == _POINT:
            return self.angle_to(part.rings[0][0]) <= self.radius + CAP_SLACK
        # MongoDB: a vertex fails if its distance to the complement cap, in metres, is
        # under the complement's arc length clamped to pi, i.e. pi metres in practice.
        arc = min(EARTH_RADIUS_M * (math.pi - self.radius), math.pi)
        return all(
            EARTH_RADIUS_M * max(0.0, self.radius - self.angle_to(p)) >= arc
            for ring in part.rings
            for p in ring
        )


# -- query specifications --------------------------------------------------------------


_Test = Callable[[list[_Part]], bool]


def _query_geometry(value: Any, operator: str) -> list[_Part]:
    if not isinstance(value, Mapping):
        raise _Invalid(f"{operator}: $geometry must be a GeoJSON object")
    parts = _geojson(value)
    for part in parts:
        if part.kind == _AREA:
            _check_polygon(part)
    return parts


def _check_polygon(area: _Part) -> None:
    """Refuse the polygons S2 refuses, roughly: self-crossing rings, holes outside."""
    edges = [
        (i, j, a, b) for i, ring in enumerate(area.rings) for j, (a, b) in enumerate(pairwise(ring))
    ]
    for index, (i, j, a, b) in enumerate(edges):
        for k, m, c, d in edges[index + 1 :]:
            if _cross(a, b, c, d):
                if i == k:
                    raise _Invalid(f"Loop is not valid: edges {j} and {m} cross")
                raise _Invalid(f"Polygon is not valid: loops {i} and {k} cross")
    shell = _part(_AREA, area.rings[:1])
    for ring in area.rings[1:]:
        if not all(_location(p, shell) != _OUT for p in ring):
            raise _Invalid(
                "Secondary loops not contained by first exterior loop - "
                "secondary loops must be holes"
            )
    for ring in area.rings:
        if len(set(ring)) != len(ring) - 1:
            raise _Invalid("Loop is not valid: duplicate vertices")


def _cap(value: Any) -> _Cap:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _Invalid("$centerSphere must be an array of a center point and a radius")
    center, radius = value
    point = _legacy_point(center)
    if point is None:
        raise _Invalid("$centerSphere's center must be a point: [longitude, latitude]")
    number = _number(radius)
    if number is None or number < 0:
        raise _Invalid("radius must be a non-negative number")
    return _Cap(math.radians(point[0]), math.radians(point[1]), number)


def _within_test(spec: Any) -> _Test:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise _Invalid("$geoWithin needs one shape: {$geometry: ...} or {$centerSphere: ...}")
    ((shape, value),) = spec.items()
    if shape == "$centerSphere":
        cap = _cap(value)
        return lambda parts: all(cap.holds(part) for part in parts)
    if shape in ("$box", "$center", "$polygon"):
        raise _Unsupported(f"$geoWithin {shape} (legacy flat shapes) is not supported")
    if shape != "$geometry":
        raise _Invalid(f"unknown geo specifier: {shape}")
    areas = [part for part in _query_geometry(value, "$geoWithin") if part.kind == _AREA]
    if not areas:
        raise _Invalid(f"$geoWithin not supported with provided geometry: {value!r}")

    def within(parts: list[_Part]) -> bool:
        return all(
            any(_covers(area, moved) for area in areas for moved in _placements(part, area))
            for part in parts
        )

    return within


def _intersects_test(spec: Any) -> _Test:
    if not isinstance(spec, Mapping) or "$geometry" not in spec:
        raise _Invalid("$geoIntersects needs {$geometry: <GeoJSON>}")
    query = _query_geometry(spec["$geometry"], "$geoIntersects")

    def intersects(parts: list[_Part]) -> bool:
        return any(
            _intersect(moved, other)
            for part in parts
            for other in query
            for moved in _placements(part, other)
        )

    return intersects


#: Compiled query specs by id, with the spec itself: it stays alive, so its id is not
#: reused, and a query reuses one spec object for all the documents it tests.
_compiled: dict[int, tuple[object, _Test]] = {}
_MAX_COMPILED: Final = 256


def _test(spec: Any, compile: Callable[[Any], _Test]) -> _Test:
    cached = _compiled.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    try:
        test = compile(spec)
    except _Invalid as exc:
        raise OperationFailure(str(exc), _BAD_VALUE) from None
    except _Unsupported as exc:
        raise NotImplementedError(str(exc)) from None
    if len(_compiled) >= _MAX_COMPILED:
        _compiled.clear()
    _compiled[id(spec)] = (spec, test)
    return test


def geo_within(value: Any, spec: Any) -> bool:
    """mongomock operator: whether the stored value is ``$geoWithin`` spec."""
    test = _test(spec, _within_test)  # first, so that a bad query fails on any document
    return any(test(parts) for parts in _stored(value))


def geo_intersects(value: Any, spec: Any) -> bool:
    """mongomock operator: whether the stored value ``$geoIntersects`` spec."""
    test = _test(spec, _intersects_test)
    return any(test(parts) for parts in _stored(value))


def install(filtering: Any) -> None:
    """Put these operators in place of mongomock-ng's (filtering: mongomock_ng.filtering)."""
    operators: dict[str, Any] = filtering._filterer_inst._operator_map
    if "$geoWithin" not in operators or "$geoIntersects" not in operators:
        raise RuntimeError("mongomock-ng's operator map has no geo operators to replace")
    operators["$geoWithin"] = geo_within
    operators["$geoIntersects"] = geo_intersects
