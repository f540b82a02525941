"""HTTP details every route shares (clauses 6.3.4-6.3.6, 6.3.14), as the ETSI suite checks them."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import ENTITIES, JSON, problem, vehicle

Client = Any
URL = f"{ENTITIES}/urn:ngsi-ld:Vehicle:1"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/ld+json, application/json", "application/json"),
        ("application/geo+json, application/json", "application/json"),
        ("application/json;q=0.1, application/ld+json;q=0.9", "application/ld+json"),
        ("application/json;q=0, */*", "application/ld+json"),
        ("*/*;q=0.9, application/ld+json;q=0.8", "application/json"),
        ("application/ld+json;q=notanumber", "application/ld+json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
    ],
)
async def test_accept_negotiation(client: Client, accept: str, expected: str) -> None:
    """Clause 6.3.4 (TP 045_02): weights first, then json > ld+json > geo+json."""
    await client.post(ENTITIES, json=vehicle(), headers=JSON)
    r = await client.get(URL, headers={"Accept": accept})
    assert r.status == 200
    assert r.headers["Content-Type"] == expected  # exactly: no charset parameter


async def test_tenant_is_echoed_even_on_errors(client: Client) -> None:
    """Clause 6.3.14 (TP 414_01, 5510_01)."""
    r = await client.get(URL, headers={"NGSILD-Tenant": "ghost"})
    await problem(r, 404, "NonexistentTenant")
    assert r.headers["NGSILD-Tenant"] == "ghost"
    r = await client.post(ENTITIES, json=vehicle(), headers={**JSON, "NGSILD-Tenant": "ghost"})
    assert r.status == 201 and r.headers["NGSILD-Tenant"] == "ghost"


async def test_chunked_body_is_length_required(client: Client) -> None:
    """TP 046_01: a body without Content-Length gets a bare 411."""

    async def chunks() -> Any:
        yield b'{"id": "urn:a:1", "type": "T"}'

    r = await client.post(ENTITIES, data=chunks(), headers=JSON)
    assert r.status == 411
    assert await r.read() == b""


async def test_no_content_has_no_body(client: Client) -> None:
    await client.post(ENTITIES, json=vehicle(), headers=JSON)
    r = await client.delete(URL)
    assert r.status == 204
    assert await r.read() == b""


async def test_geojson_carries_its_context_in_the_body(client: Client) -> None:
    """TP 636_01: geo+json bodies have @context; with Prefer: body=json a Link instead."""
    point = {"type": "Point", "coordinates": [1.0, 2.0]}
    await client.post(
        ENTITIES, json=vehicle(location={"type": "GeoProperty", "value": point}), headers=JSON
    )
    r = await client.get(URL, headers={"Accept": "application/geo+json"})
    assert "@context" in await r.json() and "Link" not in r.headers
    r = await client.get(URL, headers={"Accept": "application/geo+json", "Prefer": "body=json"})
    assert "@context" not in await r.json() and "Link" in r.headers
    r = await client.get(URL, params={"geometryProperty": "location"})
    await problem(r, 400, "BadRequestData")


async def test_json_bodies_never_hold_a_context(client: Client) -> None:
    await client.post(ENTITIES, json=vehicle(), headers=JSON)
    r = await client.get(ENTITIES, params={"type": "Vehicle"})
    assert all("@context" not in e for e in await r.json())
    r = await client.get(
        ENTITIES, params={"type": "Vehicle"}, headers={"Accept": "application/ld+json"}
    )
    assert all("@context" in e for e in await r.json())


async def test_a_query_by_a_long_list_of_ids_is_accepted(client: Client) -> None:
    """Clause 6.4.3.2 takes `id` as a list: 500 ids make a request line of about 20 KB,
    past aiohttp's default of 8190 bytes and within MAX_URL_BYTES (64 KiB)."""
    await client.post(ENTITIES, json=vehicle(), headers=JSON)
    ids = ["urn:ngsi-ld:Vehicle:1", *(f"urn:ngsi-ld:Vehicle:none-{n:05d}" for n in range(500))]
    r = await client.get(ENTITIES, params={"type": "Vehicle", "id": ",".join(ids)})
    assert r.status == 200, await r.text()
    assert [e["id"] for e in await r.json()] == ["urn:ngsi-ld:Vehicle:1"]


async def test_a_request_line_over_the_limit_is_refused(client: Client) -> None:
    """Beyond MAX_URL_BYTES the HTTP layer answers 400 before the broker sees the request
    (a plain-text body: the request could not be read)."""
    r = await client.get(ENTITIES, params={"q": "speed==" + "1" * (70 * 1024)})
    assert r.status == 400
