"""Subscription create, retrieve, query, update and delete over HTTP (clauses 5.8, 6.10, 6.11).

Payloads and expectations follow the ETSI conformance suite (TP 028-032, 5811).
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import CORE_URL, JSON, LD, problem

Client = Any
SUBS = "/ngsi-ld/v1/subscriptions"
ENDPOINT = {"uri": "http://localhost:1111/notify", "accept": "application/json"}
CTX = {"Building": "https://example.org/Building", "name": "https://example.org/name"}


def sub(n: int = 1, **members: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Subscription:{n}",
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "notification": {"format": "keyValues", "endpoint": dict(ENDPOINT)},
        **members,
    }


async def create(client: Client, body: dict[str, Any], headers: dict[str, str] = JSON) -> str:
    r = await client.post(SUBS, json=body, headers=headers)
    assert r.status == 201, await r.text()
    location: str = r.headers["Location"]
    return location


async def test_create_then_retrieve(client: Client) -> None:
    """TP 028_01 / 030_03: 201 + Location; read back with defaults and status "active"."""
    location = await create(client, sub(timeInterval=5))
    assert location == f"{SUBS}/urn:ngsi-ld:Subscription:1"
    r = await client.get(location)
    assert r.status == 200
    assert await r.json() == {
        "id": "urn:ngsi-ld:Subscription:1",
        "type": "Subscription",
        "entities": [{"type": "Building"}],
        "notificationTrigger": ["attributeCreated", "attributeUpdated"],
        "timeInterval": 5,
        "notification": {"format": "keyValues", "endpoint": ENDPOINT},
        "status": "active",
    }


async def test_names_are_compacted_with_the_readers_context(client: Client) -> None:
    """Clause 5.8.3 / TP 028_06: stored expanded, compacted with the request's @context."""
    body = {**sub(watchedAttributes=["name"]), "@context": [CTX, CORE_URL]}
    body["notification"]["attributes"] = ["name"]
    body["datasetId"] = ["urn:ngsi-ld:Dataset:french-name"]
    await create(client, body, LD)
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    got = await r.json()
    assert got["entities"] == [{"type": "https://example.org/Building"}]
    assert got["watchedAttributes"] == ["https://example.org/name"]
    assert got["datasetId"] == ["urn:ngsi-ld:Dataset:french-name"]
    r = await client.get(
        f"{SUBS}/urn:ngsi-ld:Subscription:1", headers={"Accept": "application/ld+json"}
    )
    assert (await r.json())["@context"] == CORE_URL


async def test_generated_id(client: Client) -> None:
    """TP 5811_01_03: without an id, a URN is generated and returned in Location."""
    body = sub()
    del body["id"]
    location = await create(client, body)
    assert location.startswith(f"{SUBS}/urn:ngsi-ld:Subscription:")
    r = await client.get(location)
    assert r.status == 200


async def test_already_exists(client: Client) -> None:
    """TP 028_04: an existing id is AlreadyExists (409)."""
    await create(client, sub())
    r = await client.post(SUBS, json=sub(), headers=JSON)
    await problem(r, 409, "AlreadyExists")


