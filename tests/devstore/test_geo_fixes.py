"""$geoWithin and $geoIntersects as the dev store computes them (broker/devstore/_geo.py),
where mongomock-ng 7.11 gets them wrong: $centerSphere, polygons with slanted edges, shapes
inside polygons, holes, edges and MultiPolygons; through PyMongo like the broker.

Places are around Nara (135.80 E, 34.68 N), a few hundred metres apart.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pymongo.errors import OperationFailure
from pymongo.synchronous.collection import Collection
from pymongo.synchronous.database import Database

SyncDb = Database[dict[str, Any]]
Coll = Collection[dict[str, Any]]

R = 6_378_100.0  # MongoDB's Earth radius, metres
CENTER = [135.80, 34.68]


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def line(*positions: list[float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": list(positions)}


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def box(west: float, south: float, east: float, north: float) -> list[list[float]]:
    return [[west, south], [east, south], [east, north], [west, north], [west, south]]


def angle(a: list[float], b: list[float]) -> float:
    """Great-circle angle between two positions, in radians (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * math.asin(math.sqrt(h))


def store(db: SyncDb, places: dict[str, Any]) -> Coll:
    db.places.insert_many([{"_id": name, "geo": geo} for name, geo in places.items()])
    return db.places


def found(collection: Coll, condition: dict[str, Any]) -> list[str]:
    """The matching _ids, checked against count_documents and an aggregation $match."""
    flt = {"geo": condition}
    names = sorted(doc["_id"] for doc in collection.find(flt, {"_id": 1}))
    assert collection.count_documents(flt) == len(names)
    matched = collection.aggregate([{"$match": flt}, {"$project": {"_id": 1}}])
    assert sorted(doc["_id"] for doc in matched) == names
    negated = sorted(doc["_id"] for doc in collection.find({"geo": {"$not": condition}}))
    assert not set(names) & set(negated)
    return names


def within(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"$geoWithin": {"$geometry": geometry}}


def intersects(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"$geoIntersects": {"$geometry": geometry}}


def center_sphere(center: Any, radians: float) -> dict[str, Any]:
    return {"$geoWithin": {"$centerSphere": [center, radians]}}


# -- $geoWithin $centerSphere ----------------------------------------------------------


def test_center_sphere_points(sync_db: SyncDb) -> None:
    east = [135.81, 34.68]  # 916 m east of CENTER
    places = store(
        sync_db,
        {
            "center": point(*CENTER),
            "east": point(*east),
            "legacy": [135.8005, 34.6805],  # a legacy coordinate pair, ~72 m away
            "far": point(135.90, 34.70),
            "nothing": None,
        },
    )
    d = angle(CENTER, east)
    assert d * R == pytest.approx(916, abs=1)
    assert found(places, center_sphere(CENTER, d * 1.0001)) == ["center", "east", "legacy"]
    assert found(places, center_sphere(CENTER, d * 0.9999)) == ["center", "legacy"]
    assert found(places, center_sphere(CENTER, 0)) == ["center"]
    assert found(places, center_sphere(CENTER, math.pi)) == ["center", "east", "far", "legacy"]
    # The center may be a legacy document point too.
    assert found(places, center_sphere({"x": 135.81, "y": 34.68}, 100 / R)) == ["east"]


def test_center_sphere_lines_and_polygons_need_all_their_vertices(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "road": line([135.79, 34.68], [135.80, 34.681], [135.81, 34.68]),
            "park": polygon(box(135.799, 34.679, 135.801, 34.681)),
            # Its hole's vertices count too, though the hole is not part of it.
            "holed": polygon(
                box(135.798, 34.678, 135.802, 34.682), box(135.7985, 34.6785, 135.8015, 34.6815)
            ),
            "multi": {"type": "MultiPoint", "coordinates": [CENTER, [135.83, 34.68]]},
        },
    )
    road_end = angle(CENTER, [135.81, 34.68])
    assert found(places, center_sphere(CENTER, road_end + 10 / R)) == ["holed", "park", "road"]
    assert found(places, center_sphere(CENTER, road_end - 10 / R)) == ["holed", "park"]
    holed_corner = angle(CENTER, [135.802, 34.682])
    assert found(places, center_sphere(CENTER, holed_corner - 10 / R)) == ["park"]
    assert found(places, center_sphere(CENTER, angle(CENTER, [135.83, 34.68]) + 1 / R)) == [
        "holed",
        "multi",
        "park",
        "road",
    ]


def test_center_sphere_wants_line_vertices_pi_metres_inside(sync_db: SyncDb) -> None:
    """MongoDB's quirk (geometry_container.cpp): a line's or polygon's vertex counts only
    if it is at least pi metres inside the circle; a point counts up to the circle."""
    end = [135.81, 34.68]
    places = store(sync_db, {"end": point(*end), "road": line(CENTER, end)})
    d = angle(CENTER, end)
    assert found(places, center_sphere(CENTER, d + 1 / R)) == ["end"]
    assert found(places, center_sphere(CENTER, d + 4 / R)) == ["end", "road"]


