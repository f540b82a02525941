"""A geometry MongoDB's 2dsphere index refuses (error 16755, "Can't extract geo keys": a
self-intersecting polygon, for instance) is the client's 400 BadRequestData, never a 500,
and nothing is written: on every write path, and per entity in a batch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError, OperationFailure, WriteError

from broker.ngsild.context import CORE
from broker.ngsild.errors import BadRequestData
from broker.ngsild.parse import parse_entity
from broker.store import Store
from broker.store.batch import write_batch
from broker.store.geo import CANNOT_INDEX_GEOMETRY, indexable

T0 = "2026-01-01T00:00:00.000Z"
MESSAGE = "Can't extract geo keys: Loop is not valid: Edges 0 and 2 cross"
REFUSAL = {"index": 0, "code": CANNOT_INDEX_GEOMETRY, "errmsg": MESSAGE}


@pytest.fixture
async def store(mongo_uri: str, db_prefix: str) -> AsyncIterator[Store]:
    s = Store(AsyncMongoClient(mongo_uri), db_prefix)
    yield s
    await s.close()


def entity(n: int) -> Any:
    return parse_entity({"id": f"urn:a:{n}", "type": "T", "a": n}, CORE, T0)


def test_the_refusal_becomes_a_400_and_other_errors_pass() -> None:
    for error in (
        WriteError(MESSAGE, CANNOT_INDEX_GEOMETRY, REFUSAL),
        OperationFailure(MESSAGE, CANNOT_INDEX_GEOMETRY, REFUSAL),
    ):
        refused = pytest.raises(BadRequestData, match=r"intersect itself.*Edges 0 and 2 cross")
        with refused, indexable():
            raise error
    with pytest.raises(WriteError), indexable():
        raise WriteError("E11000 duplicate key", 11000, {"code": 11000})


class _Refusing:
    """The entities collection, refusing the geometry of the entities named."""

    def __init__(self, collection: Any, refused: set[str]) -> None:
        self._collection = collection
        self._refused = refused

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def insert_one(self, doc: Any) -> Any:
        if doc["_id"] in self._refused:
            raise WriteError(MESSAGE, CANNOT_INDEX_GEOMETRY, REFUSAL)
        return await self._collection.insert_one(doc)

    async def bulk_write(self, ops: list[Any], ordered: bool) -> Any:
        errors, kept = [], []
        for i, op in enumerate(ops):
            if op._doc["_id"] in self._refused:
                errors.append({**REFUSAL, "index": i})
            else:
                kept.append(op)
        if kept:
            await self._collection.bulk_write(kept, ordered=ordered)
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": len(kept)})
        return None


async def test_create_refused_is_a_400_and_writes_nothing(store: Store) -> None:
    entities = await store.entities(None, create=True)
    entities.collection = _Refusing(entities.collection, {"urn:a:1"})  # type: ignore[assignment]
    with pytest.raises(BadRequestData, match="MongoDB says"):
        await entities.create(entity(1))
    assert await entities.get("urn:a:1") is None


async def test_a_refused_entity_fails_alone_in_a_batch(store: Store) -> None:
    entities = await store.entities(None, create=True)
    entities.collection = _Refusing(entities.collection, {"urn:a:2"})  # type: ignore[assignment]
    outcome = await write_batch(
        entities, [("urn:a:1", lambda old: entity(1)), ("urn:a:2", lambda old: entity(2))]
    )
    assert outcome.created == ["urn:a:1"]
    ((failed, error),) = outcome.errors
    assert failed == "urn:a:2" and isinstance(error, BadRequestData)
    assert await entities.get("urn:a:2") is None


async def test_a_self_intersecting_polygon_on_mongodb(store: Store, uses_devstore: bool) -> None:
    """Against a real MongoDB (the dev store indexes no geometry): a bow-tie polygon."""
    if uses_devstore:
        pytest.skip("the dev store has no 2dsphere index to refuse a geometry: MongoDB only")
    entities = await store.entities(None, create=True)
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[135.0, 34.0], [135.1, 34.1], [135.1, 34.0], [135.0, 34.1], [135.0, 34.0]]
        ],
    }
    bad = parse_entity(
        {"id": "urn:a:9", "type": "T", "location": {"type": "GeoProperty", "value": bowtie}},
        CORE,
        T0,
    )
    with pytest.raises(BadRequestData):
        await entities.create(bad)