async def test_id_reusable_after_delete(client: Client) -> None:
    """Clause 5.8.5: once deleted, the id is free again."""
    await create(client, sub())
    r = await client.delete(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    assert r.status == 204
    await create(client, sub())


async def test_invalid_json_and_empty_payload(client: Client) -> None:
    """TP 028_02: malformed JSON is InvalidRequest, an empty object BadRequestData."""
    r = await client.post(SUBS, data=b'{"type": "Subscription",', headers=JSON)
    await problem(r, 400, "InvalidRequest")
    r = await client.post(SUBS, json={}, headers=JSON)
    await problem(r, 400, "BadRequestData")


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"type": "Subscriptions"}, "type"),
        ({"id": "not a uri"}, "URI"),
        ({"entities": [{"id": "urn:a:b"}]}, "type"),
        ({"entities": [{"type": "Building", "idPattern": "("}]}, "regular expression"),
        ({"entities": []}, "entities"),
        ({"timeInterval": 10, "throttling": 30}, "throttling"),
        ({"throttling": -1}, "above 0"),
        ({"timeInterval": 5, "watchedAttributes": ["name"]}, "watchedAttributes"),
        ({"notificationTrigger": ["entityChanged"]}, "trigger"),
        ({"expiresAt": "2000-01-01T00:00:00Z"}, "future"),
        ({"expiresAt": "tomorrow"}, "DateTime"),
        ({"isActive": "yes"}, "true or false"),
        ({"q": "name==="}, "q"),
        ({"geoQ": {"georel": "near;maxDistance==10", "geometry": "Point"}}, "coordinates"),
        ({"scopeQ": "Madrid"}, "scopeQ"),
        ({"watchedAttributes": []}, "watchedAttributes"),
        ({"unknownMember": 1}, "Unknown"),
        ({"notification": {"endpoint": {"uri": "ftp://h/x"}}}, "http"),
        ({"notification": {"endpoint": {"uri": "mqtt://broker"}}}, "topic"),
        ({"notification": {"endpoint": {"uri": "http://h/x", "accept": "text/xml"}}}, "accept"),
        ({"notification": {"endpoint": ENDPOINT, "format": "simple"}}, "format"),
        ({"notification": {"format": "keyValues"}}, "endpoint"),
        (
            {"notification": {"endpoint": {**ENDPOINT, "receiverInfo": [{"key": "a"}]}}},
            "receiverInfo",
        ),
        (
            {
                "notification": {
                    "endpoint": {
                        "uri": "mqtt://h/t",
                        "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}],
                    }
                }
            },
            "MQTT-QoS",
        ),
    ],
)
async def test_invalid_members_are_bad_request_data(
    client: Client, members: dict[str, Any], why: str
) -> None:
    """Clauses 5.2.12, 5.8.1 and TP 028_05 / 5811_01_01: every member is checked."""
    r = await client.post(SUBS, json=sub(**members), headers=JSON)
    body = await problem(r, 400, "BadRequestData")
    assert why.lower() in body["detail"].lower(), body["detail"]


async def test_needs_entities_or_watched_attributes(client: Client) -> None:
    """Clause 5.2.12: entities and watchedAttributes cannot both be absent."""
    body = sub()
    del body["entities"]
    r = await client.post(SUBS, json=body, headers=JSON)
    await problem(r, 400, "BadRequestData")
    await create(client, {**body, "watchedAttributes": ["name"]})


async def test_inactive_is_paused(client: Client) -> None:
    """TP 5811_01_02 / 031_01: isActive false reads back as status "paused"."""
    await create(client, sub(isActive=False))
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    got = await r.json()
    assert got["isActive"] is False
    assert got["status"] == "paused"


async def test_unavailable_jsonld_context(client: Client) -> None:
    """TP 028_07: a jsonldContext that cannot be fetched is 503 LdContextNotAvailable."""
    r = await client.post(
        SUBS, json=sub(jsonldContext="http://127.0.0.1:9/none.jsonld"), headers=JSON
    )
    await problem(r, 503, "LdContextNotAvailable")
    r = await client.post(SUBS, json=sub(jsonldContext="not a url"), headers=JSON)
    await problem(r, 400, "BadRequestData")


async def test_query_pagination_and_count(client: Client) -> None:
    """TP 031_01 / 031_02: creation order, limit/offset, prev/next links, count."""
    for n in (1, 2, 3):
        await create(client, sub(n))
    r = await client.get(SUBS, params={"count": "true"})
    assert r.headers["NGSILD-Results-Count"] == "3"
    assert [s["id"][-1] for s in await r.json()] == ["1", "2", "3"]
    r = await client.get(
        SUBS, params={"limit": "1", "offset": "1"}, headers={"Accept": "application/ld+json"}
    )
    items = await r.json()
    assert [s["id"][-1] for s in items] == ["2"]
    assert items[0]["@context"] == CORE_URL
    links = sorted(r.headers.getall("Link"))
    assert links == [
        f'<{SUBS}?limit=1&offset=0>;rel="prev";type="application/ld+json"',
        f'<{SUBS}?limit=1&offset=2>;rel="next";type="application/ld+json"',
    ]
    r = await client.get(SUBS, params={"limit": "x"})
    await problem(r, 400, "BadRequestData")
    r = await client.get(SUBS, params={"colour": "red"})
    await problem(r, 400, "InvalidRequest")