def test_center_sphere_across_the_antimeridian(sync_db: SyncDb) -> None:
    places = store(sync_db, {"west": point(179.999, 0), "east": point(-179.999, 0)})
    assert found(places, center_sphere([180, 0], 200 / R)) == ["east", "west"]
    assert found(places, center_sphere([-179.9985, 0], 100 / R)) == ["east"]


@pytest.mark.parametrize(
    "spec",
    [
        {"$centerSphere": [CENTER, -1]},
        {"$centerSphere": [CENTER, "1"]},
        {"$centerSphere": [[200, 0], 1]},
        {"$centerSphere": [CENTER]},
        {"$centerSphere": ["here", 1]},
        {"$geometry": point(*CENTER)},  # $geoWithin needs an area
        {"$geometry": polygon([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]])},  # crosses itself
        {"$geometry": polygon(box(0, 0, 1, 1), box(2, 2, 3, 3))},  # a hole outside
        {"$geometry": polygon([[0, 0], [1, 0], [0, 0], [0, 0]])},  # 2 distinct vertices
        {"$geometry": polygon([[0, 0], [1, 0], [1, 1], [0, 1]])},  # not closed
        {"$nearby": [CENTER, 1]},
    ],
)
def test_bad_geo_within_is_bad_value(sync_db: SyncDb, spec: dict[str, Any]) -> None:
    places = store(sync_db, {"center": point(*CENTER)})
    with pytest.raises(OperationFailure) as caught:
        places.find_one({"geo": {"$geoWithin": spec}})
    assert caught.value.code == 2


@pytest.mark.parametrize(
    "spec",
    [
        {"$box": [[0, 0], [1, 1]]},
        {"$center": [[0, 0], 1]},
        {"$polygon": [[0, 0], [1, 0], [1, 1]]},
        # A ring around the North Pole (-180 and 180 are one longitude).
        {"$geometry": polygon([[-180, 89], [-90, 89], [0, 89], [90, 89], [180, 89]])},
        {
            "$geometry": {
                **polygon(box(0, 0, 1, 1)),
                "crs": {
                    "type": "name",
                    "properties": {"name": "urn:x-mongodb:crs:strictwinding:EPSG:4326"},
                },
            }
        },
    ],
)
def test_unsupported_shapes_are_not_implemented(sync_db: SyncDb, spec: dict[str, Any]) -> None:
    places = store(sync_db, {"center": point(*CENTER)})
    with pytest.raises(OperationFailure) as caught:
        places.find_one({"geo": {"$geoWithin": spec}})
    assert caught.value.code == 238
    assert "not supported by the Kaido dev store" in str(caught.value)


# -- polygons with slanted edges -------------------------------------------------------

#: A right triangle whose hypotenuse runs from (135.84, 34.68) to (135.80, 34.72).
TRIANGLE = polygon([[135.80, 34.68], [135.84, 34.68], [135.80, 34.72], [135.80, 34.68]])


def test_points_in_a_polygon_with_a_slanted_edge(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "inside": point(135.81, 34.69),
            "outside": point(135.83, 34.70),  # beyond the hypotenuse: mongomock said inside
            "on_hypotenuse": point(135.82, 34.70),
            "vertex": point(135.84, 34.68),
            "below": point(135.81, 34.67),
        },
    )
    assert found(places, within(TRIANGLE)) == ["inside", "on_hypotenuse", "vertex"]
    assert found(places, intersects(TRIANGLE)) == ["inside", "on_hypotenuse", "vertex"]


def test_lines_and_polygons_in_a_polygon_with_a_slanted_edge(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "short": line([135.805, 34.685], [135.81, 34.69]),
            "crossing": line([135.81, 34.69], [135.83, 34.70]),
            "along": line([135.84, 34.68], [135.82, 34.70]),  # on the hypotenuse
            "square": polygon(box(135.805, 34.685, 135.81, 34.69)),
            "corner": polygon(box(135.815, 34.695, 135.83, 34.71)),  # sticks out past it
        },
    )
    assert found(places, within(TRIANGLE)) == ["along", "short", "square"]
    assert found(places, intersects(TRIANGLE)) == ["along", "corner", "crossing", "short", "square"]


# -- $geoIntersects: one shape inside the other ----------------------------------------

PARK = polygon(box(135.835, 34.685, 135.845, 34.695))


