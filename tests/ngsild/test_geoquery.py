"""Parsing and checking NGSI-LD geo-queries (ETSI GS CIM 009 V1.9.1 clause 4.10, 5.2.13).

The error cases include those of the ETSI test suite's QueryEntities 019_30 (georel grammar)
and the reference geometries of 019_10 and 019_11.
"""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from broker.ngsild.context import CORE, DEFAULT_VOCAB
from broker.ngsild.errors import BadRequestData
from broker.ngsild.geoquery import (
    GEORELS,
    LOCATION,
    QUERY_GEOMETRY_TYPES,
    GeoQuery,
    check_simple_geometry,
    parse_geoquery,
)

NGSI_LD = "https://uri.etsi.org/ngsi-ld/"
POINT = "[8,40]"
SQUARE = "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]"


def parse(
    georel: str | None = "within",
    geometry: str | None = "Point",
    coordinates: Any = POINT,
    geoproperty: str | None = None,
) -> GeoQuery:
    q = parse_geoquery(georel, geometry, coordinates, geoproperty, CORE.expand)
    assert q is not None
    return q


def refused(
    georel: str | None = "within",
    geometry: str | None = "Point",
    coordinates: Any = POINT,
    geoproperty: str | None = None,
) -> str:
    with pytest.raises(BadRequestData) as caught:
        parse_geoquery(georel, geometry, coordinates, geoproperty, CORE.expand)
    assert caught.value.status == 400
    return caught.value.detail


# -- presence ------------------------------------------------------------------------------


def test_no_geo_parameters_is_no_geoquery() -> None:
    assert parse_geoquery(None, None, None, None, CORE.expand) is None


@pytest.mark.parametrize(
    ("given", "detail"),
    [
        (
            {"geoproperty": "location"},
            "geoproperty given without georel, geometry and coordinates",
        ),
        ({"georel": "within"}, "georel given without geometry and coordinates"),
        (
            {"georel": "near;maxDistance==10", "coordinates": POINT},
            "georel and coordinates given without geometry",
        ),
        ({"geometry": "Point", "coordinates": POINT}, "given without georel"),
    ],
)
def test_all_or_nothing(given: dict[str, str], detail: str) -> None:
    """Clause 4.10: georel, geometry and coordinates go together (geoproperty is optional)."""
    args: dict[str, Any] = {"georel": None, "geometry": None, "coordinates": None}
    args |= given
    message = refused(**args)
    assert message.startswith("Incomplete geo-query: ")
    assert detail in message


def test_an_empty_parameter_is_given_and_refused() -> None:
    """Empty is not absent: a parameter sent empty is refused for what it is."""
    assert refused(georel="").startswith("georel is empty")
    assert "not a GeoJSON geometry type" in refused(geometry="")
    assert "are not JSON" in refused(coordinates="")


# -- georel (clause 4.10 grammar) ----------------------------------------------------------


@pytest.mark.parametrize("georel", ["within", "contains", "intersects", "overlaps", "disjoint"])
def test_plain_georels(georel: str) -> None:
    q = parse(georel, "Polygon", SQUARE)
    assert q == GeoQuery(georel, "Polygon", [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]])  # type: ignore[arg-type]
    assert q.max_distance is None and q.min_distance is None
    assert q.georel_text == georel


def test_every_georel_of_the_grammar_is_known() -> None:
    assert set(GEORELS) == {
        "near",
        "within",
        "contains",
        "intersects",
        "overlaps",
        "disjoint",
        "equals",
    }


@pytest.mark.parametrize(
    ("georel", "max_distance", "min_distance", "text"),
    [
        ("near;maxDistance==2000", 2000.0, None, "near;maxDistance==2000"),
        ("near;minDistance==15000", None, 15000.0, "near;minDistance==15000"),
        ("near;maxDistance==0.5", 0.5, None, "near;maxDistance==0.5"),
        ("near;maxDistance==1.5e3", 1500.0, None, "near;maxDistance==1500"),
        ("near;maxDistance==25E-1", 2.5, None, "near;maxDistance==2.5"),
        ("near;maxDistance==1e+2", 100.0, None, "near;maxDistance==100"),
        # ABNF quoted strings are case-insensitive (RFC 5234 section 2.3).
        ("NEAR;MaxDistance==10", 10.0, None, "near;maxDistance==10"),
    ],
)
def test_near(
    georel: str, max_distance: float | None, min_distance: float | None, text: str
) -> None:
    q = parse(georel, "Point", "[13.38893, 52.534473]")
    assert q.georel == "near"
    assert (q.max_distance, q.min_distance) == (max_distance, min_distance)
    assert q.coordinates == [13.38893, 52.534473]
    assert q.reference == {"type": "Point", "coordinates": [13.38893, 52.534473]}
    assert q.georel_text == text


