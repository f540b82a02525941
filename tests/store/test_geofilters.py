"""Geo-queries (clause 4.10) through geo_filter against a real store: exactly which entities
each georel selects, with find and with count_documents (count=true).

The places are around Nara (135.80 E, 34.68 N), a few hundred metres to a few kilometres
apart. Only standard MongoDB operators are used, so this runs on a real MongoDB
(MONGO_URI) as well as on the dev store. Where the dev store's engine (mongomock-ng) gets a
case wrong, the test is marked xfail(strict) on the dev store only, with the reason; strict,
so that the mark goes as soon as the engine is fixed.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from broker.ngsild.context import CORE
from broker.ngsild.errors import BadRequestData
from broker.ngsild.geoquery import GeoQuery, check_simple_geometry, parse_geoquery
from broker.ngsild.parse import parse_entity
from broker.store.documents import to_document
from broker.store.geofilters import (
    CIRCLE_VERTICES,
    EARTH_RADIUS_M,
    geo_filter,
    geometry_path,
)
from broker.store.indexes import ENTITIES, ensure_indexes

Collection = AsyncCollection[dict[str, Any]]

NOW = "2026-01-01T00:00:00.000Z"
PLACE = "urn:ngsi-ld:Place:"
CENTER = [135.80, 34.68]
#: Nara-ish park: a square about 0.9 x 1.1 km, 3.4 to 4.2 km east of CENTER.
PARK = [
    [[135.835, 34.685], [135.845, 34.685], [135.845, 34.695], [135.835, 34.695], [135.835, 34.685]]
]
#: A road passing 56 m south of CENTER, its ends 1.83 km away on either side.
ROAD = [[135.78, 34.6795], [135.80, 34.6795], [135.82, 34.6795]]

#: name -> (attribute, geometry, datasetId)
PLACES: dict[str, tuple[str, dict[str, Any], str | None]] = {
    "center": ("location", {"type": "Point", "coordinates": CENTER}, None),
    "east300": ("location", {"type": "Point", "coordinates": [135.8033, 34.68]}, None),  # 302 m
    "north1200": ("location", {"type": "Point", "coordinates": [135.80, 34.6908]}, None),  # 1.2 km
    "far": ("location", {"type": "Point", "coordinates": [135.85, 34.70]}, None),  # 5.1 km
    "park": ("location", {"type": "Polygon", "coordinates": PARK}, None),
    "road": ("location", {"type": "LineString", "coordinates": ROAD}, None),
    # No location at all: only an observationSpace, at CENTER.
    "sensor": ("observationSpace", {"type": "Point", "coordinates": CENTER}, None),
    # A location at CENTER, but only as an instance with a datasetId: never the target.
    "dataset": ("location", {"type": "Point", "coordinates": CENTER}, "urn:ngsi-ld:Dataset:gps"),
}
WITH_LOCATION = ["center", "east300", "far", "north1200", "park", "road"]

#: Around CENTER: about 1.8 x 1.1 km, holding center and east300 (not north1200, not the road).
AROUND_CENTER = (
    "[[[135.79,34.675],[135.81,34.675],[135.81,34.685],[135.79,34.685],[135.79,34.675]]]"
)
#: Wholly inside the park.
IN_PARK = "[[[135.839,34.689],[135.841,34.689],[135.841,34.691],[135.839,34.691],[135.839,34.689]]]"
#: Over the park's south-east quarter and beyond it.
HALF_PARK = "[[[135.84,34.68],[135.85,34.68],[135.85,34.69],[135.84,34.69],[135.84,34.68]]]"
#: Holding the whole park (not "far", just north-east of it).
AROUND_PARK = "[[[135.83,34.68],[135.848,34.68],[135.848,34.698],[135.83,34.698],[135.83,34.68]]]"


def place(name: str) -> dict[str, Any]:
    attr, geometry, dataset_id = PLACES[name]
    instance: dict[str, Any] = {"type": "GeoProperty", "value": geometry}
    if dataset_id is not None:
        instance["datasetId"] = dataset_id
    return {"id": PLACE + name, "type": "Place", attr: instance}


@pytest.fixture
async def client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    c: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    try:
        yield c
    finally:
        await c.close()


@pytest.fixture
async def places(client: AsyncMongoClient[dict[str, Any]], db_prefix: str) -> Collection:
    db = client[db_prefix]
    await ensure_indexes(db)
    docs = [to_document(parse_entity(place(name), CORE, NOW), 1) for name in PLACES]
    await db[ENTITIES].insert_many(docs)
    return db[ENTITIES]


@pytest.fixture
def devstore_gap(request: pytest.FixtureRequest, uses_devstore: bool) -> Any:
    """Mark the running test xfail(strict) on the dev store, for the given reason."""

    def mark(reason: str, raises: type[BaseException]) -> None:
        if uses_devstore:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason, raises=raises))

    return mark


def geoquery(
    georel: str, geometry: str, coordinates: Any, geoproperty: str | None = None
) -> GeoQuery:
    q = parse_geoquery(georel, geometry, coordinates, geoproperty, CORE.expand)
    assert q is not None
    return q


async def selected(
    collection: Collection,
    georel: str,
    geometry: str,
    coordinates: Any,
    geoproperty: str | None = None,
) -> list[str]:
    """The names of the places the geo-query selects; count_documents must agree."""
    flt = geo_filter(geoquery(georel, geometry, coordinates, geoproperty))
    found = await collection.find(flt, {"_id": 1}).to_list()
    names = sorted(doc["_id"].removeprefix(PLACE) for doc in found)
    assert await collection.count_documents(flt) == len(names)
    assert await collection.count_documents({"$and": [{"type": {"$exists": True}}, flt]}) == len(
        names
    )
    return names


def distance(a: list[float], b: list[float]) -> float:
    """Great-circle distance in metres on MongoDB's sphere (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def test_the_places_are_where_the_tests_say() -> None:
    assert distance(CENTER, [135.8033, 34.68]) == pytest.approx(302, abs=1)
    assert distance(CENTER, [135.80, 34.6908]) == pytest.approx(1202, abs=1)
    assert distance(CENTER, [135.85, 34.70]) == pytest.approx(5089, abs=1)
    assert distance(CENTER, [135.835, 34.69]) == pytest.approx(3392, abs=1)  # park, nearest
    assert distance(CENTER, ROAD[0]) == pytest.approx(1832, abs=1)
    assert distance(CENTER, ROAD[2]) == pytest.approx(1832, abs=1)
    assert distance(CENTER, ROAD[1]) == pytest.approx(56, abs=1)


