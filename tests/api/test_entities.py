"""Entity create, retrieve, replace, merge and delete over HTTP (clauses 5.6, 5.7, 6.4, 6.5)."""

from __future__ import annotations

from typing import Any

from .helpers import CORE_URL, ENTITIES, JSON, LD, problem, vehicle

Client = Any


async def create(client: Client, body: dict[str, Any], headers: dict[str, str] = JSON) -> None:
    r = await client.post(ENTITIES, json=body, headers=headers)
    assert r.status == 201, await r.text()


async def test_create_then_retrieve(client: Client) -> None:
    """Clause 6.4.3.1: 201 with Location; clause 6.5.3.1: the entity comes back as sent."""
    r = await client.post(ENTITIES, json=vehicle(), headers=JSON)
    assert r.status == 201
    assert r.headers["Location"] == f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    assert r.status == 200
    assert r.content_type == "application/json"
    assert CORE_URL in r.headers["Link"]
    assert await r.json() == vehicle()


async def test_create_twice_is_already_exists(client: Client) -> None:
    """Clause 5.6.1: creating an existing entity is AlreadyExists (409)."""
    await create(client, vehicle())
    r = await client.post(ENTITIES, json=vehicle(speed=1), headers=JSON)
    await problem(r, 409, "AlreadyExists")
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    assert (await r.json())["speed"]["value"] == 51  # the first one is intact


async def test_retrieve_missing_entity(client: Client) -> None:
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:nope")
    await problem(r, 404, "ResourceNotFound")


async def test_ids_must_be_uris(client: Client) -> None:
    """Clause 5.6.1: an id that is not a URI is BadRequestData."""
    r = await client.post(ENTITIES, json={"id": "car 1", "type": "Car"}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.get(f"{ENTITIES}/not-a-uri")
    await problem(r, 400, "BadRequestData")


async def test_malformed_json_is_invalid_request(client: Client) -> None:
    """Clause 5.5.2: a body that is not JSON is InvalidRequest."""
    r = await client.post(ENTITIES, data=b'{"id": "urn:a:b", ', headers=JSON)
    body = await problem(r, 400, "InvalidRequest")
    assert "not valid JSON" in body["detail"]
    r = await client.post(ENTITIES, data=b"", headers=JSON)
    await problem(r, 400, "InvalidRequest")


async def test_unsupported_media_type(client: Client) -> None:
    """Clause 6.3.4: only application/json and application/ld+json bodies are accepted."""
    r = await client.post(ENTITIES, data=b"<xml/>", headers={"Content-Type": "text/xml"})
    assert r.status == 415
    body = await r.json()
    assert body["type"].startswith("https://uri.etsi.org/ngsi-ld/errors/")


async def test_not_acceptable(client: Client) -> None:
    """Clause 6.3.6: an Accept that no offered media type matches is 406."""
    await create(client, vehicle())
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers={"Accept": "text/html"})
    assert r.status == 406


async def test_oversized_body_is_refused_and_nothing_is_written(client: Client) -> None:
    big = vehicle(blob="x" * 100_000)
    r = await client.post(ENTITIES, json=big, headers=JSON)
    assert r.status == 413
    body = await r.json()
    assert body["type"].endswith("BadRequestData")
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    assert r.status == 404


async def test_ld_json_body_needs_a_context(client: Client) -> None:
    """Clause 6.3.5: application/ld+json bodies carry their @context."""
    r = await client.post(ENTITIES, json=vehicle(), headers=LD)
    await problem(r, 400, "BadRequestData")
    ctx = {"Vehicle": "https://example.org/Vehicle", "speed": "https://example.org/speed"}
    await create(client, {**vehicle(), "@context": [ctx, CORE_URL]}, LD)
    # Read with the core context only: the names come back expanded.
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    body = await r.json()
    assert body["type"] == "https://example.org/Vehicle"
    assert "https://example.org/speed" in body


async def test_json_body_with_context_member_is_refused(client: Client) -> None:
    r = await client.post(ENTITIES, json={**vehicle(), "@context": CORE_URL}, headers=JSON)
    await problem(r, 400, "BadRequestData")


async def test_accept_ld_json_puts_the_context_in_the_body(client: Client) -> None:
    await create(client, vehicle())
    r = await client.get(
        f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers={"Accept": "application/ld+json"}
    )
    assert r.content_type == "application/ld+json"
    assert "Link" not in r.headers
    assert (await r.json())["@context"] == CORE_URL