def test_georel_keywords_are_case_insensitive() -> None:
    assert parse("Within").georel == "within"
    assert parse("EQUALS").georel_text == "equals"


@pytest.mark.parametrize(
    ("georel", "detail"),
    [
        # ETSI 019_30_01 .. 019_30_05, 019_30_13, 019_30_14
        ("near;maxDistance==0", "maxDistance must not be 0 (clause 4.10: PositiveNumber"),
        ("near;maxDistance==-100", "maxDistance '-100' is negative"),
        ("near;maxDistance==5;minDistance==1", "has 2 modifiers: near takes exactly one"),
        ("near", "georel 'near' needs a distance"),
        ("touches", "georel 'touches' is not a geo-relationship: expected near;maxDistance=="),
        ("near;maxDistance==inf", "maxDistance 'inf' is not a number"),
        ("near;maxDistance==1e400", "maxDistance '1e400' is too large: it is not a finite"),
        # PositiveNumber is an RFC 8259 number without a sign, other than 0.
        ("near;minDistance==0", "minDistance must not be 0"),
        ("near;maxDistance==0.0", "maxDistance must not be 0"),
        ("near;maxDistance==0e7", "maxDistance must not be 0"),
        ("near;maxDistance==-0", "maxDistance '-0' is negative"),
        ("near;maxDistance==1e-400", "maxDistance '1e-400' is too small: it rounds to 0"),
        ("near;maxDistance==+5", "maxDistance '+5' is not a number"),
        ("near;maxDistance==.5", "maxDistance '.5' is not a number"),
        ("near;maxDistance==5.", "maxDistance '5.' is not a number"),
        ("near;maxDistance==05", "maxDistance '05' is not a number"),
        ("near;maxDistance==NaN", "maxDistance 'NaN' is not a number"),
        ("near;maxDistance==0x10", "maxDistance '0x10' is not a number"),
        ("near;maxDistance==1_000", "maxDistance '1_000' is not a number"),
        ("near;maxDistance== 5", "maxDistance ' 5' is not a number"),
        ("near;maxDistance==", "maxDistance '' is not a number"),
        ("near;maxDistance==2km", "maxDistance '2km' is not a number"),
        # The modifier's form.
        ("near;maxDistance=2000", "modifier 'maxDistance=2000' is not maxDistance==<meters>"),
        ("near;maxDistance:2000", "modifier 'maxDistance:2000' is not maxDistance==<meters>"),
        ("near;distance==5", "modifier 'distance==5' is not maxDistance==<meters>"),
        ("near; maxDistance==5", "modifier ' maxDistance==5' is not maxDistance=="),
        ("near;", "modifier '' is not maxDistance==<meters>"),
        ("near;maxDistance==5;", "has 2 modifiers"),
        ("near;maxDistance==5;maxDistance==6", "has 2 modifiers"),
        # Only near has a modifier.
        ("within;maxDistance==5", "'within' takes no modifiers, only near has a distance"),
        ("equals;", "'equals' takes no modifiers"),
        ("nearby;maxDistance==5", "georel 'nearby' is not a geo-relationship"),
        ("coveredBy", "georel 'coveredBy' is not a geo-relationship"),
        (";maxDistance==5", "georel '' is not a geo-relationship"),
    ],
)
def test_bad_georel(georel: str, detail: str) -> None:
    assert detail in refused(georel, "Point", POINT)


def test_georel_must_be_a_string() -> None:
    bad: Any = 5
    assert refused(georel=bad).startswith("georel must be a string")


# -- geometry ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "coordinates"),
    [
        ("Point", "[135.8048, 34.6851]"),
        ("Point", "[135.8048, 34.6851, 120.5]"),  # an altitude is allowed (RFC 7946 3.1.1)
        ("MultiPoint", "[[135.8, 34.68], [135.81, 34.69]]"),
        ("LineString", "[[135.78, 34.6795], [135.82, 34.6795]]"),
        ("MultiLineString", "[[[135.78, 34.6795], [135.82, 34.6795]], [[0, 0], [1, 1]]]"),
        ("Polygon", SQUARE),
        (
            "Polygon",  # with a hole (ETSI 019_30_06)
            "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]",
        ),
        ("MultiPolygon", f"[{SQUARE}, [[[20,20],[21,20],[21,21],[20,20]]]]"),
        ("Polygon", "[[[170,0],[-170,0],[-170,10],[170,10],[170,0]]]"),  # across 180
        ("Polygon", "[[[0,80],[90,80],[180,80],[-90,80],[0,80]]]"),  # around the pole
    ],
)
def test_every_reference_geometry_type(geometry: str, coordinates: str) -> None:
    q = parse("intersects", geometry, coordinates)
    assert q.geometry == geometry
    assert q.reference["type"] == geometry


