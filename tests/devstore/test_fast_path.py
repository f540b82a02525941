"""The ``_id`` fast path: same answers as mongomock's scan, without the scan.

The broker reads and writes entities by ``_id`` (plus ``rev`` for optimistic
concurrency); mongomock alone would scan the whole collection for each of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import bson
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, ReturnDocument

from broker.devstore import serve
from broker.devstore._commands import Commands
from broker.devstore._engine import Engine, _collection_module

OID = ObjectId()
DOCS: list[dict[str, Any]] = [
    {"_id": "urn:ngsi-ld:X:1", "rev": 1, "type": "X"},
    {"_id": "urn:ngsi-ld:X:2", "rev": 4, "type": "Y"},
    {"_id": 1, "rev": 1},
    {"_id": 2.0, "rev": 2},
    {"_id": "1", "rev": 5},
    {"_id": OID, "rev": 6},
    {"_id": {"a": 1}, "rev": 7},
    {"_id": "urn:ngsi-ld:X:7", "rev": 8, "type": ["X", "Z"], "name": None},
    {"_id": "urn:ngsi-ld:X:8", "rev": 9, "type": "W", "name": "a"},
]

FILTERS: list[dict[str, Any]] = [
    {"_id": "urn:ngsi-ld:X:1"},
    {"_id": "urn:ngsi-ld:X:1", "rev": 1},
    {"_id": "urn:ngsi-ld:X:1", "rev": 2},
    {"_id": "urn:ngsi-ld:X:9"},
    {"_id": 1},
    {"_id": 2},
    {"_id": "1"},
    {"_id": OID},
    {"_id": ObjectId()},
    {"_id": True},
    {"_id": 2.0},
    {"_id": {"a": 1}},
    {"_id": {"$eq": "urn:ngsi-ld:X:2"}},
    {"_id": {"$in": ["urn:ngsi-ld:X:2", "urn:ngsi-ld:X:1", "nope", "urn:ngsi-ld:X:2"]}},
    {"_id": {"$in": [1, "1", True]}},
    {"_id": {"$gt": "urn"}},
    {"_id": {"$regex": "^urn:"}, "type": "X"},
    {"_id": "urn:ngsi-ld:X:2", "$or": [{"type": "X"}, {"rev": {"$gt": 3}}]},
    # Simple filters (broker.devstore._simple): strings compared with top-level fields.
    {"type": "X"},
    {"type": {"$ne": "X"}},
    {"type": {"$in": ["X", "Y"]}, "name": {"$nin": ["a"]}},
    {"type": {"$gte": "W", "$lt": "Y"}},
    {"missing": {"$ne": "X"}},
    {"$and": [{"type": "X"}, {"rev": {"$lt": 5}}]},
    {"rev": {"$gte": 2}, "type": {"$exists": True}},
    {"$or": [{"rev": 1}, {"name": "a"}]},
]


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    for doc in DOCS:
        engine.insert("db", "c", dict(doc))
    return engine


@pytest.fixture
def no_scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Make any full collection scan fail; yields the filters that tried one."""
    scans: list[Any] = []

    def scan(self: Any, flt: Any) -> Any:
        scans.append(flt)
        raise AssertionError(f"collection scan for {flt!r}")

    monkeypatch.setattr(_collection_module.Collection, "_iter_documents", scan)
    yield scans


def _key(doc: dict[str, Any]) -> str:
    return repr(sorted(doc.items()))


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_same_matches_as_a_full_scan(engine: Engine, flt: dict[str, Any]) -> None:
    fast = sorted(map(_key, engine.find("db", "c", flt)))
    plain = _collection_module.Collection(
        engine._database("db"), "c", _db_store=engine._database("db")._store
    )
    assert plain._store is engine._collection("db", "c")._store
    scanned = sorted(map(_key, plain.find(flt)))
    assert fast == scanned


