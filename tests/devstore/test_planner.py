"""Index use (broker.devstore._planner): the same answers as mongomock's scan and sort,
read from a declared index in ``_id`` order, kept right across writes, and explained.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bson
import pytest

from broker.devstore._commands import Commands
from broker.devstore._engine import Engine, _collection_module
from broker.devstore._planner import equality_values

TYPES: list[Any] = [["A"], ["B", "A"], ["C"], "A", ["A", "A"], None, 5, [["A"]], ["B"]]
DOCS: list[dict[str, Any]] = [
    {"_id": f"urn:x:{(i * 37) % 61:03d}", "type": TYPES[i % len(TYPES)], "v": i % 7}
    for i in range(60)
]
DOCS.append({"_id": "urn:x:notype", "v": 1})

FILTERS: list[dict[str, Any]] = [
    {"type": "A"},
    {"type": {"$eq": "B"}},
    {"type": {"$in": ["B", "C"]}},
    {"type": {"$in": ["A", "B", "A"]}},
    {"type": {"$all": ["B", "A"]}},
    {"type": "nothing"},
    {"$and": [{"type": "A"}, {"v": {"$lt": 4}}]},
    {"$and": [{"v": {"$gte": 2}}, {"$and": [{"type": "C"}]}]},
    {"type": "A", "v": {"$in": [1, 2]}},
    {"$and": [{"type": "A"}, {"$or": [{"v": 1}, {"v": 6}]}]},
    {"$and": [{"type": "A"}, {"_id": {"$in": ["urn:x:001", "urn:x:037", "urn:x:999"]}}]},
]


@pytest.fixture
def engine() -> Engine:
    engine = Engine()
    engine.create_index("db", "c", {"key": {"type": 1, "_id": 1}, "name": "type_id"})
    for doc in DOCS:
        engine.insert("db", "c", dict(doc))
    return engine


def _scanned(engine: Engine, flt: dict[str, Any], direction: int) -> list[Any]:
    """mongomock's own answer: a plain collection over the same store."""
    plain = _collection_module.Collection(
        engine._database("db"), "c", _db_store=engine._database("db")._store
    )
    return [d["_id"] for d in plain.find(flt, sort=[("_id", direction)])]