def test_query_geometry_types() -> None:
    """Clause 4.10: the GeoJSON geometry types "except GeometryCollection"."""
    assert {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
    } == QUERY_GEOMETRY_TYPES


@pytest.mark.parametrize(
    ("geometry", "detail"),
    [
        ("GeometryCollection", "'GeometryCollection' cannot be a reference geometry"),
        ("point", "geometry 'point' is not a GeoJSON geometry type: did you mean 'Point'?"),
        ("POLYGON", "did you mean 'Polygon'?"),
        ("Circle", "geometry 'Circle' is not a GeoJSON geometry type: expected one of "),
        ("Feature", "geometry 'Feature' is not a GeoJSON geometry type"),
    ],
)
def test_bad_geometry(geometry: str, detail: str) -> None:
    assert detail in refused("intersects", geometry, POINT)


def test_geometry_must_be_a_string() -> None:
    bad: Any = {"type": "Point"}
    assert refused(geometry=bad).startswith("geometry must be a string")


# -- coordinates ---------------------------------------------------------------------------


def test_coordinates_as_text_or_as_an_array() -> None:
    """URL parameters give JSON text; a query body (clause 5.2.13) an array or a string."""
    ring = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    assert parse("within", "Polygon", SQUARE).coordinates == [ring]
    assert parse("within", "Polygon", [ring]).coordinates == [ring]
    assert parse("within", "Point", " [ 8 , 40 ] ").coordinates == [8, 40]
    assert parse("within", "Point", [8.5, -40.25]).coordinates == [8.5, -40.25]


@pytest.mark.parametrize(
    ("geometry", "coordinates", "detail"),
    [
        ("Point", "8,40", "coordinates '8,40' are not JSON"),
        ("Point", "[8,40", "coordinates '[8,40' are not JSON"),
        ("Point", "(8,40)", "are not JSON"),
        ("Point", "[8,NaN]", "are not JSON"),
        ("Point", "[8,1e400]", "are not JSON"),
        ("Point", '{"type":"Point","coordinates":[8,40]}', "must be a JSON array such as "),
        ("Point", '"[8,40]"', "got a string"),
        ("Point", "null", "got null"),
        ("Point", "8", "got a number"),
        ("Point", {"lon": 8, "lat": 40}, "got an object"),
        ("Point", 8, "got a number"),
        ("Point", True, "got a boolean"),
        # Nesting must fit the geometry type.
        ("Point", "[[8,40]]", "coordinates of a Point are arrays nested 1 deep"),
        ("Polygon", "[[8,40],[9,40],[9,41],[8,40]]", "Polygon are arrays nested 3 deep"),
        ("LineString", "[8,40]", "LineString are arrays nested 2 deep"),
        ("MultiPolygon", SQUARE, "MultiPolygon are arrays nested 4 deep"),
        ("MultiPoint", SQUARE, "these are nested 3 deep"),
        # Positions.
        ("Point", "[]", "a position must be an array of 2 or 3 numbers, got []"),
        ("Point", "[8]", "a position must be an array of 2 or 3 numbers"),
        ("Point", "[8,40,1,2]", "a position must be an array of 2 or 3 numbers"),
        ("Point", '[8,"40"]', "a position must hold numbers only"),
        ("Point", "[true,40]", "a position must hold numbers only"),
        ("Point", "[200,40]", "position [200, 40] is out of range"),
        ("Point", "[-180.5,40]", "out of range"),
        ("Point", "[40,95]", "position [40, 95] is out of range"),
        ("Point", "[8,-90.01]", "out of range"),
        ("MultiPoint", "[]", "expected an array of at least 1 positions"),
        ("LineString", "[[8,40]]", "expected an array of at least 2 positions"),
        # Rings.
        ("Polygon", "[[[0,0],[1,0],[1,1],[0,0.5]]]", "a linear ring must be closed"),
        ("Polygon", "[[[0,0],[1,0],[0,0]]]", "expected an array of at least 4 positions"),
        ("Polygon", "[]", "a Polygon needs an array of linear rings"),
        ("MultiPolygon", "[]", "expected a non-empty array"),
    ],
)
def test_bad_coordinates(geometry: str, coordinates: Any, detail: str) -> None:
    assert detail in refused("intersects", geometry, coordinates)