# -- near (maxDistance: within the buffer; minDistance: disjoint from it) ------------------


@pytest.mark.parametrize(
    ("georel", "expected"),
    [
        ("near;maxDistance==500", ["center", "east300"]),
        # The whole road lies within 2 km (its ends are 1.83 km away).
        ("near;maxDistance==2000", ["center", "east300", "north1200", "road"]),
        ("near;maxDistance==10000", WITH_LOCATION),
        # Points are in or out; the road passes 56 m from CENTER, so it is never disjoint.
        ("near;minDistance==500", ["far", "north1200", "park"]),
        ("near;minDistance==2000", ["far", "park"]),
        ("near;minDistance==4000", ["far"]),
        ("near;minDistance==6000", []),
    ],
)
async def test_near(places: Collection, georel: str, expected: list[str]) -> None:
    assert await selected(places, georel, "Point", CENTER) == expected


async def test_near_min_distance_over_a_quarter_of_the_earth(places: Collection) -> None:
    """From CENTER's antipode, farther than 20,035 km is within 2.5 km of CENTER."""
    antipode = [CENTER[0] - 180, -CENTER[1]]
    near = await selected(places, "near;minDistance==20035000", "Point", antipode)
    assert near == ["center", "east300", "north1200", "road"]
    assert await selected(places, "near;minDistance==15000000", "Point", antipode) == (
        WITH_LOCATION
    )
    assert await selected(places, "near;minDistance==15000000", "Point", CENTER) == []