async def test_retrieve_errors(client: Client) -> None:
    """TP 030_01 / 030_02: invalid id 400, unknown id 404."""
    r = await client.get(f"{SUBS}/not-a-uri")
    await problem(r, 400, "BadRequestData")
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:none")
    await problem(r, 404, "ResourceNotFound")


async def test_update_merges_members(client: Client) -> None:
    """Clause 5.8.2 / TP 029: members replaced, notification merged, null removes."""
    await create(client, sub(throttling=5, subscriptionName="one"))
    url = f"{SUBS}/urn:ngsi-ld:Subscription:1"
    fragment = {
        "type": "Subscription",
        "subscriptionName": None,
        "watchedAttributes": ["name"],
        "notification": {"format": "normalized", "attributes": ["name"]},
    }
    r = await client.patch(
        url, json=fragment, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status == 204, await r.text()
    got = await (await client.get(url)).json()
    assert "subscriptionName" not in got
    assert got["throttling"] == 5
    assert got["watchedAttributes"] == ["name"]
    assert got["notification"] == {
        "format": "normalized",
        "endpoint": ENDPOINT,
        "attributes": ["name"],
    }
    r = await client.patch(url, json={"isActive": False}, headers=JSON)
    assert r.status == 204
    assert (await (await client.get(url)).json())["status"] == "paused"


async def test_update_errors(client: Client) -> None:
    """TP 029_01-029_04: bad id, unknown id, invalid fragment, removing mandatory members."""
    await create(client, sub())
    url = f"{SUBS}/urn:ngsi-ld:Subscription:1"
    r = await client.patch(f"{SUBS}/", json={"throttling": 1}, headers=JSON)
    assert r.status == 405
    r = await client.patch(f"{SUBS}/InvalidUri", json={"throttling": 1}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.patch(
        f"{SUBS}/urn:ngsi-ld:Subscription:9", json={"throttling": 1}, headers=JSON
    )
    await problem(r, 404, "ResourceNotFound")
    r = await client.patch(url, json={"throttling": "fast"}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    r = await client.patch(
        url, json={"type": "Subscription", "notification": {"endpoint": None}}, headers=JSON
    )
    await problem(r, 400, "BadRequestData")
    r = await client.patch(url, json={"timeInterval": 3, "watchedAttributes": ["a"]}, headers=JSON)
    await problem(r, 400, "BadRequestData")
    assert "timeInterval" not in await (await client.get(url)).json()


async def test_delete(client: Client) -> None:
    """TP 032: 204, then 404; an invalid id is 400."""
    await create(client, sub())
    url = f"{SUBS}/urn:ngsi-ld:Subscription:1"
    r = await client.delete(url)
    assert r.status == 204
    r = await client.get(url)
    await problem(r, 404, "ResourceNotFound")
    r = await client.delete(url)
    await problem(r, 404, "ResourceNotFound")
    r = await client.delete(f"{SUBS}/not-a-uri")
    await problem(r, 400, "BadRequestData")


async def test_tenants_are_separate(client: Client) -> None:
    """Clause 4.14: subscriptions live in the tenant's database."""
    await create(client, sub(), {**JSON, "NGSILD-Tenant": "kyoto"})
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    await problem(r, 404, "ResourceNotFound")
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1", headers={"NGSILD-Tenant": "kyoto"})
    assert r.status == 200
    r = await client.get(SUBS, headers={"NGSILD-Tenant": "nowhere"})
    await problem(r, 404, "NonexistentTenant")


async def test_iri_names_are_kept(client: Client) -> None:
    """Clause 5.5.7: a name given as an IRI stays that IRI (no @context needed)."""
    r = await client.post(
        SUBS,
        json=sub(entities=[{"type": "https://example.org/Building"}]),
        headers=JSON,
    )
    assert r.status == 201
    r = await client.get(f"{SUBS}/urn:ngsi-ld:Subscription:1")
    assert (await r.json())["entities"] == [{"type": "https://example.org/Building"}]
