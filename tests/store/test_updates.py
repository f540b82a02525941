"""The one-round-trip updates give exactly what the pure operations compute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from broker.ngsild.context import CORE
from broker.ngsild.errors import BadRequestData, ResourceNotFound
from broker.ngsild.operations import partial_update_attr, update_attrs
from broker.ngsild.parse import parse_entity, parse_fragment
from broker.store import Store
from broker.store.updates import partial_update, replace_instances

T0 = "2026-01-01T00:00:00.000Z"
T1 = "2026-01-01T00:00:01.000Z"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


@pytest.fixture
async def store(mongo_uri: str, db_prefix: str) -> AsyncIterator[Store]:
    s = Store(AsyncMongoClient(mongo_uri), db_prefix)
    yield s
    await s.close()


def entity() -> dict[str, Any]:
    return parse_entity(
        {
            "id": "urn:a:1",
            "type": "T",
            "a": {"type": "Property", "value": 1, "unitCode": "C", "s": {"value": "x"}},
            "b": [{"value": 2}, {"value": 3, "datasetId": "urn:ds:1"}],
            "g": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        },
        CORE,
        T0,
    )


async def test_replace_instances_matches_the_pure_update(store: Store) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity())
    attrs = parse_fragment(
        {"a": {"value": "$where"}, "b": {"value": 30, "datasetId": "urn:ds:1"}, "n": 7},
        CORE,
        T1,
        partial=True,
    )
    fast = replace_instances(attrs, T1)
    assert fast is not None
    old, new, _ = await entities.modify_fast("urn:a:1", fast, lambda e: update_attrs(e, attrs, T1))
    assert old == entity()
    stored = await entities.get("urn:a:1")
    assert stored == new
    assert stored is not None
    assert stored["attrs"][D + "a"][0]["createdAt"] == T0  # kept
    assert stored["attrs"][D + "a"][0]["value"] == "$where"  # data, not an operator
    assert "unitCode" not in stored["attrs"][D + "a"][0]  # replaced whole
    assert [i["value"] for i in stored["attrs"][D + "b"]] == [2, 30]
    assert stored["attrs"][D + "n"][0]["createdAt"] == T1


async def test_partial_update_matches_the_pure_operation(store: Store) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity())
    patch = parse_fragment(
        {"a": {"value": 5, "observedAt": "2026-01-01T00:00:00Z"}}, CORE, T1, partial=True
    )[D + "a"]
    fast = partial_update(D + "a", patch[0], T1)
    assert fast is not None
    _, new, _ = await entities.modify_fast(
        "urn:a:1", fast, lambda e: (partial_update_attr(e, D + "a", "a", patch, T1), None)
    )
    assert await entities.get("urn:a:1") == new
    assert new["attrs"][D + "a"][0]["unitCode"] == "C"
    geo = parse_fragment(
        {"g": {"value": {"type": "Point", "coordinates": [3, 4]}}}, CORE, T1, partial=True
    )[D + "g"]
    fast = partial_update(D + "g", geo[0], T1)
    assert fast is not None
    _, new, _ = await entities.modify_fast(
        "urn:a:1", fast, lambda e: (partial_update_attr(e, D + "g", "g", geo, T1), None)
    )
    assert await entities.get("urn:a:1") == new


async def test_a_fast_update_that_does_not_match_gives_the_precise_error(store: Store) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity())
    wrong_kind = parse_fragment(
        {"a": {"type": "Relationship", "object": "urn:x:1"}}, CORE, T1, partial=True
    )[D + "a"]
    fast = partial_update(D + "a", wrong_kind[0], T1)
    assert fast is not None
    with pytest.raises(BadRequestData):
        await entities.modify_fast(
            "urn:a:1", fast, lambda e: (partial_update_attr(e, D + "a", "a", wrong_kind, T1), None)
        )
    missing = parse_fragment({"zz": {"value": 1}}, CORE, T1, partial=True)[D + "zz"]
    fast = partial_update(D + "zz", missing[0], T1)
    assert fast is not None
    with pytest.raises(ResourceNotFound):
        await entities.modify_fast(
            "urn:a:1", fast, lambda e: (partial_update_attr(e, D + "zz", "zz", missing, T1), None)
        )
    assert await entities.get("urn:a:1") == entity()