async def test_near_beyond_half_the_earth(places: Collection) -> None:
    """No two points are farther apart than half the circumference (20,037.5 km)."""
    assert await selected(places, "near;maxDistance==30000000", "Point", CENTER) == (WITH_LOCATION)
    assert await selected(places, "near;minDistance==30000000", "Point", CENTER) == []


async def test_near_on_another_geoproperty(places: Collection) -> None:
    near = await selected(places, "near;maxDistance==10", "Point", CENTER, "observationSpace")
    assert near == ["sensor"]


# -- within, intersects, disjoint ----------------------------------------------------------


async def test_within(places: Collection) -> None:
    assert await selected(places, "within", "Polygon", AROUND_CENTER) == ["center", "east300"]
    assert await selected(places, "within", "Polygon", AROUND_PARK) == ["park"]
    assert await selected(places, "within", "Polygon", HALF_PARK) == []
    both = f"[{AROUND_CENTER}, {AROUND_PARK}]"
    assert await selected(places, "within", "MultiPolygon", both) == ["center", "east300", "park"]


async def test_within_a_polygon_with_a_hole(places: Collection) -> None:
    """The hole is not part of the polygon (ETSI 019_30_06): east300 sits in it."""
    holed = (
        "[[[135.79,34.675],[135.81,34.675],[135.81,34.685],[135.79,34.685],[135.79,34.675]],"
        "[[135.802,34.678],[135.805,34.678],[135.805,34.682],[135.802,34.682],[135.802,34.678]]]"
    )
    assert await selected(places, "within", "Polygon", holed) == ["center"]


@pytest.mark.parametrize(("geometry", "coordinates"), [("Point", CENTER), ("LineString", ROAD)])
def test_within_needs_an_area(geometry: str, coordinates: Any) -> None:
    with pytest.raises(BadRequestData) as caught:
        geo_filter(geoquery("within", geometry, coordinates))
    assert caught.value.detail.startswith(
        f"georel 'within' needs a Polygon or MultiPolygon reference geometry, got a {geometry}"
    )


async def test_intersects(places: Collection) -> None:
    assert await selected(places, "intersects", "Polygon", AROUND_CENTER) == [
        "center",
        "east300",
        "road",
    ]
    assert await selected(places, "intersects", "Polygon", HALF_PARK) == ["park"]
    assert await selected(places, "intersects", "Point", CENTER) == ["center"]
    assert await selected(places, "intersects", "Point", ROAD[1]) == ["road"]  # a vertex
    across_park = "[[135.83,34.69],[135.85,34.69]]"
    assert await selected(places, "intersects", "LineString", across_park) == ["park"]
    assert await selected(places, "intersects", "MultiPoint", [CENTER, [135.84, 34.69]]) == [
        "center",
        "park",
    ]


@pytest.mark.parametrize(
    ("geometry", "coordinates"),
    [("Polygon", IN_PARK), ("LineString", "[[135.839,34.689],[135.841,34.691]]")],
)
async def test_intersects_a_shape_inside_a_polygon(
    places: Collection, geometry: str, coordinates: str
) -> None:
    assert await selected(places, "intersects", geometry, coordinates) == ["park"]


async def test_disjoint(places: Collection) -> None:
    """Entities without the target geometry are not disjoint from anything: they don't match."""
    assert await selected(places, "disjoint", "Polygon", AROUND_CENTER) == [
        "far",
        "north1200",
        "park",
    ]
    assert await selected(places, "disjoint", "Point", CENTER) == [
        "east300",
        "far",
        "north1200",
        "park",
        "road",
    ]


async def test_disjoint_on_another_geoproperty(places: Collection) -> None:
    assert await selected(places, "disjoint", "Point", [0, 0], "observationSpace") == ["sensor"]
    assert await selected(places, "disjoint", "Point", CENTER, "observationSpace") == []