@pytest.fixture
def index_reads(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Records the filters read through an index."""
    reads: list[Any] = []
    collection = engine._collection("db", "c")
    original = collection._read_index

    def read(planned: Any, spec: Any, direction: int) -> Any:
        reads.append(spec)
        return original(planned, spec, direction)

    monkeypatch.setattr(collection, "_read_index", read)
    yield reads


@pytest.mark.parametrize("direction", [1, -1])
@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_same_answer_as_a_scan_and_sort(
    engine: Engine, index_reads: list[Any], flt: dict[str, Any], direction: int
) -> None:
    found = [d["_id"] for d in engine.find("db", "c", flt, {"_id": direction})]
    assert found == _scanned(engine, flt, direction)
    assert index_reads == [flt]


@pytest.mark.parametrize("flt", FILTERS, ids=repr)
def test_counts_read_the_index(engine: Engine, index_reads: list[Any], flt: dict[str, Any]) -> None:
    assert engine.count("db", "c", flt) == len(_scanned(engine, flt, 1))
    assert index_reads == [flt]


def test_only_the_requested_documents_are_checked(engine: Engine) -> None:
    """With a limit, the read stops: the rest of the index is never looked at."""
    checked: list[Any] = []
    collection = engine._collection("db", "c")
    documents = collection._store._documents

    class Counting(dict[Any, Any]):
        def get(self, key: Any, default: Any = None) -> Any:
            checked.append(key)
            return super().get(key, default)

    collection._store._documents = Counting(documents)
    cursor = engine.find("db", "c", {"type": "A"}, {"_id": 1})
    taken = [next(cursor)["_id"], next(cursor)["_id"]]
    assert taken == _scanned(engine, {"type": "A"}, 1)[:2]
    assert len(checked) == 2


@pytest.mark.parametrize(
    "flt, sort",
    [
        ({"type": "A"}, {"v": 1}),  # the index does not give this order
        ({"type": "A"}, None),  # unsorted: mongomock's natural order, as before
        ({"v": 1}, {"_id": 1}),  # nothing pins the indexed field
        ({"type": {"$ne": "A"}}, {"_id": 1}),
        ({"type": {"$in": ["A", 1]}}, {"_id": 1}),  # not all strings
        ({"$or": [{"type": "A"}, {"v": 1}]}, {"_id": 1}),
        ({"_id": "urn:x:001", "type": "A"}, {"_id": 1}),  # the _id path instead
    ],
)
def test_other_shapes_are_scanned(
    engine: Engine, index_reads: list[Any], flt: dict[str, Any], sort: dict[str, Any] | None
) -> None:
    found = [d["_id"] for d in engine.find("db", "c", flt, sort)]
    plain = _collection_module.Collection(
        engine._database("db"), "c", _db_store=engine._database("db")._store
    )
    assert found == [d["_id"] for d in plain.find(flt, sort=list(sort.items()) if sort else None)]
    assert index_reads == []


def test_without_a_declared_index_nothing_is_indexed() -> None:
    engine = Engine()
    for doc in DOCS:
        engine.insert("db", "c", dict(doc))
    assert engine.explain("db", "c", {"type": "A"}, {"_id": 1})["stage"] == "SORT"
    assert [d["_id"] for d in engine.find("db", "c", {"type": "A"}, {"_id": 1})] == _scanned(
        engine, {"type": "A"}, 1
    )


@pytest.mark.parametrize(
    "key", [{"type": 1}, {"type": 1, "v": 1}, {"type": 1, "_id": 1, "v": 1}, {"type": "hashed"}]
)
def test_only_indexes_on_a_field_and_id_are_read(key: dict[str, Any]) -> None:
    """Their entries for one value are in _id order, as a view holds them; other indexes
    would need a sort stage, which the dev store does not model."""
    engine = Engine()
    engine.create_index("db", "c", {"key": key, "name": "other"})
    for doc in DOCS:
        engine.insert("db", "c", dict(doc))
    assert engine.explain("db", "c", {"type": "A"}, {"_id": 1})["stage"] == "SORT"
    assert engine.explain("db", "c", {"type": "A"}, None, count=True)["stage"] == "COLLSCAN"


def test_an_index_on_id_descending_runs_the_other_way() -> None:
    engine = Engine()
    engine.create_index("db", "c", {"key": {"type": 1, "_id": -1}, "name": "type_id_down"})
    for doc in DOCS:
        engine.insert("db", "c", dict(doc))
    plan = engine.explain("db", "c", {"type": "A"}, {"_id": 1})
    assert plan["inputStage"]["indexName"] == "type_id_down"
    assert plan["inputStage"]["direction"] == "backward"
    found = [d["_id"] for d in engine.find("db", "c", {"type": "A"}, {"_id": 1})]
    assert found == _scanned(engine, {"type": "A"}, 1)


def test_an_id_that_is_not_a_string_means_a_scan(engine: Engine, index_reads: list[Any]) -> None:
    engine.insert("db", "c", {"_id": 7, "type": "A"})
    found = [d["_id"] for d in engine.find("db", "c", {"type": "A"}, {"_id": 1})]
    assert found == _scanned(engine, {"type": "A"}, 1)
    assert found[0] == 7  # numbers before strings, in BSON's order
    assert index_reads == []


def test_writes_are_seen(engine: Engine) -> None:
    """Every kind of write makes the next read rebuild what it reads from."""

    def ids() -> list[Any]:
        return [d["_id"] for d in engine.find("db", "c", {"type": "Z"}, {"_id": 1})]

    assert ids() == []
    engine.insert("db", "c", {"_id": "urn:x:z1", "type": ["Z"]})
    assert ids() == ["urn:x:z1"]
    engine.update("db", "c", {"_id": "urn:x:001"}, {"$set": {"type": ["Z", "A"]}})
    assert ids() == ["urn:x:001", "urn:x:z1"]
    engine.update("db", "c", {"_id": "urn:x:z1"}, {"_id": "urn:x:z1", "type": "Y"})  # replace
    assert ids() == ["urn:x:001"]
    engine.update("db", "c", {"v": 3}, {"$set": {"type": "Z"}}, multi=True)
    assert ids() == _scanned(engine, {"type": "Z"}, 1)
    assert len(ids()) > 2
    engine.delete("db", "c", {"type": "Z"}, multi=True)
    assert ids() == []
    engine.update("db", "c", {"_id": "urn:x:z2"}, {"$set": {"type": "Z"}}, upsert=True)
    assert ids() == ["urn:x:z2"]
    engine.drop_collection("db", "c")
    engine.create_index("db", "c", {"key": {"type": 1, "_id": 1}, "name": "type_id"})
    assert ids() == []


def test_reads_do_not_make_the_views_stale(engine: Engine) -> None:
    """A count is an aggregation: only those that write ($out, $merge) are writes."""
    clock = engine._clock
    engine.count("db", "c", {"type": "A"})
    pipeline: list[Any] = [{"$match": {"type": "A"}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
    before = clock.writes
    (counted,) = engine.aggregate("db", "c", pipeline)
    assert counted["n"] == engine.count("db", "c", {"type": "A"})
    list(engine.find("db", "c", {"type": "A"}, {"_id": 1}))
    assert clock.writes == before
    list(engine.aggregate("db", "c", [{"$match": {"type": "C"}}, {"$out": "copy"}]))
    assert clock.writes == before + 1
    assert [d["_id"] for d in engine.find("db", "copy", {}, {"_id": 1})] == _scanned(
        engine, {"type": "C"}, 1
    )


def test_a_near_query_is_left_to_mongomock(engine: Engine) -> None:
    near = {"type": "A", "loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}
    plan = engine.explain("db", "c", near, {"_id": 1})
    assert plan["inputStage"]["stage"] == "COLLSCAN"


def test_equality_values() -> None:
    assert equality_values({"type": "A"}, "type") == ["A"]
    assert equality_values({"type": {"$in": ["A", "B", "A"]}}, "type") == ["A", "B"]
    assert equality_values({"type": {"$all": ["A", "B"]}}, "type") == ["A"]
    assert equality_values({"$and": [{"x": 1}, {"type": {"$eq": "B"}}]}, "type") == ["B"]
    for undecided in (
        {"type": {"$in": []}},
        {"type": {"$gt": "A"}},
        {"type": {"$eq": "A", "$ne": "B"}},
        {"type": 1},
        {"$or": [{"type": "A"}]},
        {"$and": "type"},
    ):
        assert equality_values(undecided, "type") is None


def _explain(commands: Commands, inner: dict[str, Any]) -> dict[str, Any]:
    reply = bson.decode(bson.encode(commands.run("db", {"explain": inner}, 1)))
    assert reply["ok"] == 1.0, reply
    plan: dict[str, Any] = reply["queryPlanner"]["winningPlan"]
    return plan


def test_explain_says_how_a_query_is_read(engine: Engine) -> None:
    commands = Commands(engine)
    indexed = _explain(
        commands, {"find": "c", "filter": {"$and": [{"type": "A"}, {"v": 1}]}, "sort": {"_id": 1}}
    )
    assert indexed == {
        "stage": "FETCH",
        "inputStage": {
            "stage": "IXSCAN",
            "keyPattern": {"type": 1, "_id": 1},
            "indexName": "type_id",
            "direction": "forward",
        },
    }
    backward = _explain(commands, {"find": "c", "filter": {"type": "A"}, "sort": {"_id": -1}})
    assert backward["inputStage"]["direction"] == "backward"
    merged = _explain(
        commands, {"find": "c", "filter": {"type": {"$in": ["A", "B"]}}, "sort": {"_id": 1}}
    )
    assert merged["inputStage"]["stage"] == "SORT_MERGE"
    scanned = _explain(commands, {"find": "c", "filter": {"v": 1}, "sort": {"_id": 1}})
    assert scanned == {
        "stage": "SORT",
        "sortPattern": {"_id": 1},
        "inputStage": {"stage": "COLLSCAN", "direction": "forward"},
    }
    assert _explain(commands, {"find": "c", "filter": {"_id": "urn:x:001"}}) == {"stage": "IDHACK"}
    counted = _explain(commands, {"count": "c", "query": {"type": "C"}})
    assert counted["stage"] == "COUNT"
    assert counted["inputStage"]["inputStage"]["indexName"] == "type_id"


def test_explain_refuses_what_it_cannot_describe(engine: Engine) -> None:
    commands = Commands(engine)
    reply = commands.run("db", {"explain": {"aggregate": "c", "pipeline": []}}, 1)
    assert reply["ok"] == 0.0
    assert "not supported" in reply["errmsg"]
    reply = commands.run("db", {"explain": 1}, 1)
    assert reply["ok"] == 0.0
    # A malformed filter is refused, as find refuses it.
    explained = commands.run("db", {"explain": {"find": "c", "filter": {"$and": 3}}}, 1)
    found = commands.run("db", {"find": "c", "filter": {"$and": 3}}, 1)
    assert explained["ok"] == found["ok"] == 0.0
    assert explained["code"] == found["code"]