def test_long_coordinates_text_is_clipped_in_the_detail() -> None:
    detail = refused("intersects", "LineString", "[" + "[8,40]," * 100)
    assert "...' are not JSON" in detail
    assert len(detail) < 400


@pytest.mark.parametrize(
    ("geometry", "coordinates", "detail"),
    [
        # MongoDB (S2) refuses these; the client gets a precise 400 instead of a 500.
        (
            "Polygon",  # a bow tie
            "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]",
            "coordinates (Polygon): the edge [0,0]-[1,1] crosses the edge [1,0]-[0,1]",
        ),
        (
            "Polygon",  # the 019_11_06 reference polygon of the ETSI suite crosses itself
            "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],"
            "[13.3343124,52.4185447],[13.4311295,52.47107],[13.3023834,52.4903066]]]",
            "the edge [13.3027267,52.4905156]-[13.2745743,52.465632] crosses the edge "
            "[13.4311295,52.47107]-[13.3023834,52.4903066]",
        ),
        (
            "Polygon",  # the ETSI suite's building-location-polygon.jsonld (019_11) as well
            "[[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],"
            "[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]",
            "the edge [13.2879639,52.5648645]-[13.2797241,52.4988679] crosses the edge "
            "[13.5049438,52.5373084]-[13.2865906,52.5648645]",
        ),
        (
            "Polygon",  # a hole that leaves the exterior ring
            "[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[-1,4],[6,4],[6,6],[4,6],[-1,4]]]",
            "the edge [0,10]-[0,0] (ring 0) crosses the edge [-1,4]-[6,4] (ring 1)",
        ),
        (
            "MultiPolygon",
            "[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,1],[1,0],[0,1],[0,0]]]]",
            "coordinates (MultiPolygon), polygon 1: the edge",
        ),
        (
            "Polygon",  # a figure eight touching itself at [1,1]
            "[[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]]",
            "position [1,1] appears twice in the ring: a ring must not touch itself",
        ),
        (
            "Polygon",
            "[[[0,0],[1,1],[0,0],[0,0]]]",
            "a linear ring needs at least 3 different positions, got 2",
        ),
        (
            "Polygon",
            "[[[0,0],[1,0],[1,1],[0,0]],[[5,5],[5,5],[6,6],[5,5]]]",
            "coordinates (Polygon), ring 1: a linear ring needs at least 3 different positions",
        ),
        (
            "LineString",
            "[[135.8,34.68],[135.8,34.68]]",
            "a LineString needs at least 2 different positions, got only [135.8,34.68]",
        ),
        (
            "MultiLineString",
            "[[[0,0],[1,1]],[[2,2],[2,2],[2,2]]]",
            "coordinates (MultiLineString), line 1: a LineString needs at least 2 different",
        ),
        (
            "LineString",
            "[[0,0],[180,0]]",
            "[0,0] and [180,0] are antipodal: the edge between them is undefined",
        ),
        (
            "Polygon",
            "[[[10,20],[-170,-20],[0,50],[10,20]]]",
            "[10,20] and [-170,-20] are antipodal",
        ),
    ],
)
def test_invalid_shapes(geometry: str, coordinates: str, detail: str) -> None:
    assert detail in refused("intersects", geometry, coordinates)


@pytest.mark.parametrize(
    ("geometry", "coordinates"),
    [
        # ETSI 019_11_03: a repeated consecutive position (MongoDB drops those).
        (
            "Polygon",
            "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],"
            "[13.4235764,52.5100027],[13.4331894,52.5273425],[13.3844376,52.5356966]]]",
        ),
        ("Polygon", "[[[0,0],[0,0],[1,0],[1,1],[1,1],[0,0],[0,0]]]"),
        # Rings that touch without crossing, a self-crossing line (lines may cross).
        ("Polygon", "[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]"),
        ("Polygon", "[[[0,0],[2,0],[1,1],[2,2],[0,2],[0,0]]]"),  # a concave ring
        ("LineString", "[[0,0],[1,1],[1,0],[0,1]]"),
        ("MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,0]]],[[[0,0],[1,1],[0,1],[0,0]]]]"),
        ("LineString", "[[180,10],[-180,10],[-179,10]]"),  # 180 and -180 are one meridian
    ],
)
def test_valid_shapes(geometry: str, coordinates: str) -> None:
    parse("intersects", geometry, coordinates)