async def test_geojson_representation(client: Client) -> None:
    """Clause 4.5.16: application/geo+json returns a Feature."""
    point = {"type": "Point", "coordinates": [139.76, 35.68]}
    await create(client, vehicle(location={"type": "GeoProperty", "value": point}))
    r = await client.get(
        f"{ENTITIES}/urn:ngsi-ld:Vehicle:1",
        headers={"Accept": "application/geo+json"},
        params={"options": "keyValues"},
    )
    assert r.status == 200
    assert r.content_type == "application/geo+json"
    body = await r.json()
    assert body["type"] == "Feature"
    assert body["id"] == "urn:ngsi-ld:Vehicle:1"
    assert body["geometry"] == point
    assert body["properties"]["speed"] == 51


async def test_representations_and_sys_attrs(client: Client) -> None:
    await create(client, vehicle())
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
    assert (await (await client.get(url, params={"options": "keyValues"})).json())["speed"] == 51
    assert (await (await client.get(url, params={"format": "concise"})).json())["speed"] == 51
    body = await (await client.get(url, params={"options": "sysAttrs"})).json()
    assert body["createdAt"].endswith("Z") and body["speed"]["modifiedAt"].endswith("Z")
    # TP 018_16: bad options and formats are InvalidRequest, checked before the lookup.
    for params in ({"options": "fancy"}, {"format": "x"}, {"options": "keyValues,invalid"}):
        await problem(await client.get(url, params=params), 400, "InvalidRequest")
        r = await client.get(f"{ENTITIES}/urn:a:missing", params=params)
        await problem(r, 400, "InvalidRequest")
    # format wins over options (TP 018_15).
    r = await client.get(url, params={"format": "keyValues", "options": "normalized"})
    assert (await r.json())["speed"] == 51


async def test_delete_entity(client: Client) -> None:
    """Clause 6.5.3.2: 204, then 404."""
    await create(client, vehicle())
    r = await client.delete(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    assert r.status == 204
    r = await client.delete(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    await problem(r, 404, "ResourceNotFound")


async def test_replace_entity(client: Client) -> None:
    """Clause 5.6.18: the entity gets exactly the new attributes."""
    await create(client, vehicle(color="red"))
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
    r = await client.put(url, json={"type": "Car", "brand": "Mazda"}, headers=JSON)
    assert r.status == 204, await r.text()
    body = await (await client.get(url, params={"options": "keyValues"})).json()
    assert body == {"id": "urn:ngsi-ld:Vehicle:1", "type": "Car", "brand": "Mazda"}
    r = await client.put(url, json={"id": "urn:other:1", "type": "Car"}, headers=JSON)
    await problem(r, 400, "BadRequestData")


async def test_merge_entity(client: Client) -> None:
    """Clause 5.6.17: merge adds, updates and deletes with urn:ngsi-ld:null."""
    await create(client, vehicle(color="red", brand="Mazda"))
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
    r = await client.patch(
        url, json={"color": "blue", "brand": "urn:ngsi-ld:null", "seats": 4}, headers=JSON
    )
    assert r.status == 204, await r.text()
    body = await (await client.get(url, params={"options": "keyValues"})).json()
    assert body == {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": "Vehicle",
        "speed": 51,
        "color": "blue",
        "seats": 4,
    }
    r = await client.patch(f"{ENTITIES}/urn:a:missing", json={"a": 1}, headers=JSON)
    await problem(r, 404, "ResourceNotFound")


async def test_a_bad_update_changes_nothing(client: Client) -> None:
    await create(client, vehicle())
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"
    before = await (await client.get(url, params={"options": "sysAttrs"})).json()
    r = await client.patch(
        url, json={"color": "blue", "location": {"type": "Property", "value": 1}}, headers=JSON
    )
    await problem(r, 400, "BadRequestData")
    after = await (await client.get(url, params={"options": "sysAttrs"})).json()
    assert after == before


async def test_unknown_route_and_method(client: Client) -> None:
    r = await client.get("/ngsi-ld/v1/nothing")
    await problem(r, 404, "ResourceNotFound")
    r = await client.put(ENTITIES)
    assert r.status == 405
