"""Query Entities basics (clause 5.7.2, 6.4.3.2): type, id, idPattern, attrs, paging, count."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem

Client = Any


async def fill(client: Client) -> None:
    for n in range(5):
        for kind in ("Vehicle", "Parking"):
            body = {"id": f"urn:ngsi-ld:{kind}:{n}", "type": kind, "n": n}
            if n % 2:
                body["odd"] = True
            r = await client.post(ENTITIES, json=body, headers=JSON)
            assert r.status == 201


async def ids(client: Client, **params: str) -> list[str]:
    r = await client.get(ENTITIES, params=params)
    assert r.status == 200, await r.text()
    return [e["id"] for e in await r.json()]


async def test_query_by_type_id_pattern_and_attrs(client: Client) -> None:
    await fill(client)
    assert await ids(client, type="Parking") == [f"urn:ngsi-ld:Parking:{n}" for n in range(5)]
    assert await ids(client, type="Parking,Vehicle", limit="100") == sorted(
        f"urn:ngsi-ld:{k}:{n}" for k in ("Vehicle", "Parking") for n in range(5)
    )
    ids_ = "urn:ngsi-ld:Vehicle:1,urn:ngsi-ld:Parking:2"
    assert await ids(client, id=ids_, type="Vehicle,Parking") == [
        "urn:ngsi-ld:Parking:2",
        "urn:ngsi-ld:Vehicle:1",
    ]
    assert await ids(client, type="Vehicle", idPattern="Vehicle:[34]$") == [
        "urn:ngsi-ld:Vehicle:3",
        "urn:ngsi-ld:Vehicle:4",
    ]
    assert await ids(client, type="Vehicle", attrs="odd") == [
        "urn:ngsi-ld:Vehicle:1",
        "urn:ngsi-ld:Vehicle:3",
    ]


async def test_pagination_and_count(client: Client) -> None:
    """Clause 5.5.9: limit/offset pages, count=true gives NGSILD-Results-Count."""
    await fill(client)
    r = await client.get(
        ENTITIES, params={"type": "Vehicle", "limit": "2", "offset": "2", "count": "true"}
    )
    assert r.headers["NGSILD-Results-Count"] == "5"
    assert [e["id"] for e in await r.json()] == ["urn:ngsi-ld:Vehicle:2", "urn:ngsi-ld:Vehicle:3"]
    r = await client.get(ENTITIES, params={"type": "Vehicle", "limit": "0", "count": "true"})
    assert r.headers["NGSILD-Results-Count"] == "5"
    assert await r.json() == []


async def test_query_errors(client: Client) -> None:
    """TP 019_03: a query needs a type, attrs, q or a geo-query; ids alone are not enough."""
    await problem(await client.get(ENTITIES), 400, "BadRequestData")
    await problem(await client.get(ENTITIES, params={"id": "urn:a:1"}), 400, "BadRequestData")
    r = await client.get(ENTITIES, params={"type": "T", "id": "not-a-uri"})
    await problem(r, 400, "BadRequestData")
    r = await client.get(ENTITIES, params={"type": "T", "invalidParams": "x"})
    await problem(r, 400, "InvalidRequest")
    r = await client.get(ENTITIES, params={"type": "Vehicle", "limit": "5000"})
    await problem(r, 400, "BadRequestData")
    r = await client.get(ENTITIES, params={"type": "Vehicle", "limit": "-1"})
    await problem(r, 400, "BadRequestData")
    r = await client.get(ENTITIES, params={"type": "T", "idPattern": "("})
    await problem(r, 400, "BadRequestData")


async def test_query_geojson(client: Client) -> None:
    point = {"type": "Point", "coordinates": [1.0, 2.0]}
    body = {"id": "urn:a:1", "type": "Spot", "location": {"type": "GeoProperty", "value": point}}
    await client.post(ENTITIES, json=body, headers=JSON)
    r = await client.get(
        ENTITIES, params={"type": "Spot"}, headers={"Accept": "application/geo+json"}
    )
    body = await r.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"][0]["geometry"] == point


async def cars(client: Client) -> None:
    nara = [135.8048, 34.6851]
    for n, (speed, brand, lon) in enumerate(
        [(10, "Mazda", 135.805), (60, "Toyota", 135.81), (120, "Honda", 135.9)]
    ):
        body = {
            "id": f"urn:ngsi-ld:Car:{n}",
            "type": "Car",
            "speed": {"type": "Property", "value": speed, "observedAt": f"2026-11-2{n}T00:00:00Z"},
            "brand": brand,
            "owner": {"type": "Relationship", "object": f"urn:ngsi-ld:Person:{n % 2}"},
            "location": {
                "type": "GeoProperty",
                "value": {"type": "Point", "coordinates": [lon, nara[1]]},
            },
        }
        r = await client.post(ENTITIES, json=body, headers=JSON)
        assert r.status == 201, await r.text()


async def test_q_over_http(client: Client) -> None:
    """Clause 4.9: the q language, filtered by the store."""
    await cars(client)
    assert await ids(client, type="Car", q="speed>50") == ["urn:ngsi-ld:Car:1", "urn:ngsi-ld:Car:2"]
    assert await ids(client, type="Car", q='brand=="Mazda"|speed>=120') == [
        "urn:ngsi-ld:Car:0",
        "urn:ngsi-ld:Car:2",
    ]
    assert await ids(client, type="Car", q="speed==50..70;owner==urn:ngsi-ld:Person:1") == [
        "urn:ngsi-ld:Car:1"
    ]
    assert await ids(client, q="brand~=^To") == ["urn:ngsi-ld:Car:1"]
    r = await client.get(ENTITIES, params={"type": "Car", "q": "speed>"})
    body = await problem(r, 400, "BadRequestData")
    assert "position" in body["detail"]


async def test_geo_query_over_http(client: Client) -> None:
    """Clause 4.10: near with maxDistance, within a polygon."""
    await cars(client)
    near = await ids(
        client,
        type="Car",
        georel="near;maxDistance==1000",
        geometry="Point",
        coordinates="[135.8048,34.6851]",
    )
    assert near == ["urn:ngsi-ld:Car:0", "urn:ngsi-ld:Car:1"]
    polygon = "[[[135.8,34.6],[135.85,34.6],[135.85,34.7],[135.8,34.7],[135.8,34.6]]]"
    within = await ids(client, type="Car", georel="within", geometry="Polygon", coordinates=polygon)
    assert within == ["urn:ngsi-ld:Car:0", "urn:ngsi-ld:Car:1"]
    r = await client.get(
        ENTITIES,
        params={
            "type": "Car",
            "georel": "near;maxDistance==0",
            "geometry": "Point",
            "coordinates": "[1,2]",
        },
    )
    await problem(r, 400, "BadRequestData")


async def test_query_by_post(client: Client) -> None:
    """Clause 6.23.3.1: the same query as a Query body."""
    await cars(client)
    query = {"type": "Query", "entities": [{"type": "Car"}], "q": "speed<100"}
    r = await client.post("/ngsi-ld/v1/entityOperations/query", json=query, headers=JSON)
    assert r.status == 200, await r.text()
    assert [e["id"] for e in await r.json()] == ["urn:ngsi-ld:Car:0", "urn:ngsi-ld:Car:1"]
    query = {
        "type": "Query",
        "entities": [{"type": "Car", "id": ["urn:ngsi-ld:Car:2"]}],
        "attrs": ["brand"],
    }
    r = await client.post(
        "/ngsi-ld/v1/entityOperations/query",
        params={"options": "keyValues"},
        json=query,
        headers=JSON,
    )
    assert await r.json() == [{"id": "urn:ngsi-ld:Car:2", "type": "Car", "brand": "Honda"}]
    for bad in (
        {"type": "NotQuery", "entities": [{"type": "Car"}]},
        {"type": "Query", "entities": []},
        {"type": "Query", "entities": [{"id": "urn:ngsi-ld:Car:1"}]},
        {"type": "Query", "attrs": []},
        {"type": "Query", "q": 42},
        {"type": "Query", "entities": [{"type": "Car"}], "temporalQ": {"timerel": "after"}},
    ):
        r = await client.post("/ngsi-ld/v1/entityOperations/query", json=bad, headers=JSON)
        await problem(r, 400, "BadRequestData")


async def test_scope_q(client: Client) -> None:
    """Clause 4.19: scopeQ with + (one level), # (any levels), ; (and), , (or)."""
    for n, scope in enumerate(
        ["/Nara/Parks/Nara", "/Nara/Station", ["/Kyoto/Gion", "/Nara/Parks"]]
    ):
        body = {"id": f"urn:s:{n}", "type": "Spot", "scope": scope}
        assert (await client.post(ENTITIES, json=body, headers=JSON)).status == 201
    assert await ids(client, type="Spot", scopeQ="/Nara/#") == ["urn:s:0", "urn:s:1", "urn:s:2"]
    assert await ids(client, type="Spot", scopeQ="/Nara/+") == ["urn:s:1", "urn:s:2"]
    assert await ids(client, type="Spot", scopeQ="/Kyoto/#;/Nara/Parks") == ["urn:s:2"]
    assert await ids(client, type="Spot", scopeQ="/Nara/Station,/Kyoto/Gion") == [
        "urn:s:1",
        "urn:s:2",
    ]
    await problem(await client.get(ENTITIES, params={"scopeQ": "Nara"}), 400, "BadRequestData")


async def test_pick_and_omit(client: Client) -> None:
    """Clause 4.21 (TP 018_17-018_19): keep or drop entity members."""
    await cars(client)
    url = f"{ENTITIES}/urn:ngsi-ld:Car:0"
    body = await (await client.get(url, params={"pick": "id,brand", "options": "keyValues"})).json()
    assert body == {"id": "urn:ngsi-ld:Car:0", "brand": "Mazda"}
    body = await (await client.get(url, params={"omit": "location,owner,speed"})).json()
    assert body == {
        "id": "urn:ngsi-ld:Car:0",
        "type": "Car",
        "brand": {"type": "Property", "value": "Mazda"},
    }
    for params in (
        {"pick": "id", "omit": "id"},
        {"pick": "brand", "attrs": "brand"},
        {"pick": "id,,brand"},
        {"pick": "owner{name}"},
    ):
        await problem(await client.get(url, params=params), 400, "BadRequestData")
    await problem(await client.get(url, params={"pick": "nothing"}), 404, "ResourceNotFound")
    r = await client.get(ENTITIES, params={"type": "Car", "pick": "id", "limit": "2"})
    assert await r.json() == [{"id": "urn:ngsi-ld:Car:0"}, {"id": "urn:ngsi-ld:Car:1"}]
