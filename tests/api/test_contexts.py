"""User @contexts: Link header, remote fetch and cache, and the jsonldContexts API
(clauses 5.5.7, 5.13, 6.3.5)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from .helpers import ENTITIES, JSON, LD, problem

Client = Any
CONTEXTS = "/ngsi-ld/v1/jsonldContexts"
USER_CONTEXT = {
    "@context": {
        "Vehicle": "https://smartdatamodels.org/dataModel.Transportation/Vehicle",
        "speed": "https://smartdatamodels.org/dataModel.Transportation/speed",
    }
}


def link(url: str) -> dict[str, str]:
    return {
        "Link": f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    }


@pytest.fixture
async def context_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A web server on loopback that serves one @context and counts its hits."""
    hits: list[str] = []

    async def serve(request: web.Request) -> web.Response:
        hits.append(request.path)
        if request.path == "/broken.jsonld":
            return web.Response(text="{not json", content_type="application/ld+json")
        return web.json_response(USER_CONTEXT, content_type="application/ld+json")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")), hits
    await server.close()


async def test_link_header_context_is_fetched_once_and_used(
    client: Client, context_server: tuple[str, list[str]]
) -> None:
    base, hits = context_server
    url = f"{base}/ctx.jsonld"
    body = {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 3}
    r = await client.post(ENTITIES, json=body, headers={**JSON, **link(url)})
    assert r.status == 201, await r.text()
    # With the same Link: short names; the Link header of the response names that context.
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1", headers=link(url))
    assert (await r.json())["speed"] == {"type": "Property", "value": 3}
    assert url in r.headers["Link"]
    # With the core context only: the expanded IRIs.
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    body = await r.json()
    assert body["type"] == "https://smartdatamodels.org/dataModel.Transportation/Vehicle"
    assert hits == ["/ctx.jsonld"]  # fetched once, then cached


async def test_unreachable_context_is_ld_context_not_available(
    client: Client, context_server: tuple[str, list[str]]
) -> None:
    """Clause 5.5.2: a remote @context that cannot be retrieved is LdContextNotAvailable."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/ctx.jsonld"
    body = {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle"}
    r = await client.post(ENTITIES, json=body, headers={**JSON, **link(dead)})
    await problem(r, 503, "LdContextNotAvailable")
    base, _ = context_server
    # Retrieved, but not a JSON-LD context: the client's mistake (ETSI TP 556_01).
    r = await client.post(ENTITIES, json=body, headers={**JSON, **link(f"{base}/broken.jsonld")})
    await problem(r, 400, "BadRequestData")
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:1")
    assert r.status == 404  # nothing was written


async def test_hosted_context_lifecycle(client: Client) -> None:
    """Clause 5.13: add, list, serve, use and delete a context hosted by the broker."""
    r = await client.post(CONTEXTS, json=USER_CONTEXT, headers=JSON)
    assert r.status == 201, await r.text()
    location = r.headers["Location"]
    assert location.startswith(CONTEXTS + "/")
    r = await client.get(location)
    assert r.content_type == "application/json"
    assert await r.json() == USER_CONTEXT
    urls = await (await client.get(CONTEXTS, params={"kind": "Hosted"})).json()
    assert len(urls) == 1 and urls[0].endswith(location)
    details = await (await client.get(CONTEXTS, params={"details": "true"})).json()
    [hosted] = [d for d in details if d["kind"] == "Hosted"]
    assert hosted["URL"] == urls[0] and location.endswith(hosted["localId"])
    assert set(hosted) <= {"URL", "localId", "kind", "createdAt", "lastUsage"}
    # The hosted context works in a Link header without any outside fetch.
    body = {"id": "urn:ngsi-ld:Vehicle:9", "type": "Vehicle", "speed": 1}
    r = await client.post(ENTITIES, json=body, headers={**JSON, **link(urls[0])})
    assert r.status == 201, await r.text()
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:9")
    assert "https://smartdatamodels.org/dataModel.Transportation/speed" in await r.json()
    assert (await client.delete(location)).status == 204
    await problem(await client.get(location), 404, "ResourceNotFound")
    await problem(await client.delete(location), 404, "ResourceNotFound")


async def test_invalid_hosted_context(client: Client) -> None:
    """Clause 6.29.3.1 (TP 050_02, 5132_01): no @context member is InvalidRequest, a
    @context that is not a context is BadRequestData."""
    r = await client.post(CONTEXTS, json={"no": "context"}, headers=JSON)
    body = await problem(r, 400, "InvalidRequest")
    assert body["title"] != body["detail"]
    for bad in (42, True, ["https://example.org/ctx.jsonld", 3]):
        r = await client.post(CONTEXTS, json={"@context": bad}, headers=JSON)
        await problem(r, 400, "BadRequestData")
        assert "Location" not in r.headers


async def test_hosted_contexts_are_per_tenant(client: Client) -> None:
    nara = {**JSON, "NGSILD-Tenant": "nara"}
    r = await client.post(CONTEXTS, json=USER_CONTEXT, headers=nara)
    assert r.status == 201
    location = r.headers["Location"]
    assert (await client.get(location, headers=nara)).status == 200
    await problem(await client.get(location), 404, "ResourceNotFound")
    r = await client.get(CONTEXTS, headers={"NGSILD-Tenant": "never-used"})
    assert r.status == 200


async def test_core_context_is_listed_and_cannot_be_deleted(client: Client) -> None:
    urls = await (await client.get(CONTEXTS)).json()
    core = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
    assert core in urls
    encoded = core.replace(":", "%3A").replace("/", "%2F")
    r = await client.get(f"{CONTEXTS}/{encoded}")
    assert "ngsi-ld" in (await r.json())["@context"]
    await problem(await client.delete(f"{CONTEXTS}/{encoded}"), 400, "BadRequestData")
    assert (await client.delete(f"{CONTEXTS}/{encoded}", params={"reload": "true"})).status == 204


async def test_relative_hosted_context_in_a_body(client: Client) -> None:
    r = await client.post(CONTEXTS, json=USER_CONTEXT, headers=JSON)
    location = r.headers["Location"]
    body = {"id": "urn:ngsi-ld:Vehicle:7", "type": "Vehicle", "speed": 1, "@context": location}
    r = await client.post(ENTITIES, json=body, headers=LD)
    assert r.status == 201, await r.text()
    r = await client.get(f"{ENTITIES}/urn:ngsi-ld:Vehicle:7")
    assert "https://smartdatamodels.org/dataModel.Transportation/speed" in await r.json()


async def test_inline_context_in_ld_json_body(client: Client) -> None:
    ctx = {"speed": "https://example.org/v#speed"}
    body = {"id": "urn:a:1", "type": "T", "speed": 1, "@context": ctx}
    r = await client.post(ENTITIES, json=body, headers=LD)
    assert r.status == 201, await r.text()
    r = await client.get(f"{ENTITIES}/urn:a:1")
    assert "https://example.org/v#speed" in await r.json()
