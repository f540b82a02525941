"""The data-model API and enforcement on writes (issue 5; outside the NGSI-LD namespace)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from .helpers import ENTITIES, JSON, problem

Client = Any
MODELS = Path(__file__).resolve().parents[2] / "models"
SPOT = orjson.loads((MODELS / "Parking/ParkingSpot/examples/valid-keyvalues.json").read_bytes())
SPOT.pop("@context", None)
BAD = {**SPOT, "status": "vacant"}


async def test_list_and_get_models(client: Client) -> None:
    models = await (await client.get("/models")).json()
    names = {m["name"] for m in models}
    assert {"ParkingSpot", "EvacuationShelter", "AirQualityObserved"} <= names
    schema = await (await client.get("/models/ParkingSpot")).json()
    assert schema["$id"].endswith("Parking/ParkingSpot/schema.json")
    await problem(await client.get("/models/Nothing"), 404, "ResourceNotFound")


async def test_validate_over_http(client: Client) -> None:
    r = await client.post("/models/validate", json=[SPOT, BAD], headers=JSON)
    reports = await r.json()
    assert [rep["valid"] for rep in reports] == [True, False]
    assert reports[1]["errors"][0]["path"] == "/status"
    r = await client.post("/models/ParkingSpot/validate", json=BAD, headers=JSON)
    assert (await r.json())["valid"] is False


async def test_enforcement_modes(client: Client) -> None:
    """off: stored; warn: stored with a Warning header; enforce: 400 with every violation."""
    r = await client.post(ENTITIES, json={**BAD, "id": "urn:a:1"}, headers=JSON)
    assert r.status == 201 and "Warning" not in r.headers
    r = await client.put("/config/model-enforcement", json={"mode": "warn"}, headers=JSON)
    assert r.status == 204
    r = await client.post(ENTITIES, json={**BAD, "id": "urn:a:2"}, headers=JSON)
    assert r.status == 201 and "/status" in r.headers["Warning"]
    await client.put("/config/model-enforcement", json={"mode": "enforce"}, headers=JSON)
    assert (await (await client.get("/config/model-enforcement")).json()) == {"mode": "enforce"}
    r = await client.post(ENTITIES, json={**BAD, "id": "urn:a:3"}, headers=JSON)
    body = await problem(r, 400, "BadRequestData")
    assert body["errors"][0]["path"] == "/status/value"  # into the normalized entity
    assert (await client.get(f"{ENTITIES}/urn:a:3")).status == 404
    r = await client.post(ENTITIES, json={**SPOT, "id": "urn:a:4"}, headers=JSON)
    assert r.status == 201
    # A partial update is checked on the resulting entity, and refused whole.
    r = await client.patch(
        f"{ENTITIES}/urn:a:4/attrs/status", json={"value": "vacant"}, headers=JSON
    )
    await problem(r, 400, "BadRequestData")
    r = await client.get(f"{ENTITIES}/urn:a:4", params={"options": "keyValues"})
    assert (await r.json())["status"] == SPOT["status"]
    # Batch: the bad entity fails alone.
    r = await client.post(
        "/ngsi-ld/v1/entityOperations/upsert",
        json=[{**SPOT, "id": "urn:a:5"}, {**BAD, "id": "urn:a:6"}],
        headers=JSON,
    )
    assert r.status == 207
    assert (await r.json())["success"] == ["urn:a:5"]
    # Types without a model are not checked.
    r = await client.post(
        ENTITIES, json={"id": "urn:a:7", "type": "Unmodelled", "x": 1}, headers=JSON
    )
    assert r.status == 201


async def test_tenant_models(client: Client) -> None:
    """A tenant registers its own model; others do not see it."""
    nara = {**JSON, "NGSILD-Tenant": "nara"}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"height": {"type": "number", "minimum": 0}},
        "required": ["id", "type", "height"],
    }
    r = await client.put("/models/Gate", json=schema, headers=nara)
    assert r.status == 201
    await client.put("/config/model-enforcement", json={"mode": "enforce"}, headers=nara)
    r = await client.post(ENTITIES, json={"id": "urn:g:1", "type": "Gate"}, headers=nara)
    await problem(r, 400, "BadRequestData")
    r = await client.post(
        ENTITIES, json={"id": "urn:g:2", "type": "Gate", "height": 3}, headers=nara
    )
    assert r.status == 201
    await problem(await client.get("/models/Gate"), 404, "ResourceNotFound")
    r = await client.put("/models/Broken", json={"type": 12}, headers=nara)
    await problem(r, 400, "BadRequestData")
    assert (await client.delete("/models/Gate", headers=nara)).status == 204
    r = await client.post(ENTITIES, json={"id": "urn:g:3", "type": "Gate"}, headers=nara)
    assert r.status == 201


async def test_enforcement_accepts_the_models_own_examples(client: Client) -> None:
    """Entities sent with a Smart Data Models style @context validate as their examples do."""
    await client.put("/config/model-enforcement", json={"mode": "enforce"}, headers=JSON)
    for path in sorted(MODELS.glob("*/*/examples/valid-normalized.json")):
        body = orjson.loads(path.read_bytes())
        r = await client.post(ENTITIES, json=body, headers={"Content-Type": "application/ld+json"})
        assert r.status == 201, (path, await r.text())
