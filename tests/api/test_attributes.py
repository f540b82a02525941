"""Attribute append, update, partial update, replace and delete (clauses 5.6.2-5.6.5, 5.6.19)."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any
URL = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"


async def setup(client: Client, **attrs: Any) -> None:
    r = await client.post(ENTITIES, json=vehicle(**attrs), headers=JSON)
    assert r.status == 201, await r.text()


async def kv(client: Client) -> dict[str, Any]:
    r = await client.get(URL, params={"options": "keyValues"})
    assert r.status == 200
    return await r.json()  # type: ignore[no-any-return]


async def test_append_attributes(client: Client) -> None:
    """Clause 6.6.3.1: 204 when every attribute was appended (or overwritten)."""
    await setup(client)
    r = await client.post(f"{URL}/attrs", json={"color": "red", "speed": 10}, headers=JSON)
    assert r.status == 204, await r.text()
    assert await kv(client) == {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "speed": 10,
        "color": "red",
    }


async def test_append_no_overwrite_answers_207(client: Client) -> None:
    """Clause 6.6.3.1: with noOverwrite, existing attributes are reported in notUpdated."""
    await setup(client)
    r = await client.post(
        f"{URL}/attrs",
        params={"options": "noOverwrite"},
        json={"color": "red", "speed": 10},
        headers=JSON,
    )
    assert r.status == 207
    body = await r.json()
    assert body["updated"] == ["color"]
    assert [n["attributeName"] for n in body["notUpdated"]] == ["speed"]
    assert body["notUpdated"][0]["reason"]
    assert (await kv(client))["speed"] == 51


async def test_append_to_missing_entity(client: Client) -> None:
    r = await client.post(f"{ENTITIES}/urn:a:none/attrs", json={"a": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")


async def test_update_attributes(client: Client) -> None:
    """Clause 6.6.3.2: existing attributes are replaced, unknown ones reported (207)."""
    await setup(client, color="red")
    r = await client.patch(f"{URL}/attrs", json={"color": "blue"}, headers=JSON)
    assert r.status == 204
    r = await client.patch(f"{URL}/attrs", json={"color": "green", "wings": 2}, headers=JSON)
    assert r.status == 207
    body = await r.json()
    assert body["updated"] == ["color"]
    assert body["notUpdated"][0]["attributeName"] == "wings"
    assert await kv(client) == {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "speed": 51,
        "color": "green",
    }


async def test_partial_attribute_update(client: Client) -> None:
    """Clause 6.7.3.1: members given change, the rest (unitCode) stays."""
    await setup(client, temp={"type": "Property", "value": 20, "unitCode": "CEL"})
    r = await client.patch(f"{URL}/attrs/temp", json={"value": 25}, headers=JSON)
    assert r.status == 204, await r.text()
    body = await (await client.get(URL)).json()
    assert body["temp"] == {"type": "Property", "value": 25, "unitCode": "CEL"}
    r = await client.patch(f"{URL}/attrs/nothing", json={"value": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")


async def test_replace_attribute(client: Client) -> None:
    """Clause 6.7.3.3: the attribute is replaced whole; missing attribute is 404."""
    await setup(client, temp={"type": "Property", "value": 20, "unitCode": "CEL"})
    r = await client.put(f"{URL}/attrs/temp", json={"type": "Property", "value": 30}, headers=JSON)
    assert r.status == 204, await r.text()
    assert (await (await client.get(URL)).json())["temp"] == {"type": "Property", "value": 30}
    r = await client.put(f"{URL}/attrs/none", json={"type": "Property", "value": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")


async def test_delete_attribute_with_dataset_ids(client: Client) -> None:
    """Clause 6.7.3.2: datasetId removes one instance, deleteAll=true all of them."""
    await setup(
        client,
        temp=[
            {"type": "Property", "value": 1},
            {"type": "Property", "value": 2, "datasetId": "urn:ds:a"},
            {"type": "Property", "value": 3, "datasetId": "urn:ds:b"},
        ],
    )
    r = await client.delete(f"{URL}/attrs/temp", params={"datasetId": "urn:ds:a"})
    assert r.status == 204
    assert (await kv(client))["temp"] == [1, 3]
    r = await client.delete(f"{URL}/attrs/temp", params={"datasetId": "urn:ds:a"})
    await problem(r, 404, "ResourceNotFound")
    r = await client.delete(f"{URL}/attrs/temp")
    assert r.status == 204
    assert (await kv(client))["temp"] == 3
    await client.post(f"{URL}/attrs", json={"temp": {"value": 9}}, headers=JSON)
    r = await client.delete(f"{URL}/attrs/temp", params={"deleteAll": "true"})
    assert r.status == 204
    assert "temp" not in await kv(client)
    r = await client.delete(f"{URL}/attrs/temp")
    await problem(r, 404, "ResourceNotFound")


async def test_attribute_payload_errors(client: Client) -> None:
    await setup(client)
    r = await client.post(f"{URL}/attrs", json=[1, 2], headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.post(f"{URL}/attrs", json={"a": {"type": "Nope", "value": 1}}, headers=JSON)
    body = await problem(r, 400, "BadRequestData")
    assert "unknown attribute type" in body["detail"]
    r = await client.post(f"{URL}/attrs", json={}, headers=JSON)
    await problem(r, 400, "BadRequestData")
