"""Wrong JSON types anywhere in an attribute: always a ProblemDetails, never a 500.

A list or an object where a string is expected (an attribute's "type", a GeoJSON "type",
an objectType, ...) once raised a TypeError deep in parsing; and fragments of an update
or merge (sub-attributes without a value, NGSI-LD Null) once reached the store whole.
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import ENTITIES, ERR, JSON, problem

Client = Any
E = "urn:ngsi-ld:Vehicle:1"
URL = f"{ENTITIES}/{E}"
OPS = "/ngsi-ld/v1/entityOperations"
KINDS = (
    "GeoProperty, JsonProperty, LanguageProperty, ListProperty, ListRelationship, Property, "
    "Relationship, VocabProperty"
)


async def setup(client: Client) -> None:
    base = {"id": E, "type": "T", "a": {"type": "Property", "value": 0}}
    r = await client.post(ENTITIES, json=base, headers=JSON)
    assert r.status == 201, await r.text()


async def test_a_list_as_attribute_type_is_bad_request_data(client: Client) -> None:
    r = await client.post(
        ENTITIES, json={"id": E, "type": "T", "a": {"type": ["Property"], "value": 1}}, headers=JSON
    )
    body = await problem(r, 400, "BadRequestData")
    assert body["detail"] == (
        f"Attribute 'a': the attribute type must be a string, got ['Property'] (expected one "
        f"of {KINDS})"
    )


def _writes(x: Any) -> list[tuple[str, str, Any]]:
    """Every write that parses attributes, with x as attribute 'a'."""
    return [
        ("post", ENTITIES, {"id": "urn:b:1", "type": "T", "a": x}),
        ("post", ENTITIES, {"id": "urn:b:1", "type": "T", "location": x}),
        ("post", f"{URL}/attrs", {"a": x}),
        ("patch", f"{URL}/attrs", {"a": x}),
        ("patch", f"{URL}/attrs", {"new": x}),
        ("patch", f"{URL}/attrs/a", x),
        ("put", f"{URL}/attrs/a", x),
        ("put", URL, {"a": x}),
        ("patch", URL, {"a": x}),
        ("patch", URL, {"new": x}),
    ]


def _batches(x: Any) -> list[tuple[str, Any]]:
    return [
        ("create", [{"id": "urn:b:1", "type": "T", "a": x}]),
        ("upsert", [{"id": E, "type": "T", "a": x}]),
        ("upsert?options=update", [{"id": E, "type": "T", "a": x}]),
        ("update", [{"id": E, "a": x}]),
        ("merge", [{"id": E, "a": x}]),
        ("merge", [{"id": E, "new": x}]),
    ]


BAD_TYPES: list[Any] = [["Property"], {"a": 1}, [], 5]
BAD = [
    *({"type": t, "value": 1} for t in BAD_TYPES),
    *({"type": t, "object": "urn:x:1"} for t in BAD_TYPES),
    *({"type": t} for t in BAD_TYPES),
    *({"type": t, "coordinates": [1, 2]} for t in BAD_TYPES),
    *({"type": "GeoProperty", "value": {"type": t, "coordinates": [1, 2]}} for t in BAD_TYPES),
    *({"type": "Property", "value": 1, "s": {"type": t, "value": 1}} for t in BAD_TYPES),
    *([{"type": t, "value": 1}] for t in BAD_TYPES),
    {"type": "Relationship", "object": "urn:x:1", "objectType": {"$a": 1}},
    {"type": "Relationship", "object": "urn:x:1", "objectType": ["T", 1]},
    {"type": "Property", "value": 1, "datasetId": ["urn:d:1"]},
    {"type": "Property", "value": 1, "observedAt": {"a": 1}},
    {"type": "Property", "value": 1, "unitCode": ["C"]},
    {"type": "LanguageProperty", "languageMap": ["x"]},
    {"type": "VocabProperty", "vocab": {"a": 1}},
    {"type": "ListProperty", "valueList": {"a": 1}},
    {"type": "ListRelationship", "objectList": [{"object": ["urn:x:1"]}]},
]


@pytest.mark.parametrize("x", BAD)
async def test_wrong_json_types_are_refused_everywhere(client: Client, x: Any) -> None:
    await setup(client)
    for method, url, body in _writes(x):
        r = await getattr(client, method)(url, json=body, headers=JSON)
        await problem(r, 400, "BadRequestData")
    for op, items in _batches(x):
        r = await client.post(f"{OPS}/{op}", json=items, headers=JSON)
        assert r.status == 207, await r.text()
        (error,) = (await r.json())["errors"]
        assert error["error"]["type"] == ERR + "BadRequestData"
    r = await client.get(URL, params={"options": "keyValues"})
    assert await r.json() == {"id": E, "type": "T", "a": 0}


async def test_sub_attribute_fragments_in_a_whole_instance(client: Client) -> None:
    """Update Entity Attributes replaces instances whole, and a merge adds a new attribute
    whole: a sub-attribute there must be whole too (a fragment is refused), and NGSI-LD
    Null there removes nothing (it is dropped)."""
    await setup(client)
    fragment = {"type": "Property", "value": 1, "s": {"x": 1}}
    for method, url, body in [
        ("patch", f"{URL}/attrs", {"a": fragment}),
        ("patch", f"{URL}/attrs", {"type": "T", "a": fragment}),  # not the fast path
        ("patch", f"{URL}/attrs", {"new": fragment}),
        ("patch", f"{URL}/attrs", {"a": {"type": "Property", "value": 1, "s": {"x": None}}}),
        ("patch", URL, {"new": fragment}),
    ]:
        r = await getattr(client, method)(url, json=body, headers=JSON)
        body = await problem(r, 400, "BadRequestData")
        assert "needs a value" in body["detail"]
    r = await client.post(f"{OPS}/merge", json=[{"id": E, "new": fragment}], headers=JSON)
    assert r.status == 207 and "needs a value" in (await r.json())["errors"][0]["error"]["detail"]
    dropped = {"type": "Property", "value": 1, "s": None}
    r = await client.patch(f"{URL}/attrs", json={"a": dropped}, headers=JSON)
    assert r.status == 204, await r.text()
    r = await client.patch(URL, json={"new": dropped}, headers=JSON)
    assert r.status == 204, await r.text()
    r = await client.post(f"{OPS}/merge", json=[{"id": E, "other": dropped}], headers=JSON)
    assert r.status == 204, await r.text()
    r = await client.get(URL)
    assert await r.json() == {
        "id": E,
        "type": "T",
        "a": {"type": "Property", "value": 1},
        "new": {"type": "Property", "value": 1},
        "other": {"type": "Property", "value": 1},
    }
