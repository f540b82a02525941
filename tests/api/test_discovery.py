"""Discovery of entity types and attributes (clauses 5.7.5-5.7.10, 6.25-6.28)."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem

Client = Any
D = "https://uri.etsi.org/ngsi-ld/default-context/"


async def fill(client: Client) -> None:
    for body in (
        {"id": "urn:a:1", "type": "Building", "name": "A", "owner": {"object": "urn:p:1"}},
        {"id": "urn:a:2", "type": ["Building", "Shop"], "name": "B"},
        {"id": "urn:a:3", "type": "Vehicle", "speed": 3},
    ):
        r = await client.post(ENTITIES, json=body, headers=JSON)
        assert r.status == 201


async def test_types(client: Client) -> None:
    """Clause 5.7.5: the types present, or their details."""
    await fill(client)
    body = await (await client.get("/ngsi-ld/v1/types")).json()
    assert body["type"] == "EntityTypeList"
    assert body["typeList"] == ["Building", "Shop", "Vehicle"]
    details = await (await client.get("/ngsi-ld/v1/types", params={"details": "true"})).json()
    building = next(d for d in details if d["typeName"] == "Building")
    assert building == {
        "id": D + "Building",
        "type": "EntityType",
        "typeName": "Building",
        "attributeNames": ["name", "owner"],
    }


async def test_type_info(client: Client) -> None:
    """Clause 5.7.7: entity count and attribute details of one type."""
    await fill(client)
    body = await (await client.get("/ngsi-ld/v1/types/Building")).json()
    assert body["type"] == "EntityTypeInfo"
    assert body["entityCount"] == 2
    kinds = {a["attributeName"]: a["attributeTypes"] for a in body["attributeDetails"]}
    assert kinds == {"name": ["Property"], "owner": ["Relationship"]}
    await problem(await client.get("/ngsi-ld/v1/types/Nothing"), 404, "ResourceNotFound")


async def test_attributes(client: Client) -> None:
    """Clauses 5.7.8-5.7.10: attribute list, details and one attribute."""
    await fill(client)
    body = await (await client.get("/ngsi-ld/v1/attributes")).json()
    assert body["type"] == "AttributeList"
    assert body["attributeList"] == ["name", "owner", "speed"]
    body = await (await client.get("/ngsi-ld/v1/attributes/name")).json()
    assert body["attributeCount"] == 2
    assert body["attributeTypes"] == ["Property"]
    assert body["typeNames"] == ["Building", "Shop"]
    await problem(await client.get("/ngsi-ld/v1/attributes/nope"), 404, "ResourceNotFound")


async def test_discovery_by_expanded_iri_and_parameter_checks(client: Client) -> None:
    """TP 024_02, 027_02: a percent-encoded IRI names a type or attribute; TP 577_01,
    5710_01: parameters are checked before the lookup."""
    await fill(client)
    encoded = (D + "Building").replace(":", "%3A").replace("/", "%2F")
    r = await client.get(f"/ngsi-ld/v1/types/{encoded}")
    assert r.status == 200, await r.text()
    assert (await r.json())["entityCount"] == 2
    r = await client.get("/ngsi-ld/v1/types/", params={"details": "false"})
    assert r.status == 200
    r = await client.get("/ngsi-ld/v1/types/Building", params={"details": "true"})
    await problem(r, 400, "InvalidRequest")
    r = await client.get("/ngsi-ld/v1/attributes", params={"limit": "5"})
    await problem(r, 400, "InvalidRequest")