def test_the_crossing_check_scales() -> None:
    """A 5000-vertex ring and a long thin band are checked in well under a second."""
    n = 5000
    circle = [
        [135.8 + 0.01 * math.cos(2 * math.pi * i / n), 34.68 + 0.01 * math.sin(2 * math.pi * i / n)]
        for i in range(n)
    ]
    band = [[100 + i * 0.01, 10.0] for i in range(3000)]
    band += [[100 + i * 0.01, 10.001] for i in reversed(range(3000))]
    start = time.perf_counter()
    for ring in (circle, band):
        parse("within", "Polygon", [[*ring, ring[0]]])
    assert time.perf_counter() - start < 2


def test_check_simple_geometry_is_usable_on_its_own() -> None:
    check_simple_geometry({"type": "Point", "coordinates": [1, 2]})
    with pytest.raises(BadRequestData) as caught:
        check_simple_geometry(
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "location",
        )
    assert caught.value.detail.startswith("location: the edge [0,0]-[1,1] crosses")


# -- near needs a point --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "coordinates"),
    [
        ("LineString", "[[0,60],[10,60]]"),  # ETSI 019_30_09
        ("Polygon", SQUARE),
        ("MultiPoint", "[[8,40]]"),
    ],
)
def test_near_needs_a_point(geometry: str, coordinates: str) -> None:
    detail = refused("near;maxDistance==2000", geometry, coordinates)
    assert detail.startswith(f"georel 'near' needs a Point reference geometry, got a {geometry}")


def test_georel_is_checked_before_geometry_and_coordinates() -> None:
    assert "not a geo-relationship" in refused("touches", "Circle", "oops")
    assert "not a GeoJSON geometry type" in refused("within", "Circle", "oops")


# -- geoproperty ---------------------------------------------------------------------------


def test_geoproperty_defaults_to_location() -> None:
    assert parse().geoproperty == LOCATION == NGSI_LD + "location"


@pytest.mark.parametrize(
    ("name", "iri"),
    [
        ("location", NGSI_LD + "location"),
        ("observationSpace", NGSI_LD + "observationSpace"),  # ETSI 019_30_07
        ("operationSpace", NGSI_LD + "operationSpace"),
        ("areaServed", DEFAULT_VOCAB + "areaServed"),
        ("https://example.org/geo/footprint", "https://example.org/geo/footprint"),
    ],
)
def test_geoproperty_is_expanded(name: str, iri: str) -> None:
    assert parse(geoproperty=name).geoproperty == iri


def test_geoproperty_is_expanded_with_the_given_expander() -> None:
    q = parse_geoquery(
        "within", "Point", POINT, "footprint", lambda term: "https://example.org/" + term
    )
    assert q is not None and q.geoproperty == "https://example.org/footprint"


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("", "geoproperty must be a non-empty attribute name"),
        ("foot print", "Invalid geoproperty 'foot print'"),
        ("1st", "Invalid geoproperty '1st'"),
    ],
)
def test_bad_geoproperty(name: str, detail: str) -> None:
    assert detail in refused(geoproperty=name)


def test_geoproperty_that_does_not_expand_to_an_iri() -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_geoquery("within", "Point", POINT, "where", lambda term: term)
    assert caught.value.detail == (
        "geoproperty 'where' does not expand to an IRI with the given @context (it became 'where')"
    )


# -- the ETSI test suite's reference geometries --------------------------------------------


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates"),
    [
        ("equals", "Point", "[13.3986, 52.5547]"),  # 019_01_05, 019_10_01
        ("near;maxDistance==15000", "Point", "[13.388930, 52.534473]"),  # 019_10_02
        ("near;minDistance==15000", "Point", "[13.388930, 52.534473]"),  # 019_10_03
        (
            "within",  # 019_10_04
            "Polygon",
            "[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],"
            "[13.142395,52.386428],[13.1616211,52.5438124]]]",
        ),
        (
            "overlaps",  # 019_11_07
            "Polygon",
            "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],"
            "[13.3459854,52.479903],[13.3456421,52.4794848]]]",
        ),
        ("near;maxDistance==2000", "Point", "[8,40]"),  # 019_30_07
        ("near;maxDistance==20000", "Point", "[0,85]"),  # 019_30_11
    ],
)
def test_etsi_reference_geometries_parse(georel: str, geometry: str, coordinates: str) -> None:
    q = parse(georel, geometry, coordinates)
    assert q.georel == georel.split(";")[0]
