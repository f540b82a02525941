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
