"""The read paths' shortcuts answer exactly as the general path does: a retrieve without
query parameters, and queries rendered in one go."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import orjson
import pytest

from broker.api.request_ids import uuid4_hex

from .helpers import ENTITIES, JSON, vehicle

Client = Any

# Headers that differ between any two responses.
_VOLATILE = {"date", "x-request-id"}

DETAILED = vehicle(
    7,
    location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [135.8, 34.7]}},
    owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
    label={"type": "LanguageProperty", "languageMap": {"en": "car", "ja": "車"}},
    tags=[
        {"type": "Property", "value": 1},
        {"type": "Property", "value": 2, "datasetId": "urn:ds:2"},
    ],
)


async def _answer(client: Client, url: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    r = await client.get(url, **kwargs)
    headers = {k.lower(): v for k, v in r.headers.items() if k.lower() not in _VOLATILE}
    return r.status, headers, await r.read()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "application/ld+json"},
        {"Accept": "application/geo+json"},
        {"NGSILD-Tenant": "t1"},
    ],
)
async def test_retrieve_without_parameters_is_the_default_of_every_parameter(
    client: Client, headers: dict[str, str]
) -> None:
    create = await client.post(ENTITIES, json=DETAILED, headers={**JSON, **headers})
    assert create.status in (201, 406), await create.text()
    url = f"{ENTITIES}/{DETAILED['id']}"
    fast = await _answer(client, url, headers=headers)
    # A parameter set to its default value takes the general path.
    general = await _answer(client, url + "?options=normalized", headers=headers)
    assert fast == general
    assert fast[0] in (200, 404)


async def test_retrieve_missing_entity_is_the_same_404(client: Client) -> None:
    url = f"{ENTITIES}/urn:ngsi-ld:Vehicle:none"
    fast = await _answer(client, url)
    general = await _answer(client, url + "?options=normalized")
    assert fast[0] == 404 and fast == general


@pytest.mark.parametrize(
    "params",
    [
        {"type": "Vehicle"},
        {"type": "Vehicle", "options": "keyValues"},
        {"type": "Vehicle", "options": "concise,sysAttrs"},
        {"type": "Vehicle", "pick": "id,speed"},
        {"type": "Vehicle", "omit": "speed"},
        {"type": "Vehicle", "attrs": "speed,label", "lang": "ja"},
    ],
)
async def test_query_renders_each_entity_as_retrieve_does(
    client: Client, params: dict[str, str]
) -> None:
    for n in range(3):
        body = {**DETAILED, "id": f"urn:ngsi-ld:Vehicle:{n}"}
        assert (await client.post(ENTITIES, json=body, headers=JSON)).status == 201
    for accept in ("application/json", "application/ld+json"):
        r = await client.get(ENTITIES, params=params, headers={"Accept": accept})
        assert r.status == 200, await r.text()
        listed = await r.json(content_type=None)
        one = {k: v for k, v in params.items() if k != "type"}
        for item in listed:
            r = await client.get(f"{ENTITIES}/{item['id']}", params=one, headers={"Accept": accept})
            assert await r.json(content_type=None) == item


def test_uuid4_hex_is_uuid4() -> None:
    for raw in [bytes(16), b"\xff" * 16, *(os.urandom(16) for _ in range(1000))]:
        assert uuid4_hex(raw) == uuid.UUID(bytes=raw, version=4).hex


async def test_retrieves_asked_together_each_get_their_own_entity(client: Client) -> None:
    """Retrieves that arrive together share one store query (broker/store/reads.py);
    each still answers as it does alone (clause 5.7.1), per tenant, 404 included."""
    for tenant in (None, "t2"):
        headers = {"NGSILD-Tenant": tenant} if tenant else {}
        for n in range(6):
            body = vehicle(n, speed={"type": "Property", "value": n * 10 + (tenant is None)})
            r = await client.post(ENTITIES, json=body, headers={**JSON, **headers})
            assert r.status == 201, await r.text()
    asks = [(tenant, n) for n in [0, 1, 2, 3, 4, 5, 9, 2, 2] for tenant in (None, "t2")]

    def url(n: int) -> str:
        return f"{ENTITIES}/urn:ngsi-ld:Vehicle:{n}"

    def headers(tenant: str | None) -> dict[str, str]:
        return {"NGSILD-Tenant": tenant} if tenant else {}

    alone = [await _answer(client, url(n), headers=headers(t)) for t, n in asks]
    together = await asyncio.gather(*(_answer(client, url(n), headers=headers(t)) for t, n in asks))
    assert together == alone
    assert [status for status, _, _ in alone].count(404) == 2
    speeds = {
        (t, n): orjson.loads(body)["speed"]["value"]
        for (t, n), (s, _, body) in zip(asks, alone, strict=True)
        if s == 200
    }
    assert speeds[(None, 3)] == 31 and speeds[("t2", 3)] == 30
