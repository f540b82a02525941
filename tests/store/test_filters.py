"""q and type selections run in the store: exactly the right entities come back.

Clause 4.9 (query language) and 4.17 (type selection), on entities stored as the broker
stores them (parse_entity + to_document), through a real MongoDB wire connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from broker.ngsild.context import CORE
from broker.ngsild.errors import OperationNotSupported
from broker.ngsild.parse import parse_entity
from broker.ngsild.q import parse_q, parse_type_expression
from broker.store.documents import to_document
from broker.store.filters import q_filter, type_filter

D = "https://uri.etsi.org/ngsi-ld/default-context/"
EIFFEL = "urn:ngsi-ld:Building:eiffel"
PISA = "urn:ngsi-ld:Building:pisa"
PARKING = "urn:ngsi-ld:Parking:p1"
VEHICLE = "urn:ngsi-ld:Vehicle:v1"
T1 = "2026-01-01T00:00:00.000Z"
T2 = "2026-01-02T00:00:00.500Z"
T3 = "2026-01-03T00:00:00.000Z"
T4 = "2026-01-04T00:00:00.000Z"

ENTITIES: list[tuple[dict[str, Any], str]] = [
    (
        {
            "id": EIFFEL,
            "type": "Building",
            "name": "Eiffel Tower",
            "airQualityLevel": {
                "value": 4,
                "unitCode": "C62",
                "observedAt": "2020-09-09T16:40:00.000Z",
            },
            "almostFull": False,
            "speed": 5,
            "address": {"value": {"city": "Berlin", "street": "Ulrich Strasse", "$k": "v"}},
            "color": {"languageMap": {"fr": "rouge", "en": "red", "de": "rot"}},
            "category": {"vocab": "commercial"},
            "managedBy": {"object": PISA},
            "tags": {"value": ["a", "b", "c"]},
            "sensor": {
                "value": 40,
                "rawdata": {"value": {"airquality": {"particulate": 40, "PM20": 85}}},
            },
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2, 48]}},
            "reading": [{"value": 1}, {"value": 99, "datasetId": "urn:ds:1"}],
        },
        T1,
    ),
    (
        {
            "id": PISA,
            "type": ["Building", "TouristDestination"],
            "name": "Pisa Tower",
            "airQualityLevel": {"value": 6, "observedAt": "2020-10-10T16:40:00Z"},
            "almostFull": True,
            "speed": 5.0,
            "address": {"value": {"city": "Pisa"}},
            "color": {"languageMap": {"en": ["blue", "cat"], "it": "blu"}},
            "refs": {"objectList": ["urn:ngsi-ld:City:Pisa", "urn:ngsi-ld:City:Rome"]},
            "managedBy": {"object": [EIFFEL, "urn:x:2"]},
            "tags": {"value": ["c", "d"]},
            "reading": {"value": 5, "datasetId": "urn:ds:2"},
        },
        T2,
    ),
    (
        {
            "id": PARKING,
            "type": "Parking",
            "name": "5",
            "speed": "fast",
            "almostFull": False,
            "observedTimes": "2020-09-09T16:40:00.5Z",
            "sensor": 41,
            "locatedIn": {"object": "urn:ngsi-ld:City:Pisa"},
        },
        T3,
    ),
    (
        {
            "id": VEHICLE,
            "type": "Vehicle",
            "brand": "Mercedes",
            "speed": 120,
            "when": "2026-11-27",
            "at": "10:00:00Z",
        },
        T4,
    ),
]


@pytest.fixture
async def entities(mongo_uri: str, db_prefix: str) -> AsyncIterator[AsyncCollection[Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    collection = client[db_prefix]["entities"]
    await collection.insert_many(
        [to_document(parse_entity(body, CORE, now), 1) for body, now in ENTITIES]
    )
    yield collection
    await client.close()


async def found(collection: AsyncCollection[Any], flt: dict[str, Any]) -> set[str]:
    return {doc["_id"] async for doc in collection.find(flt, {"_id": 1})}


async def query(
    collection: AsyncCollection[Any], q: str, expand_values: Collection[str] = ()
) -> set[str]:
    return await found(collection, q_filter(parse_q(q, CORE, expand_values)))


E, P, K, V = EIFFEL, PISA, PARKING, VEHICLE

CASES: list[tuple[str, set[str]]] = [
    # Existence (EXAMPLE 0) and non-existence
    ("name", {E, P, K}),
    ("!name", {V}),
    ("location", {E}),
    ("sensor.rawdata", {E}),
    ("!sensor.rawdata", {P, K, V}),
    ("address[city]", {E, P}),  # 019_29_03
    ("address[street]", {E}),
    ("address[postcode]", set()),
    ("!address[street]", {P, K, V}),
    ("airQualityLevel.unitCode", {E}),
    ("color[*]", {E, P}),
    ("!color[*]", {K, V}),
    # Equality: types must agree, 5 == 5.0, arrays include the value
    ('name=="Eiffel Tower"', {E}),  # 019_09_01
    ('name=="5"', {K}),
    ("name==5", set()),
    ("speed==5", {E, P}),
    ('speed=="5"', set()),
    ("almostFull==false", {E, K}),
    ("almostFull==true", {P}),
    ("tags==c", {E, P}),
    ('tags=="a","d"', {E, P}),
    ("tags!=a", {P}),
    ("tags!=c", set()),
    # Unequal: the target element must exist; a different type is unequal
    ('name!="Eiffel Tower"', {P, K}),
    ("speed!=5", {K, V}),
    ('name!="Eiffel Tower","Big Ben"', {P, K}),  # 019_28_04
    # Ordering, ranges and lists (019_09_07, 019_28_01..03)
    ("airQualityLevel>=4;airQualityLevel<7", {E, P}),
    ("airQualityLevel==4", {E}),
    ("airQualityLevel>4", {P}),
    ("airQualityLevel<=4", {E}),
    ("airQualityLevel==4..5", {E}),
    ("airQualityLevel!=4..5", {P}),
    ('name=="Eiffel Tower","Pisa Tower"', {E, P}),
    ('name>"P"', {P}),
    ('speed>"a"', {K}),
    ("speed>10", {V}),
    ("sensor>40", {K}),
    ("sensor==40", {E}),
    # Logic and precedence (019_09_02..05)
    ('name=="Pisa Tower";almostFull==false', set()),
    ('name=="Pisa Tower"|almostFull==false', {E, P, K}),
    ('(name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false', {E}),
    ('almostFull==true|almostFull==false;name=="Eiffel Tower"', {E, P}),
    ('(almostFull==true|almostFull==false);name=="Eiffel Tower"', {E}),
    # Relationships: object URIs, single or arrays; ordering never matches (019_29_11)
    ("managedBy==urn:ngsi-ld:Building:pisa", {E}),
    ("managedBy==urn:ngsi-ld:Building:eiffel", {P}),
    ('managedBy=="urn:ngsi-ld:Building:eiffel"', {P}),
    ("managedBy!=urn:ngsi-ld:Building:pisa", {P}),
    ('managedBy>"urn:a"', set()),
    ("managedBy~=urn.*", set()),
    ("managedBy!~=zzz", set()),
    ("locatedIn==urn:ngsi-ld:City:Pisa", {K}),  # 019_09_08
    ("locatedIn==urn:ngsi-ld:City:Paris", set()),  # 019_09_09
    ("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris", {K}),  # 019_09_10
    ("refs==urn:ngsi-ld:City:Rome", {P}),
    ("refs==urn:ngsi-ld:City:Paris,urn:ngsi-ld:City:Pisa", {P}),
    ("refs!=urn:ngsi-ld:City:Rome", set()),
    ("refs!=urn:ngsi-ld:City:Paris", {P}),
    # LanguageProperty: a language, any language ([*] or none given) (019_29_04..07)
    ('color[en]=="red"', {E}),
    ('color[en]=="rouge"', set()),
    ('color[*]=="rouge"', {E}),
    ('color[*]!="red"', {P}),
    ('color=="rot"', {E}),
    ('color=="cat"', {P}),
    ('color[en]=="cat"', {P}),
    ("color~=^bl", {P}),
    ('color<"bm"', {P}),
    ("color!~=^r", {P}),
    # VocabProperty values are expanded IRIs (019_29_13)
    ("category==commercial", set()),
    (f"category=={D}commercial", {E}),
    # Compound values (EXAMPLE 9/10, 019_29_01/02)
    ('address[city]=="Berlin"', {E}),
    ('address[postcode]=="Berlin"', set()),
    ('address[city]!="Berlin"', {P}),
    ('address[$k]=="v"', {E}),
    ("address[city]~=^B", {E}),
    ("address[city]!~=^B", {P}),
    ("sensor.rawdata[airquality.particulate]==40", {E}),
    ("sensor.rawdata[airquality][PM20]>80", {E}),
    ("sensor.rawdata[airquality][PM20]>90", set()),
    # Regular expressions: only strings match, also for !~=
    ("name~=^Eiff", {E}),
    ('name~="(?i)eiffel"', {E}),
    ("name~=(Eiffel|Pisa) Tower", {E, P}),
    ('name!~="^Eiffel"', {P, K}),  # 019_28_05
    ("speed~=^f", {K}),
    ("speed!~=x", {K}),
    # Date-times: fractions of a second compare by value (EXAMPLE 8)
    ("airQualityLevel.observedAt>=2020-09-09T16:40:00Z", {E, P}),
    ("airQualityLevel.observedAt>2020-09-09T16:40:00Z", {P}),
    ("airQualityLevel.observedAt==2020-09-09T16:40:00Z", {E}),
    ("airQualityLevel.observedAt<=2020-09-09T16:40:00.000Z", {E}),
    ("airQualityLevel.observedAt<2020-09-09T16:40:00Z", set()),
    ("airQualityLevel.observedAt<2020-10-10T16:40:00.001Z", {E, P}),
    ("airQualityLevel.observedAt<=2020-10-10T16:40:00,0Z", {E, P}),
    ("airQualityLevel.observedAt==2020-09-01T00:00:00Z..2020-09-30T00:00:00Z", {E}),
    ("airQualityLevel.observedAt!=2020-09-01T00:00:00Z..2020-09-30T00:00:00Z", {P}),
    ('airQualityLevel.unitCode=="C62"', {E}),
    ("observedTimes>2020-09-09T16:40:00Z", {K}),
    ("observedTimes<2020-09-09T16:40:00,6Z", {K}),
    ("observedTimes==2020-09-09T16:40:00.50Z", {K}),
    ("observedTimes>2020-09-09T16:40:00.5001Z", set()),
    ("when==2026-11-27", {V}),
    ("when>2026-01-01", {V}),
    ("at<11:00:00Z", {V}),
    ("at>=10:00:00.000Z", {V}),
    # System timestamps: the Entity's and an attribute's (5.7.2.4)
    ("createdAt>2026-01-02T00:00:00Z", {P, K, V}),
    ('modifiedAt<="2026-01-02T00:00:00.5Z"', {E, P}),
    ("createdAt==2026-01-02T00:00:00.5Z", {P}),
    ("createdAt", {E, P, K, V}),
    ("name.createdAt>=2026-01-02T00:00:00Z", {P, K}),
    # q looks at the default instance; attr.datasetId at the others (clause 4.5.5)
    ("reading", {E}),
    ("reading==1", {E}),
    ("reading==99", set()),
    ("reading.datasetId", {E, P}),
    ("!reading.datasetId", {K, V}),
    ("reading.datasetId==urn:ds:1", {E}),
    ("reading.datasetId==urn:ds:2,urn:ds:3", {P}),
    ("reading.datasetId!=urn:ds:1", {P}),
    # A GeoProperty's geometry is not a value
    ("location==1", set()),
]


@pytest.mark.parametrize(("q", "expected"), CASES)
async def test_q(entities: AsyncCollection[Any], q: str, expected: set[str]) -> None:
    assert await query(entities, q) == expected


async def test_expand_values(entities: AsyncCollection[Any]) -> None:
    """EXAMPLE 12 and 019_29_12: expandValues makes the short term find the vocab IRI."""
    assert await query(entities, "category==commercial", ["category"]) == {E}
    assert await query(entities, "category!=commercial", ["category"]) == set()


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ("Building", {E, P}),  # 019_08_01
        ("(Building;TouristDestination)", {P}),  # 019_08_02
        ("Building,Parking", {E, P, K}),  # 019_08_03
        ("Parking,TouristDestination", {P, K}),  # 019_08_04
        ("(Building;Parking),TouristDestination", {P}),  # 019_08_05
        ("Vehicle|Parking", {K, V}),
        ("(Building;Vehicle)", set()),
        ("Nothing", set()),
    ],
)
async def test_type_selection(
    entities: AsyncCollection[Any], types: str, expected: set[str]
) -> None:
    assert await found(entities, type_filter(parse_type_expression(types, CORE))) == expected


async def test_type_and_q_together(entities: AsyncCollection[Any]) -> None:
    flt = {
        "$and": [
            type_filter(parse_type_expression("Building", CORE)),
            q_filter(parse_q("speed==5;!refs", CORE)),
        ]
    }
    assert await found(entities, flt) == {E}


def test_simple_terms_give_simple_filters() -> None:
    """Plain comparisons stay one field condition (readable, and index-friendly)."""
    speed = "attrs.https://uri%2Eetsi%2Eorg/ngsi-ld/default-context/speed.@none"
    assert q_filter(parse_q("speed==5", CORE)) == {f"{speed}.value": 5}
    assert q_filter(parse_q("speed", CORE)) == {speed: {"$exists": True}}
    assert q_filter(parse_q("!speed", CORE)) == {speed: {"$exists": False}}
    assert q_filter(parse_q("createdAt>=2026-01-01T00:00:00.000Z", CORE)) == {
        "$or": [
            {"createdAt": {"$gt": "2026-01-01T00:00:00\x7f"}},
            {
                "createdAt": {
                    "$regex": "^2026-01-01T00:00:00(?:(?:[.,]0*)?Z|[.,](?:0*[1-9][0-9]*)Z)$"
                }
            },
        ]
    }
    assert type_filter(parse_type_expression("A", CORE)) == {"type": D + "A"}
    assert type_filter(parse_type_expression("A,B", CORE)) == {"type": {"$in": [D + "A", D + "B"]}}
    assert type_filter(parse_type_expression("(A;B)|C", CORE)) == {
        "$or": [{"type": D + "C"}, {"type": {"$all": [D + "A", D + "B"]}}]
    }


def test_linked_entity_paths_are_not_evaluated_by_the_store() -> None:
    """Clause 4.9 EXAMPLE 13 needs the linked entities: not something one filter can do."""
    with pytest.raises(OperationNotSupported, match=r"sensor\{humidity\}"):
        q_filter(parse_q("sensor{humidity}==40", CORE))
    with pytest.raises(OperationNotSupported):
        q_filter(parse_q("speed;!owner{a.datasetId}", CORE))
