"""Attribute append, update, partial update, replace and delete (clauses 5.6.2-5.6.5, 5.6.19)."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any
URL = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


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
    # Names are expanded IRIs, as the ETSI suite reads them (TP 010_04).
    assert body["updated"] == [D + "color"]
    assert [n["attributeName"] for n in body["notUpdated"]] == [D + "speed"]
    assert body["notUpdated"][0]["reason"]
    assert (await kv(client))["speed"] == 51


async def test_append_to_missing_entity(client: Client) -> None:
    r = await client.post(f"{ENTITIES}/urn:a:none/attrs", json={"a": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")


async def test_update_attributes(client: Client) -> None:
    """Clause 6.6.3.2 as the ETSI suite reads it (TP 011_01): instances are replaced whole,
    new attributes are added, NGSI-LD Null deletes."""
    await setup(client, color={"type": "Property", "value": "red", "unitCode": "X"})
    r = await client.patch(f"{URL}/attrs/", json={"color": {"value": "blue"}}, headers=JSON)
    assert r.status == 204, await r.text()
    assert (await (await client.get(URL)).json())["color"] == {"type": "Property", "value": "blue"}
    r = await client.patch(f"{URL}/attrs", json={"color": "green", "wings": 2}, headers=JSON)
    assert r.status == 204
    r = await client.patch(f"{URL}/attrs", json={"wings": "urn:ngsi-ld:null"}, headers=JSON)
    assert r.status == 204
    assert await kv(client) == {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "speed": 51,
        "color": "green",
    }


async def test_update_scope_of_an_entity_without_one_is_207(client: Client) -> None:
    """TP 011_05: scope is only updated where the entity has one."""
    await setup(client)
    r = await client.patch(f"{URL}/attrs", json={"scope": "/Nara"}, headers=JSON)
    assert r.status == 207
    assert (await r.json())["notUpdated"][0]["attributeName"] == "scope"


async def test_update_adds_types(client: Client) -> None:
    """TP 011_06: types in an update fragment are added (multi-typing)."""
    await setup(client)
    r = await client.patch(f"{URL}/attrs", json={"type": ["Car", "Vehicle"]}, headers=JSON)
    assert r.status == 204
    assert (await kv(client))["type"] == ["Vehicle", "Car"]


async def test_partial_attribute_update(client: Client) -> None:
    """Clause 6.7.3.1: members given change, the rest (unitCode) stays."""
    await setup(client, temp={"type": "Property", "value": 20, "unitCode": "CEL"})
    r = await client.patch(f"{URL}/attrs/temp", json={"value": 25}, headers=JSON)
    assert r.status == 204, await r.text()
    body = await (await client.get(URL)).json()
    assert body["temp"] == {"type": "Property", "value": 25, "unitCode": "CEL"}
    r = await client.patch(f"{URL}/attrs/nothing", json={"value": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")
    r = await client.patch(f"{URL}/attrs/temp", json={"object": "urn:a:b"}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.patch(f"{URL}/attrs/temp", json={}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    merge_patch = {"Content-Type": "application/merge-patch+json"}
    r = await client.patch(f"{URL}/attrs/temp", json={"value": 26}, headers=merge_patch)
    assert r.status == 204


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
    assert (await kv(client))["temp"] == {"dataset": {"@none": 1, "urn:ds:b": 3}}
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


async def test_empty_ids_and_names_in_urls(client: Client) -> None:
    """TP 010_02, 013_02: an empty entity id is a 400; an empty attribute name a 405."""
    await setup(client)
    r = await client.post(f"{ENTITIES}//attrs/", json={"a": 1}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.patch(f"{ENTITIES}/", json={"a": 1}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.delete(f"{URL}/attrs/", params={"deleteAll": "false"})
    assert r.status == 405


async def test_type_selector(client: Client) -> None:
    """?type= on a single-entity operation must match the entity (TP 563_01, 565_01)."""
    await setup(client)
    r = await client.post(f"{URL}/attrs", params={"type": "Building"}, json={"a": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")
    assert "a" not in await kv(client)
    r = await client.post(f"{URL}/attrs", params={"type": "Vehicle"}, json={"a": 1}, headers=JSON)
    assert r.status == 204


async def test_attribute_payload_errors(client: Client) -> None:
    await setup(client)
    r = await client.post(f"{URL}/attrs", json=[1, 2], headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.post(f"{URL}/attrs", json={"a": {"type": "Nope", "value": 1}}, headers=JSON)
    body = await problem(r, 400, "BadRequestData")
    assert "unknown attribute type" in body["detail"]
    r = await client.post(f"{URL}/attrs", json={}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.post(f"{URL}/attrs", data=b"{oops", headers=JSON)
    await problem(r, 400, "InvalidRequest")