# -- contains, equals, overlaps ------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "coordinates", "expected"),
    [
        ("Point", CENTER, ["center"]),  # a point contains only itself
        ("Point", "[135.84,34.69]", ["park"]),
        ("Point", ROAD[1], ["road"]),  # the road's middle vertex
        ("MultiPoint", "[[135.84,34.69],[135.836,34.694]]", ["park"]),
        ("MultiPoint", [CENTER, [135.84, 34.69]], []),  # no one place holds both
        ("LineString", "[[135.839,34.689],[135.841,34.691]]", ["park"]),
        ("Polygon", IN_PARK, ["park"]),
        ("Polygon", HALF_PARK, []),
        ("Polygon", AROUND_CENTER, []),
        ("Polygon", str(PARK), ["park"]),  # equal geometries contain each other
    ],
)
async def test_contains(
    places: Collection, geometry: str, coordinates: Any, expected: list[str]
) -> None:
    assert await selected(places, "contains", geometry, coordinates) == expected


async def test_equals(places: Collection) -> None:
    assert await selected(places, "equals", "Point", CENTER) == ["center"]
    assert await selected(places, "equals", "Point", "[135.80,34.68]") == ["center"]
    assert await selected(places, "equals", "Polygon", str(PARK)) == ["park"]
    assert await selected(places, "equals", "LineString", ROAD) == ["road"]
    assert await selected(places, "equals", "Point", "[135.8,34.6801]") == []
    assert await selected(places, "equals", "LineString", ROAD[:2]) == []
    assert await selected(places, "equals", "MultiPoint", [CENTER]) == []  # another type


async def test_equals_compares_geojson_not_point_sets(places: Collection) -> None:
    """Documented limitation: the same ring from another vertex is not found."""
    ring = [*PARK[0][1:], PARK[0][1]]
    assert await selected(places, "equals", "Polygon", [ring]) == []


async def test_equals_with_an_altitude(places: Collection) -> None:
    assert await selected(places, "equals", "Point", [*CENTER, 0]) == []


@pytest.mark.parametrize(
    ("geometry", "coordinates", "expected"),
    [
        ("Polygon", HALF_PARK, ["park"]),
        ("Polygon", IN_PARK, []),  # the park contains it
        ("Polygon", AROUND_PARK, []),  # it contains the park
        ("Polygon", str(PARK), []),  # equal
        ("Polygon", AROUND_CENTER, []),  # points never overlap an area
        ("Point", CENTER, []),  # a point overlaps nothing
        ("MultiPoint", [CENTER, [0, 0]], []),  # no stored MultiPoint
        # Approximation (documented): lines crossing at a point count as overlapping.
        ("LineString", "[[135.81,34.67],[135.81,34.69]]", ["road"]),
    ],
)
async def test_overlaps(
    places: Collection, geometry: str, coordinates: Any, expected: list[str]
) -> None:
    assert await selected(places, "overlaps", geometry, coordinates) == expected


# -- the filters themselves ----------------------------------------------------------------


def test_geometry_path() -> None:
    assert geometry_path("https://uri.etsi.org/ngsi-ld/location") == (
        "attrs.https://uri%2Eetsi%2Eorg/ngsi-ld/location.@none.geo"
    )
    assert geometry_path("https://example.org/geo$v1.area") == (
        "attrs.https://example%2Eorg/geo%24v1%2Earea.@none.geo"
    )


def test_near_max_distance_filter() -> None:
    path = geometry_path("https://uri.etsi.org/ngsi-ld/location")
    flt = geo_filter(geoquery("near;maxDistance==2000", "Point", "[8,40]"))
    assert flt == {path: {"$geoWithin": {"$centerSphere": [[8, 40], 2000 / 6378100]}}}


