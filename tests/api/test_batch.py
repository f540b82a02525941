"""Batch operations (clause 5.6.7-5.6.10, 6.14-6.18): per-entity results, nothing half-written."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any
OPS = "/ngsi-ld/v1/entityOperations"


async def kv(client: Client, n: int) -> Any:
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:{n}", params={"options": "keyValues"})
    return await r.json() if r.status == 200 else None


async def test_batch_create(client: Client) -> None:
    r = await client.post(f"{OPS}/create", json=[vehicle(1), vehicle(2)], headers=JSON)
    assert r.status == 201
    assert await r.json() == ["urn:ngsi-ld:Vehicle:1", "urn:ngsi-ld:Vehicle:2"]
    assert (await kv(client, 2))["speed"] == 52


async def test_batch_create_partial_failure_is_207(client: Client) -> None:
    """One bad entity never blocks the good ones (BatchOperationResult, clause 5.2.16)."""
    await client.post(ENTITIES, json=vehicle(1), headers=JSON)
    bad = {"id": "urn:ngsi-ld:Vehicle:3", "type": "Vehicle", "speed": {"type": "Nope"}}
    r = await client.post(f"{OPS}/create", json=[vehicle(1), vehicle(2), bad], headers=JSON)
    assert r.status == 207
    body = await r.json()
    assert body["success"] == ["urn:ngsi-ld:Vehicle:2"]
    errors = {e["entityId"]: e["error"]["type"].rsplit("/", 1)[1] for e in body["errors"]}
    assert errors == {
        "urn:ngsi-ld:Vehicle:1": "AlreadyExists",
        "urn:ngsi-ld:Vehicle:3": "BadRequestData",
    }
    assert await kv(client, 3) is None


async def test_batch_upsert_replace_and_update(client: Client) -> None:
    await client.post(ENTITIES, json=vehicle(1, color="red"), headers=JSON)
    r = await client.post(f"{OPS}/upsert", json=[vehicle(1), vehicle(2)], headers=JSON)
    assert r.status == 201
    assert await r.json() == ["urn:ngsi-ld:Vehicle:2"]
    assert "color" not in await kv(client, 1)  # replaced
    r = await client.post(
        f"{OPS}/upsert",
        params={"options": "update"},
        json=[{**vehicle(1), "color": "blue"}],
        headers=JSON,
    )
    assert r.status == 204
    assert (await kv(client, 1))["color"] == "blue"


async def test_batch_update_and_merge(client: Client) -> None:
    await client.post(f"{OPS}/create", json=[vehicle(1), vehicle(2)], headers=JSON)
    items = [
        {"id": "urn:ngsi-ld:Vehicle:1", "speed": 1},
        {"id": "urn:ngsi-ld:Vehicle:9", "speed": 1},
    ]
    r = await client.post(f"{OPS}/update", json=items, headers=JSON)
    assert r.status == 207
    body = await r.json()
    assert body["success"] == ["urn:ngsi-ld:Vehicle:1"]
    assert body["errors"][0]["entityId"] == "urn:ngsi-ld:Vehicle:9"
    r = await client.post(
        f"{OPS}/update",
        params={"options": "noOverwrite"},
        json=[{"id": "urn:ngsi-ld:Vehicle:1", "seats": 4}],
        headers=JSON,
    )
    assert r.status == 204
    assert (await kv(client, 1))["speed"] == 1 and (await kv(client, 1))["seats"] == 4
    r = await client.post(
        f"{OPS}/merge",
        json=[{"id": "urn:ngsi-ld:Vehicle:2", "speed": "urn:ngsi-ld:null"}],
        headers=JSON,
    )
    assert r.status == 204
    assert "speed" not in await kv(client, 2)


async def test_batch_delete(client: Client) -> None:
    await client.post(f"{OPS}/create", json=[vehicle(1), vehicle(2)], headers=JSON)
    r = await client.post(f"{OPS}/delete", json=["urn:ngsi-ld:Vehicle:1"], headers=JSON)
    assert r.status == 204
    r = await client.post(
        f"{OPS}/delete", json=["urn:ngsi-ld:Vehicle:1", "urn:ngsi-ld:Vehicle:2"], headers=JSON
    )
    assert r.status == 207
    body = await r.json()
    assert body["success"] == ["urn:ngsi-ld:Vehicle:2"]
    assert body["errors"][0]["error"]["type"].endswith("ResourceNotFound")


async def test_the_same_entity_twice_in_one_batch(client: Client) -> None:
    items = [vehicle(1), {**vehicle(1), "color": "red"}]
    r = await client.post(f"{OPS}/upsert", params={"options": "update"}, json=items, headers=JSON)
    assert r.status == 201
    assert (await kv(client, 1))["color"] == "red"


async def test_batch_errors(client: Client) -> None:
    await problem(
        await client.post(f"{OPS}/create", json={"a": 1}, headers=JSON), 400, "BadRequestData"
    )
    r = await client.post(f"{OPS}/create", json=[], headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.post(f"{OPS}/create", data=b"[{", headers=JSON)
    await problem(r, 400, "InvalidRequest")


async def test_a_large_batch(client: Client) -> None:
    items = [vehicle(n, **{f"a{k}": k for k in range(10)}) for n in range(200)]
    r = await client.post(f"{OPS}/upsert", json=items, headers=JSON)
    assert r.status == 201
    assert len(await r.json()) == 200
    r = await client.get(ENTITIES, params={"type": "Vehicle", "count": "true", "limit": "1"})
    assert r.headers["NGSILD-Results-Count"] == "200"


async def test_per_entity_context_problems_are_per_entity(client: Client) -> None:
    """TP 003_06, 003_08: a misplaced or missing @context fails that entity alone (207)."""
    LD = {"Content-Type": "application/ld+json"}
    core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    r = await client.post(
        f"{OPS}/create", json=[{**vehicle(1), "@context": core}, vehicle(2)], headers=JSON
    )
    assert r.status == 207
    body = await r.json()
    assert body["success"] == ["urn:ngsi-ld:Vehicle:2"]
    assert body["errors"][0]["error"]["type"].endswith("BadRequestData")
    r = await client.post(
        f"{OPS}/create", json=[vehicle(3), {**vehicle(4), "@context": core}], headers=LD
    )
    assert r.status == 207
    assert (await r.json())["success"] == ["urn:ngsi-ld:Vehicle:4"]


async def test_request_level_batch_errors(client: Client) -> None:
    """A null item or a Link header with ld+json refuses the whole batch (TP 567_01, 003_09)."""
    r = await client.post(f"{OPS}/create", json=[vehicle(1), None], headers=JSON)
    await problem(r, 400, "BadRequestData")
    assert await kv(client, 1) is None
    link = '<https://example.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"'
    r = await client.post(
        f"{OPS}/create",
        json=[vehicle(1)],
        headers={"Content-Type": "application/ld+json", "Link": link},
    )
    await problem(r, 400, "BadRequestData")


async def test_delete_body_needs_no_context(client: Client) -> None:
    """TP 006: the delete body is an array of ids, even as application/ld+json."""
    await client.post(f"{OPS}/create", json=[vehicle(1)], headers=JSON)
    r = await client.post(
        f"{OPS}/delete",
        json=["urn:ngsi-ld:Vehicle:1", "urn:ngsi-ld:Vehicle:1"],
        headers={"Content-Type": "application/ld+json"},
    )
    assert r.status == 207
    body = await r.json()
    assert body["success"] == ["urn:ngsi-ld:Vehicle:1"] and len(body["errors"]) == 1


async def test_update_no_overwrite_reports_what_it_kept(client: Client) -> None:
    """TP 005_02_03: new attributes are added, and the entity is reported (207)."""
    await client.post(f"{OPS}/create", json=[vehicle(1)], headers=JSON)
    r = await client.post(
        f"{OPS}/update",
        params={"options": "noOverwrite"},
        json=[{"id": "urn:ngsi-ld:Vehicle:1", "speed": 9, "seats": 4}],
        headers=JSON,
    )
    assert r.status == 207
    assert (await kv(client, 1))["seats"] == 4 and (await kv(client, 1))["speed"] == 51
