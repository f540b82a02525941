"""NGSI-LD geo-queries (ETSI GS CIM 009 V1.9.1 clause 4.10): parsing and validation.

A geo-query is four parameters (clause 4.10); the GeoQuery data type of a POST query body
or a subscription (clause 5.2.13) has the same four members:

- ``georel``: the relationship, ``near;maxDistance==<meters>``, ``near;minDistance==<meters>``,
  ``within``, ``contains``, ``intersects``, ``overlaps``, ``disjoint`` or ``equals``;
- ``geometry``: the type of the reference geometry, a GeoJSON geometry type other than
  GeometryCollection (RFC 7946 section 1.4);
- ``coordinates``: the reference geometry's coordinates, a JSON array (RFC 7946 section
  3.1.1); in a URL it is JSON text, in a body an array or a string holding one (5.2.13);
- ``geoproperty``: the GeoProperty the query applies to, ``location`` when absent.

georel, geometry and coordinates go together: a request with some of them but not all is
refused (a silently dropped geo-query would return entities from the whole world).

Everything is checked here, before the store sees it, so that a client gets a 400 that says
what is wrong rather than a store error (a 500) or, worse, a query that never matches:

- the grammar of clause 4.10: ``nearRel = nearOp andOp distance equal PositiveNumber`` takes
  exactly one distance, and PositiveNumber is an RFC 8259 number without a minus sign and
  other than 0, so ``0``, ``-100``, ``inf``, ``+5``, ``.5`` and ``1e400`` (no finite number)
  are refused. ABNF quoted strings are case-insensitive (RFC 5234 section 2.3), so ``WITHIN``
  or ``near;MaxDistance==5`` are accepted and stored in their canonical spelling;
- the reference geometry is a valid GeoJSON geometry of the given type (right nesting,
  longitude within [-180, 180], latitude within [-90, 90], closed rings), and valid in the
  sense of the geometry model the relationships are defined on (clause 4.10 refers to the OGC
  Simple Features): a LineString has two different positions, a ring three, no ring repeats
  a position or crosses itself or another ring, no edge joins antipodal points. MongoDB
  refuses such geometries too (S2 loop validation), so this only turns its error into a
  precise 400;
- ``near`` takes a Point: the broker measures distances from a point (see
  broker.store.geofilters; the spec's buffer of a line or polygon has no MongoDB operator).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final, Literal, cast

import orjson

from .errors import BadRequestData
from .geojson import GEOMETRY_TYPES, validate_geometry
from .parse import check_attribute_name
from .uris import is_uri

__all__ = [
    "GEORELS",
    "LOCATION",
    "QUERY_GEOMETRY_TYPES",
    "GeoQuery",
    "GeoRel",
    "check_simple_geometry",
    "parse_geoquery",
]

GeoRel = Literal["near", "within", "contains", "intersects", "overlaps", "disjoint", "equals"]

#: The geo-relationships of clause 4.10, in the order the grammar lists them.
GEORELS: Final[tuple[GeoRel, ...]] = (
    "near",
    "within",
    "contains",
    "overlaps",
    "intersects",
    "equals",
    "disjoint",
)
#: Reference geometry types: the GeoJSON ones "except GeometryCollection" (clause 4.10).
QUERY_GEOMETRY_TYPES: Final = GEOMETRY_TYPES - {"GeometryCollection"}
#: The default target GeoProperty (clauses 4.7.1 and 4.10), a core term.
LOCATION: Final = "https://uri.etsi.org/ngsi-ld/location"

_GEOREL_FORMS = (
    "near;maxDistance==<meters>, near;minDistance==<meters>, within, contains, intersects, "
    "overlaps, disjoint or equals"
)
# RFC 8259 section 6 number, without the minus sign (clause 4.10 PositiveNumber).
_POSITIVE_NUMBER = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_DEPTH: Final = {
    "Point": 1,
    "MultiPoint": 2,
    "LineString": 2,
    "MultiLineString": 3,
    "Polygon": 3,
    "MultiPolygon": 4,
}
_SHAPE: Final = {
    "Point": "[lon,lat]",
    "MultiPoint": "[[lon,lat],...]",
    "LineString": "[[lon,lat],[lon,lat],...]",
    "MultiLineString": "[[[lon,lat],[lon,lat],...],...]",
    "Polygon": "[[[lon,lat],...,[first lon,first lat]],...] (rings of positions)",
    "MultiPolygon": "[[[[lon,lat],...],...],...] (polygons of rings of positions)",
}
# Pairs of edges compared when looking for crossing rings. The sweep below compares few pairs
# for real shapes; this caps the work a pathological one (a huge zig-zag) can cause. Past it
# the check stops and MongoDB's own validation is the last word.
_MAX_EDGE_PAIRS = 2_000_000
# Triple products of unit vectors below this are rounding noise, taken as 0 (touching, which
# is not crossing, for S2 as for the OGC). It only hides crossings of shapes under a metre.
_NOISE = 2e-15


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """A checked geo-query.

    ``coordinates`` are the reference geometry's, as the client gave them (valid for
    ``geometry``); ``geoproperty`` is the expanded attribute IRI. ``max_distance`` or
    ``min_distance`` (meters) is set for ``near`` (exactly one of them), neither otherwise.
    """

    georel: GeoRel
    geometry: str
    coordinates: list[Any]
    geoproperty: str = LOCATION
    max_distance: float | None = None
    min_distance: float | None = None

    @property
    def reference(self) -> dict[str, Any]:
        """The reference geometry as a GeoJSON geometry object."""
        return {"type": self.geometry, "coordinates": self.coordinates}

    @property
    def georel_text(self) -> str:
        """georel in its canonical clause 4.10 spelling (to store or echo the query)."""
        if self.max_distance is not None:
            return f"near;maxDistance=={_number_text(self.max_distance)}"
        if self.min_distance is not None:
            return f"near;minDistance=={_number_text(self.min_distance)}"
        return self.georel


def parse_geoquery(
    georel: str | None,
    geometry: str | None,
    coordinates: str | object | None,
    geoproperty: str | None,
    expand: Callable[[str], str],
) -> GeoQuery | None:
    """The geo-query of a request, or None when it has none (clause 4.10).

    Parameters are None when absent. ``coordinates`` is the JSON text of a URL parameter or
    the value of a body member (an array, or a string holding one). ``expand`` turns the
    geoproperty's name into its IRI with the request's @context.
    Raises BadRequestData, with a detail that says what is wrong, for anything invalid.
    """
    given = {
        "georel": georel,
        "geometry": geometry,
        "coordinates": coordinates,
        "geoproperty": geoproperty,
    }
    present = [name for name, value in given.items() if value is not None]
    if not present:
        return None
    missing = [name for name in ("georel", "geometry", "coordinates") if given[name] is None]
    if missing:
        raise BadRequestData(
            f"Incomplete geo-query: {_and(present)} given without {_and(missing)} "
            "(clause 4.10: georel, geometry and coordinates go together, geoproperty is "
            "optional)"
        )
    rel, max_distance, min_distance = _parse_georel(georel)
    kind = _parse_geometry_type(geometry)
    coords = _parse_coordinates(coordinates, kind)
    if rel == "near" and kind != "Point":
        raise BadRequestData(
            f"georel 'near' needs a Point reference geometry, got a {kind}: this broker "
            "measures distances from a point (geometry=Point&coordinates=[lon,lat])"
        )
    return GeoQuery(
        georel=rel,
        geometry=kind,
        coordinates=coords,
        geoproperty=_parse_geoproperty(geoproperty, expand),
        max_distance=max_distance,
        min_distance=min_distance,
    )


def _parse_georel(text: object) -> tuple[GeoRel, float | None, float | None]:
    if not isinstance(text, str):
        raise BadRequestData(f"georel must be a string: {_GEOREL_FORMS} (clause 4.10)")
    name, *modifiers = text.split(";")
    rel = name.lower()
    if rel not in GEORELS:
        if not text:
            raise BadRequestData(f"georel is empty: expected {_GEOREL_FORMS} (clause 4.10)")
        raise BadRequestData(
            f"georel {name!r} is not a geo-relationship: expected {_GEOREL_FORMS} (clause 4.10)"
        )
    if rel != "near":
        if modifiers:
            raise BadRequestData(
                f"georel {text!r}: {rel!r} takes no modifiers, only near has a distance "
                "(clause 4.10)"
            )
        return cast(GeoRel, rel), None, None
    if not modifiers:
        raise BadRequestData(
            "georel 'near' needs a distance: near;maxDistance==<meters> or "
            "near;minDistance==<meters> (clause 4.10)"
        )
    if len(modifiers) > 1:
        raise BadRequestData(
            f"georel {text!r} has {len(modifiers)} modifiers: near takes exactly one distance, "
            "maxDistance or minDistance (clause 4.10: nearRel = nearOp andOp distance equal "
            "PositiveNumber)"
        )
    modifier = modifiers[0]
    key, sep, value = modifier.partition("==")
    distance = {"maxdistance": "maxDistance", "mindistance": "minDistance"}.get(key.lower())
    if not sep or distance is None:
        raise BadRequestData(
            f"georel modifier {modifier!r} is not maxDistance==<meters> or "
            "minDistance==<meters> (clause 4.10; note the '==')"
        )
    meters = _positive_number(value, distance)
    if distance == "maxDistance":
        return "near", meters, None
    return "near", None, meters


def _positive_number(text: str, name: str) -> float:
    """Clause 4.10 PositiveNumber: an RFC 8259 number, no minus sign, not 0, in meters."""
    if not _POSITIVE_NUMBER.fullmatch(text):
        if text.startswith("-"):
            raise BadRequestData(
                f"{name} {text!r} is negative: a distance is a positive number of meters "
                "(clause 4.10 PositiveNumber)"
            )
        raise BadRequestData(
            f"{name} {text!r} is not a number: expected a JSON number of meters without a "
            "sign, such as 2000 or 1.5e3 (clause 4.10 PositiveNumber)"
        )
    value = float(text)
    if math.isinf(value):
        raise BadRequestData(
            f"{name} {text!r} is too large: it is not a finite number (clause 4.10 PositiveNumber)"
        )
    if value == 0:
        mantissa = re.split("[eE]", text)[0]
        if mantissa.strip("0.") == "":
            raise BadRequestData(
                f"{name} must not be 0 (clause 4.10: PositiveNumber excludes the number 0)"
            )
        raise BadRequestData(f"{name} {text!r} is too small: it rounds to 0 meters")
    return value


def _parse_geometry_type(value: object) -> str:
    if not isinstance(value, str):
        raise BadRequestData(
            "geometry must be a string naming a GeoJSON geometry type (clause 4.10)"
        )
    if value in QUERY_GEOMETRY_TYPES:
        return value
    if value == "GeometryCollection":
        raise BadRequestData(
            "geometry 'GeometryCollection' cannot be a reference geometry (clause 4.10 allows "
            "every GeoJSON geometry type except GeometryCollection)"
        )
    for kind in sorted(QUERY_GEOMETRY_TYPES):
        if kind.lower() == value.lower():
            raise BadRequestData(
                f"geometry {value!r} is not a GeoJSON geometry type: did you mean {kind!r}? "
                "(GeoJSON type names are case-sensitive, RFC 7946 section 1.4)"
            )
    raise BadRequestData(
        f"geometry {value!r} is not a GeoJSON geometry type: expected one of "
        f"{', '.join(sorted(QUERY_GEOMETRY_TYPES))} (clause 4.10)"
    )


def _parse_coordinates(raw: object, kind: str) -> list[Any]:
    value = raw
    if isinstance(raw, str):
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise BadRequestData(
                f"coordinates {_clip(raw)!r} are not JSON ({e}): expected a JSON array such "
                f"as {_SHAPE[kind]} for a {kind} (clause 4.10, RFC 7946 section 3.1.1)"
            ) from None
    if not isinstance(value, list):
        raise BadRequestData(
            f"coordinates must be a JSON array such as {_SHAPE[kind]} for a {kind}, got "
            f"{_describe(value)} (clause 4.10, RFC 7946 section 3.1.1)"
        )
    expected, actual = _DEPTH[kind], _depth(value)
    if actual is not None and actual != expected:
        raise BadRequestData(
            f"coordinates of a {kind} are arrays nested {expected} deep, {_SHAPE[kind]}; "
            f"these are nested {actual} deep"
        )
    geometry = {"type": kind, "coordinates": value}
    validate_geometry(geometry, "coordinates")
    check_simple_geometry(geometry, f"coordinates ({kind})")
    return value


def _parse_geoproperty(name: object, expand: Callable[[str], str]) -> str:
    if name is None:
        return LOCATION
    if not isinstance(name, str) or not name:
        raise BadRequestData("geoproperty must be a non-empty attribute name (clause 4.10)")
    check_attribute_name(name, "geoproperty")
    iri = expand(name)
    if iri.startswith("@") or not is_uri(iri):
        raise BadRequestData(
            f"geoproperty {name!r} does not expand to an IRI with the given @context "
            f"(it became {iri!r})"
        )
    return iri


# -- geometric validity ----------------------------------------------------------------

Vec = tuple[float, float, float]


def check_simple_geometry(geometry: Mapping[str, Any], where: str = "geometry") -> None:
    """Raise BadRequestData unless a GeoJSON-valid geometry is also valid on the sphere.

    The geometry must already have passed validate_geometry. Checked, as MongoDB's S2
    validation does (geoparser: loops and polylines) and as the OGC Simple Features require
    of the geometries clause 4.10 relates: a LineString has 2 different positions, a ring 3;
    a ring repeats no position; no edge crosses another of the same Polygon; no edge joins
    antipodal points (the great circle between them is undefined). Not checked: whether the
    holes of a Polygon lie inside its exterior ring (MongoDB refuses those itself).
    """
    kind = geometry["type"]
    coords = geometry["coordinates"]
    if kind == "LineString":
        _check_line(coords, where)
    elif kind == "MultiLineString":
        for i, line in enumerate(coords):
            _check_line(line, f"{where}, line {i}")
    elif kind == "Polygon":
        _check_polygon(coords, where)
    elif kind == "MultiPolygon":
        for i, polygon in enumerate(coords):
            _check_polygon(polygon, f"{where}, polygon {i}")


def _check_line(positions: Sequence[Sequence[float]], where: str) -> None:
    points = _distinct_runs(positions)
    if len(points) < 2:
        raise BadRequestData(
            f"{where}: a LineString needs at least 2 different positions, got only "
            f"{_fmt(points[0])}"
        )
    _check_antipodal(points, where, closed=False)


def _check_polygon(rings: Sequence[Sequence[Sequence[float]]], where: str) -> None:
    loops: list[list[Sequence[float]]] = []
    for i, ring in enumerate(rings):
        here = f"{where}, ring {i}" if len(rings) > 1 else where
        points = _distinct_runs(ring)[:-1]  # the ring is closed: drop the repeated first
        if len(points) < 3:
            raise BadRequestData(
                f"{here}: a linear ring needs at least 3 different positions, got {len(points)}"
            )
        seen: set[tuple[float, float]] = set()
        for p in points:
            key = _key(p)
            if key in seen:
                raise BadRequestData(
                    f"{here}: position {_fmt(p)} appears twice in the ring: a ring must not "
                    "touch itself (split it into two polygons)"
                )
            seen.add(key)
        _check_antipodal(points, here, closed=True)
        loops.append(points)
    crossing = _find_crossing(loops)
    if crossing is not None:
        (i, a, b), (j, c, d) = crossing
        first, second = f"{_fmt(a)}-{_fmt(b)}", f"{_fmt(c)}-{_fmt(d)}"
        if len(loops) > 1:
            first, second = f"{first} (ring {i})", f"{second} (ring {j})"
        raise BadRequestData(
            f"{where}: the edge {first} crosses the edge {second}: a Polygon's rings must "
            "not cross themselves or each other"
        )


def _distinct_runs(positions: Sequence[Sequence[float]]) -> list[Sequence[float]]:
    """The positions without consecutive repeats (MongoDB drops those too)."""
    out: list[Sequence[float]] = []
    for p in positions:
        if not out or _key(out[-1]) != _key(p):
            out.append(p)
    return out


def _key(p: Sequence[float]) -> tuple[float, float]:
    """A position as a point of the sphere (altitude ignored, 180 == -180, poles merged)."""
    lon, lat = float(p[0]), float(p[1])
    if lat in (90.0, -90.0):
        return 0.0, lat
    return (180.0 if lon == -180.0 else lon), lat


def _check_antipodal(points: Sequence[Sequence[float]], where: str, *, closed: bool) -> None:
    pairs = list(pairwise(points))
    if closed:
        pairs.append((points[-1], points[0]))
    for a, b in pairs:
        if _dot(_unit(a), _unit(b)) < -1 + 1e-15:
            raise BadRequestData(
                f"{where}: {_fmt(a)} and {_fmt(b)} are antipodal: the edge between them is "
                "undefined on the sphere (add a position between them)"
            )


Edge = tuple[int, Sequence[float], Sequence[float]]  # ring index, start, end


def _find_crossing(loops: Sequence[Sequence[Sequence[float]]]) -> tuple[Edge, Edge] | None:
    """Two edges of the loops that properly cross (great-circle arcs), if any.

    A sweep along the axis (of x, y, z on the unit sphere) where the shape spreads most: an
    edge's arc lies within its chord's bounding box widened by the arc's sagitta, so only
    edges whose boxes overlap on that axis are compared.
    """
    edges: list[tuple[Edge, Vec, Vec]] = []
    for ring, loop in enumerate(loops):
        for i, a in enumerate(loop):
            b = loop[(i + 1) % len(loop)]
            edges.append(((ring, a, b), _unit(a), _unit(b)))
    spreads = [max(e[1][k] for e in edges) - min(e[1][k] for e in edges) for k in range(3)]
    axis = spreads.index(max(spreads))
    spans: list[tuple[float, float, int]] = []
    for n, (_, u, v) in enumerate(edges):
        pad = _sagitta(u, v) + 1e-12
        spans.append((min(u[axis], v[axis]) - pad, max(u[axis], v[axis]) + pad, n))
    spans.sort()
    active: list[tuple[float, int]] = []
    budget = _MAX_EDGE_PAIRS
    for low, high, n in spans:
        active = [(h, m) for h, m in active if h >= low]
        _, u, v = edges[n]
        for _, m in active:
            budget -= 1
            if budget < 0:
                return None
            _, s, t = edges[m]
            if _arcs_cross(u, v, s, t):
                first, second = sorted((m, n))
                return edges[first][0], edges[second][0]
        active.append((high, n))
    return None


def _arcs_cross(a: Vec, b: Vec, c: Vec, d: Vec) -> bool:
    """Whether arcs AB and CD cross at a point interior to both (S2's SimpleCrossing).

    Arcs that share an endpoint or merely touch do not cross. Triple products within
    rounding noise of 0 count as 0, so a doubtful case is left for MongoDB to judge rather
    than refused here.
    """
    if a in (c, d) or b in (c, d):
        return False
    ab = _cross(a, b)
    acb = -_dot(ab, c)
    bda = _dot(ab, d)
    if abs(acb) < _NOISE or abs(bda) < _NOISE or acb * bda < 0:
        return False
    cd = _cross(c, d)
    cbd = -_dot(cd, b)
    dac = _dot(cd, a)
    if abs(cbd) < _NOISE or abs(dac) < _NOISE:
        return False
    return acb * cbd > 0 and acb * dac > 0


def _unit(p: Sequence[float]) -> Vec:
    lon, lat = math.radians(p[0]), math.radians(p[1])
    c = math.cos(lat)
    return c * math.cos(lon), c * math.sin(lon), math.sin(lat)


def _cross(a: Vec, b: Vec) -> Vec:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _sagitta(a: Vec, b: Vec) -> float:
    """How far the arc AB strays from its chord (1 - cos of half the arc's angle)."""
    cross = _cross(a, b)
    angle = math.atan2(math.sqrt(_dot(cross, cross)), _dot(a, b))
    return 1 - math.cos(angle / 2)


# -- wording ---------------------------------------------------------------------------


def _depth(value: object) -> int | None:
    """How deep the first elements nest arrays; None past an empty array (it cannot tell)."""
    depth = 0
    while isinstance(value, list):
        if not value:
            return None
        depth += 1
        value = value[0]
    return depth


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _fmt(p: Sequence[float]) -> str:
    return "[" + ",".join(str(n) for n in p) + "]"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _and(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