def test_near_min_distance_filter_uses_an_inscribed_polygon() -> None:
    path = geometry_path("https://uri.etsi.org/ngsi-ld/location")
    flt = geo_filter(geoquery("near;minDistance==500", "Point", CENTER))
    cap = {"$geoWithin": {"$centerSphere": [CENTER, 500 / EARTH_RADIUS_M]}}
    assert flt[path] == {"$exists": True}
    assert flt["$nor"][0] == {path: cap}
    polygon = flt["$nor"][1][path]["$geoIntersects"]["$geometry"]
    assert polygon["type"] == "Polygon"
    (ring,) = polygon["coordinates"]
    assert len(ring) == CIRCLE_VERTICES + 1 and ring[0] == ring[-1]
    for vertex in ring:
        assert distance(CENTER, vertex) == pytest.approx(500, abs=1e-6)
    check_simple_geometry(polygon)  # MongoDB will accept it


@pytest.mark.parametrize("center", [[179.999, 0], [-179.999, 10], [0, 89.999], [12, -89.9]])
def test_inscribed_polygons_across_the_antimeridian_and_around_the_poles(
    center: list[float],
) -> None:
    flt = geo_filter(geoquery("near;minDistance==50000", "Point", center))
    polygon = flt["$nor"][1][geometry_path("https://uri.etsi.org/ngsi-ld/location")]
    (ring,) = polygon["$geoIntersects"]["$geometry"]["coordinates"]
    for lon, lat in ring:
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert distance(center, [lon, lat]) == pytest.approx(50000, rel=1e-9)
    check_simple_geometry(polygon["$geoIntersects"]["$geometry"])


def test_near_min_distance_over_a_quarter_of_the_earth_filter() -> None:
    path = geometry_path("https://uri.etsi.org/ngsi-ld/location")
    flt = geo_filter(geoquery("near;minDistance==15000000", "Point", "[8,40]"))
    assert flt == {
        path: {
            "$geoWithin": {"$centerSphere": [[-172, -40], math.pi - 15_000_000 / EARTH_RADIUS_M]}
        }
    }


def test_contains_filter_has_one_clause_per_distinct_vertex() -> None:
    path = geometry_path("https://uri.etsi.org/ngsi-ld/location")
    flt = geo_filter(geoquery("contains", "Polygon", "[[[0,0,5],[1,0],[1,1],[0,0,5]]]"))
    assert flt[path + ".type"] == {"$in": ["Polygon", "MultiPolygon"]}
    assert [c[path]["$geoIntersects"]["$geometry"] for c in flt["$and"]] == [
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Point", "coordinates": [1, 0]},
        {"type": "Point", "coordinates": [1, 1]},
    ]


def test_equals_filter() -> None:
    path = geometry_path("https://uri.etsi.org/ngsi-ld/observationSpace")
    flt = geo_filter(geoquery("equals", "Point", "[8,40]", "observationSpace"))
    assert flt == {
        path: {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [8, 40]}}},
        path + ".type": "Point",
        path + ".coordinates": [8, 40],
    }


# -- the ETSI test suite's geo-query data (QueryEntities 019_10, 019_11) -------------------

BERLIN_POINTS = {
    "E1": [13.3986, 52.5547],
    "E2": [13.509818, 52.363457],
    "E3": [13.215983, 52.470441],
}
BERLIN_POLYGONS = {
    # building-location-polygon.jsonld without its second position [13.2879639, 52.5648645]:
    # as published, the ring crosses itself (see tests/ngsild/test_geoquery.py) and a real
    # MongoDB refuses to index it.
    "P1": [
        [
            [13.2865906, 52.5648645],
            [13.2797241, 52.4988679],
            [13.477478, 52.4712703],
            [13.5049438, 52.5373084],
            [13.2865906, 52.5648645],
        ]
    ],
    "P2": [
        [
            [13.315773, 52.4757209],
            [13.339119, 52.4443421],
            [13.3892441, 52.4669371],
            [13.315773, 52.4757209],
        ]
    ],
}
Q_019_10 = (
    "[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],"
    "[13.142395,52.386428],[13.1616211,52.5438124]]]"
)
Q1_019_11 = (
    "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],"
    "[13.3459854,52.479903],[13.3456421,52.4794848]]]"
)
Q2_019_11 = (
    "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],"
    "[13.4235764,52.5100027],[13.4331894,52.5273425],[13.3844376,52.5356966]]]"
)
Q3_019_11 = (
    "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],"
    "[13.1832504,52.5026887],[13.1369019,52.5198225]]]"
)


