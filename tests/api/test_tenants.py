"""Multi-tenancy with the NGSILD-Tenant header (clause 4.14, 6.3.14)."""

from __future__ import annotations

from typing import Any

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any


async def test_tenants_are_isolated_and_created_on_first_write(client: Client) -> None:
    nara = {**JSON, "NGSILD-Tenant": "nara"}
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers={"NGSILD-Tenant": "nara"})
    await problem(r, 404, "NonexistentTenant")
    r = await client.post(ENTITIES, json=vehicle(), headers=nara)
    assert r.status == 201
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers={"NGSILD-Tenant": "nara"})
    assert r.status == 200
    # Not visible in the default tenant, nor in another one.
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    await problem(r, 404, "ResourceNotFound")
    r = await client.post(ENTITIES, json=vehicle(), headers={**JSON, "NGSILD-Tenant": "kyoto"})
    assert r.status == 201  # the same id in another tenant is another entity


async def test_query_of_unknown_tenant(client: Client) -> None:
    r = await client.get(ENTITIES, params={"type": "Vehicle"}, headers={"NGSILD-Tenant": "nope"})
    await problem(r, 404, "NonexistentTenant")


async def test_any_tenant_name_maps_to_a_valid_database(client: Client) -> None:
    odd = {**JSON, "NGSILD-Tenant": "urn:ngsi-ld:tenant:奈良/市"}
    r = await client.post(ENTITIES, json=vehicle(), headers=odd)
    assert r.status == 201, await r.text()
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers=odd)
    assert r.status == 200