def test_a_query_shape_inside_a_stored_polygon_intersects_it(sync_db: SyncDb) -> None:
    places = store(sync_db, {"park": PARK, "elsewhere": polygon(box(135.70, 34.60, 135.71, 34.61))})
    assert found(places, intersects(polygon(box(135.839, 34.689, 135.841, 34.691)))) == ["park"]
    assert found(places, intersects(line([135.839, 34.689], [135.841, 34.691]))) == ["park"]
    multi = {
        "type": "MultiLineString",
        "coordinates": [[[0, 0], [1, 1]], [[135.84, 34.69], [135.841, 34.69]]],
    }
    assert found(places, intersects(multi)) == ["park"]
    assert found(places, intersects(point(135.84, 34.69))) == ["park"]
    # And the other way round: the stored shape inside the query's polygon.
    assert found(places, intersects(polygon(box(135.83, 34.68, 135.85, 34.70)))) == ["park"]
    collection = {"type": "GeometryCollection", "geometries": [point(0, 0), PARK]}
    assert found(places, intersects(collection)) == ["park"]


def test_shapes_in_a_hole_do_not_intersect(sync_db: SyncDb) -> None:
    holed = polygon(box(135.83, 34.68, 135.85, 34.70), box(135.835, 34.685, 135.845, 34.695))
    places = store(sync_db, {"holed": holed})
    in_hole = box(135.838, 34.688, 135.842, 34.692)
    assert found(places, intersects(polygon(in_hole))) == []
    assert found(places, intersects(line([135.838, 34.688], [135.842, 34.692]))) == []
    assert found(places, intersects(point(135.84, 34.69))) == []
    # Around the hole, inside the shell: it intersects the ring between them.
    assert found(places, intersects(polygon(box(135.832, 34.682, 135.848, 34.698)))) == ["holed"]
    assert found(places, intersects(point(135.845, 34.69))) == ["holed"]  # on the hole's edge


def test_touching_shapes_intersect(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "park": PARK,
            "next_door": polygon(box(135.845, 34.685, 135.855, 34.695)),  # shares an edge
            "road": line([135.80, 34.695], [135.84, 34.695]),  # ends on the park's edge
            "lane": line([135.80, 34.70], [135.85, 34.70]),
        },
    )
    assert found(places, intersects(PARK)) == ["next_door", "park", "road"]
    crossing = line([135.81, 34.69], [135.81, 34.71])
    assert found(places, intersects(crossing)) == ["lane", "road"]


# -- $geoWithin a polygon: holes, MultiPolygons ----------------------------------------


def test_within_a_polygon_with_a_hole(sync_db: SyncDb) -> None:
    shell, hole = box(135.83, 34.68, 135.85, 34.70), box(135.835, 34.685, 135.845, 34.695)
    places = store(
        sync_db,
        {
            "in_ring": point(135.832, 34.69),
            "in_hole": point(135.84, 34.69),
            "on_hole_edge": point(135.835, 34.69),
            "ring_road": line([135.832, 34.682], [135.848, 34.682]),
            "through_hole": line([135.832, 34.69], [135.848, 34.69]),
            "covers_hole": polygon(box(135.832, 34.682, 135.848, 34.698)),
            "around_its_own_hole": polygon(box(135.832, 34.682, 135.848, 34.698), hole),
            "the_hole": polygon(hole),
            "beside_hole": polygon(box(135.831, 34.681, 135.834, 34.699)),
        },
    )
    assert found(places, within(polygon(shell, hole))) == [
        "around_its_own_hole",
        "beside_hole",
        "in_ring",
        "on_hole_edge",
        "ring_road",
    ]


def test_within_a_multipolygon_each_part_in_one_polygon(sync_db: SyncDb) -> None:
    west, east = box(135.80, 34.68, 135.81, 34.69), box(135.81, 34.68, 135.82, 34.69)
    places = store(
        sync_db,
        {
            "west": point(135.805, 34.685),
            "both": {"type": "MultiPoint", "coordinates": [[135.805, 34.685], [135.815, 34.685]]},
            # Across the shared edge: in neither polygon alone (MongoDB's rule too).
            "across": line([135.805, 34.685], [135.815, 34.685]),
            "out": {"type": "MultiPoint", "coordinates": [[135.805, 34.685], [135.9, 34.685]]},
        },
    )
    multi = {"type": "MultiPolygon", "coordinates": [[west], [east]]}
    assert found(places, within(multi)) == ["both", "west"]


def test_within_across_the_antimeridian(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "west_side": point(179.5, 0.5),
            "east_side": point(-179.5, 0.5),
            "across": line([179.8, 0.2], [-179.8, 0.2]),
            "greenwich": point(0, 0.5),
        },
    )
    fiji = polygon([[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]])
    assert found(places, within(fiji)) == ["across", "east_side", "west_side"]
    assert found(places, intersects(fiji)) == ["across", "east_side", "west_side"]


def test_arrays_of_geometries_match_by_any_element(sync_db: SyncDb) -> None:
    places = store(
        sync_db,
        {
            "two": [point(135.84, 34.69), point(0, 0)],
            "legacy_pairs": [[0, 0], [135.84, 34.69]],
            "none": [point(0, 0)],
            "not_geo": {"type": "Point", "coordinates": [200, 0]},
        },
    )
    assert found(places, within(PARK)) == ["legacy_pairs", "two"]
    assert found(places, intersects(PARK)) == ["legacy_pairs", "two"]