@pytest.fixture
async def berlin(client: AsyncMongoClient[dict[str, Any]], db_prefix: str) -> dict[str, Collection]:
    """The suite's data sets, each in its own database: 019_10's points, 019_11's polygons."""
    datasets: dict[str, list[tuple[str, str, Any]]] = {
        "019_10": [("Point", name, coords) for name, coords in BERLIN_POINTS.items()],
        "019_11": [("Polygon", name, coords) for name, coords in BERLIN_POLYGONS.items()],
    }
    collections: dict[str, Collection] = {}
    for suite, buildings in datasets.items():
        db = client[f"{db_prefix}-{suite}"]
        await ensure_indexes(db)
        docs = []
        for kind, name, coordinates in buildings:
            geometry = {"type": kind, "coordinates": coordinates}
            body = {
                "id": PLACE + name,
                "type": "Building",
                "location": {"type": "GeoProperty", "value": geometry},
            }
            docs.append(to_document(parse_entity(body, CORE, NOW), 1))
        await db[ENTITIES].insert_many(docs)
        collections[suite] = db[ENTITIES]
    return collections


@pytest.mark.parametrize(
    ("case", "georel", "geometry", "coordinates", "expected"),
    [
        ("019_10_01", "equals", "Point", "[13.3986, 52.5547]", ["E1"]),
        ("019_10_02", "near;maxDistance==15000", "Point", "[13.388930, 52.534473]", ["E1", "E3"]),
        ("019_10_03", "near;minDistance==15000", "Point", "[13.388930, 52.534473]", ["E2"]),
        ("019_10_04", "within", "Polygon", Q_019_10, ["E2", "E3"]),
        ("019_10_05", "disjoint", "Polygon", Q_019_10, ["E1"]),
        ("019_10_06", "disjoint", "Point", "[13.3986, 52.5547]", ["E2", "E3"]),
        ("019_10_07", "contains", "Point", "[13.3986, 52.5547]", ["E1"]),
        ("019_10_08", "intersects", "Point", "[13.3986, 52.5547]", ["E1"]),
        ("019_11_01", "equals", "Polygon", str(BERLIN_POLYGONS["P1"]), ["P1"]),
        ("019_11_02", "intersects", "Polygon", Q1_019_11, ["P2"]),
        ("019_11_03", "contains", "Polygon", Q2_019_11, ["P1"]),
        ("019_11_04", "contains", "Polygon", Q3_019_11, []),
        ("019_11_05", "disjoint", "Polygon", Q3_019_11, ["P1", "P2"]),
        # 019_11_06's reference polygon crosses itself: refused (tests/ngsild/test_geoquery.py).
        ("019_11_07", "overlaps", "Polygon", Q1_019_11, ["P2"]),
        ("019_11_08", "contains", "Point", "[13.3442688,52.4650045]", ["P2"]),
    ],
)
async def test_etsi_geoqueries(
    berlin: dict[str, Collection],
    case: str,
    georel: str,
    geometry: str,
    coordinates: str,
    expected: list[str],
) -> None:
    """The expected entities of the suite's cases (it checks their count, with count=true)."""
    assert await selected(berlin[case[:6]], georel, geometry, coordinates) == expected


DIAMOND = "[[[135.79,34.68],[135.80,34.675],[135.81,34.68],[135.80,34.685],[135.79,34.68]]]"


async def test_polygons_with_slanted_edges(places: Collection) -> None:
    assert await selected(places, "within", "Polygon", DIAMOND) == ["center", "east300"]
    assert await selected(places, "intersects", "Polygon", DIAMOND) == ["center", "east300", "road"]
    assert await selected(places, "disjoint", "Polygon", DIAMOND) == ["far", "north1200", "park"]