def test_id_operations_do_not_scan(engine: Engine, no_scans: list[Any]) -> None:
    commands = Commands(engine)

    def run(**command: Any) -> dict[str, Any]:
        reply = bson.decode(bson.encode(commands.run("db", command, 1)))  # as a client sees it
        assert reply["ok"] == 1.0, reply
        return reply

    found = run(find="c", filter={"_id": "urn:ngsi-ld:X:1"}, limit=1, singleBatch=True)
    assert [doc["rev"] for doc in found["cursor"]["firstBatch"]] == [1]
    replaced = run(
        update="c",
        updates=[{"q": {"_id": "urn:ngsi-ld:X:1", "rev": 1}, "u": {"rev": 2, "type": "X"}}],
    )
    assert (replaced["n"], replaced["nModified"]) == (1, 1)
    stale = run(update="c", updates=[{"q": {"_id": "urn:ngsi-ld:X:1", "rev": 1}, "u": {"rev": 3}}])
    assert stale["n"] == 0
    run(update="c", updates=[{"q": {"_id": "urn:ngsi-ld:X:2"}, "u": {"$set": {"seen": 1}}}])
    upserted = run(
        update="c",
        updates=[{"q": {"_id": "urn:ngsi-ld:X:3"}, "u": {"$set": {"rev": 1}}, "upsert": True}],
    )
    assert upserted["upserted"] == [{"index": 0, "_id": "urn:ngsi-ld:X:3"}]
    modified = run(
        findAndModify="c", query={"_id": "urn:ngsi-ld:X:3"}, update={"$inc": {"rev": 1}}, new=True
    )
    assert modified["value"] == {"_id": "urn:ngsi-ld:X:3", "rev": 2}
    assert run(count="c", query={"_id": "urn:ngsi-ld:X:2", "seen": 1})["n"] == 1
    many = run(find="c", filter={"_id": {"$in": ["urn:ngsi-ld:X:1", "urn:ngsi-ld:X:3"]}})
    assert len(many["cursor"]["firstBatch"]) == 2
    pipeline = [{"$match": {"_id": "urn:ngsi-ld:X:2"}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
    aggregated = run(aggregate="c", pipeline=pipeline, cursor={})
    assert aggregated["cursor"]["firstBatch"] == [{"_id": None, "n": 1}]
    deleted = run(delete="c", deletes=[{"q": {"_id": "urn:ngsi-ld:X:3"}, "limit": 1}])
    assert deleted["n"] == 1
    removed = run(findAndModify="c", query={"_id": "urn:ngsi-ld:X:2"}, remove=True)
    assert removed["value"]["_id"] == "urn:ngsi-ld:X:2"
    assert no_scans == []

    # The guard works: any other filter does scan.
    other = {"type": {"$exists": True}}
    reply = commands.run("db", {"find": "c", "filter": other}, 1)
    assert reply["ok"] == 0.0
    assert no_scans == [other]


async def _time_per_op(client: AsyncMongoClient[dict[str, Any]], name: str, count: int) -> float:
    collection = client["fast"][name]
    ids = [f"urn:ngsi-ld:X:{i}" for i in range(0, count, max(1, count // 200))][:200]
    start = time.perf_counter()
    for entity_id in ids:
        doc = await collection.find_one({"_id": entity_id})
        assert doc is not None
        result = await collection.replace_one(
            {"_id": entity_id, "rev": doc["rev"]}, {**doc, "rev": doc["rev"] + 1}
        )
        assert result.modified_count == 1
        await collection.find_one_and_update(
            {"_id": entity_id}, {"$set": {"seen": True}}, return_document=ReturnDocument.AFTER
        )
    return (time.perf_counter() - start) / len(ids)


async def test_id_operations_do_not_slow_down_with_collection_size() -> None:
    server = await serve()
    try:
        engine = server.commands.engine
        for name, count in (("small", 1_000), ("large", 100_000)):
            for i in range(count):
                engine.insert("fast", name, {"_id": f"urn:ngsi-ld:X:{i}", "rev": 1, "type": "X"})
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri)
        try:
            await _time_per_op(client, "small", 1_000)  # warm up
            small = await _time_per_op(client, "small", 1_000)
            large = await _time_per_op(client, "large", 100_000)
        finally:
            await client.close()
    finally:
        await server.close()
    # A scan of 100,000 documents takes ~100 ms; three operations by _id take well under
    # that. Without the fast path "large" would be ~100 times slower than "small".
    print(f"3 ops by _id: {small * 1e3:.2f} ms with 1,000 docs, {large * 1e3:.2f} ms with 100,000")
    assert large < 3 * small + 0.002


COUNT_PIPELINES: list[list[dict[str, Any]]] = [
    [{"$match": {"rev": {"$gte": 1}}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}],
    [{"$match": {}}, {"$skip": 2}, {"$limit": 3}, {"$group": {"_id": 1, "n": {"$sum": 1}}}],
    [{"$match": {"rev": {"$lt": 4}}}, {"$group": {"_id": None, "count": {"$sum": 1}}}],
    [{"$match": {"rev": 99}}, {"$group": {"_id": 1, "count": {"$sum": 1}}}],
    [{"$skip": 10}, {"$group": {"_id": "all", "n": {"$sum": 1}}}],
    [{"$limit": 2}, {"$skip": 1}, {"$group": {"_id": 1, "n": {"$sum": 1}}}],
    [{"$match": {"rev": {"$gt": 1}}}, {"$group": {"_id": 1, "n": {"$sum": 2}}}],
    [{"$group": {"_id": "$rev", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}],
]


@pytest.mark.parametrize("pipeline", COUNT_PIPELINES, ids=repr)
def test_counting_pipelines_agree_with_mongomock(
    engine: Engine, pipeline: list[dict[str, Any]]
) -> None:
    plain = _collection_module.Collection(
        engine._database("db"), "c", _db_store=engine._database("db")._store
    )
    assert list(engine.aggregate("db", "c", pipeline)) == list(plain.aggregate(pipeline))


def test_counting_nothing_gives_no_document(engine: Engine) -> None:
    # As in MongoDB, where $group emits nothing for an empty input (mongomock emits a 0).
    pipeline = [{"$match": {"rev": 99}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
    assert list(engine.aggregate("db", "c", pipeline)) == []


SORTABLE: list[dict[str, Any]] = [
    {"_id": f"urn:x:{n}", "s": f"v{n % 7}", "n": (n * 37) % 11 + (0.5 if n % 3 else 0)}
    for n in range(40)
] + [{"_id": "urn:y:1", "s": "é"}, {"_id": "urn:y:2", "s": "A", "n": -1}]


@pytest.mark.parametrize(
    "sort",
    [{"_id": 1}, {"_id": -1}, {"s": 1}, {"s": -1}, {"n": 1}, {"n": -1}, {"s": 1, "_id": 1}],
    ids=repr,
)
@pytest.mark.parametrize("flt", [{}, {"s": {"$ne": "v3"}}, {"n": {"$gt": 2}}], ids=repr)
def test_sorted_as_mongomock_sorts(sort: dict[str, int], flt: dict[str, Any]) -> None:
    """A one-field sort on strings or numbers is Python's sort (missing values and mixed
    types go to mongomock's): the same order, ties kept in stored order."""
    engine = Engine()
    for doc in SORTABLE:
        engine.insert("db", "s", dict(doc))
    fast = [d["_id"] for d in engine.find("db", "s", flt, sort=sort)]
    plain = _collection_module.Collection(
        engine._database("db"), "s", _db_store=engine._database("db")._store
    )
    expected = [d["_id"] for d in plain.find(flt, sort=list(sort.items()))]
    assert fast == expected
