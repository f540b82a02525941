"""Batch writes: one read, one bulk write, and every write still safe against races."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener, CommandStartedEvent

from broker.ngsild.context import CORE
from broker.ngsild.model import Entity
from broker.ngsild.operations import append_attrs
from broker.ngsild.parse import parse_entity, parse_fragment
from broker.store import Store
from broker.store.batch import BATCH_TOKEN, gc_paused, write_batch
from broker.store.documents import from_document, to_document
from broker.store.entities import EntityQuery, EntityStore

T0 = "2026-01-01T00:00:00.000Z"
T1 = "2026-01-01T00:00:01.000Z"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


class _Commands(CommandListener):
    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: Any) -> None:
        pass

    def failed(self, event: Any) -> None:
        pass


@pytest.fixture
def commands() -> _Commands:
    return _Commands()


@pytest.fixture
async def store(mongo_uri: str, db_prefix: str, commands: _Commands) -> AsyncIterator[Store]:
    s = Store(AsyncMongoClient(mongo_uri, event_listeners=[commands]), db_prefix)
    yield s
    await s.close()


def entity(n: int, **attrs: Any) -> Entity:
    return parse_entity({"id": f"urn:a:{n}", "type": "T", **attrs}, CORE, T0)


def appending(**attrs: Any) -> Any:
    parsed = parse_fragment(attrs, CORE, T1)

    def change(old: Entity | None) -> Entity | None:
        assert old is not None
        return append_attrs(old, parsed, T1)[0]

    return change


class _Racing:
    """The collection, with other writers getting in just before the bulk write (two
    writes: the race is found by revision, and one write would give the revision the
    batch expects)."""

    def __init__(self, collection: Any, entity_id: str) -> None:
        self._collection = collection
        self._entity_id = entity_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def bulk_write(self, ops: Any, ordered: bool) -> Any:
        await self._collection.update_one(
            {"_id": self._entity_id},
            {
                "$set": {"attrs.other": {"@none": {"type": "Property", "value": 0}}},
                "$inc": {"rev": 2},
            },
        )
        return await self._collection.bulk_write(ops, ordered=ordered)


async def test_writes_are_read_once_and_written_once(store: Store, commands: _Commands) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1))
    commands.names.clear()
    outcome = await write_batch(
        entities,
        [
            ("urn:a:1", appending(b=2)),
            ("urn:a:2", lambda old: entity(2, a=5)),
            ("urn:a:1", appending(c=3)),
        ],
    )
    assert outcome.created == ["urn:a:2"] and outcome.updated == ["urn:a:1"]
    assert not outcome.errors
    # Full counts from the bulk write: no read-back to look for lost races.
    assert commands.names == ["find", "insert", "update"]
    stored = await entities.get("urn:a:1")
    assert stored is not None
    assert sorted(stored["attrs"]) == [D + "a", D + "b", D + "c"]
    doc = await entities.collection.find_one({"_id": "urn:a:1"})
    assert doc is not None and doc["rev"] == 2
    assert len(doc.pop(BATCH_TOKEN)) == 32  # the batch's uuid4 hex (see write_batch)
    assert doc == to_document(stored, 2)  # attrNames and all


async def test_a_write_that_lost_a_race_is_redone_on_top_of_the_other(store: Store) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1))
    await entities.create(entity(2, a=1))
    entities.collection = _Racing(entities.collection, "urn:a:1")  # type: ignore[assignment]
    outcome = await write_batch(
        entities, [("urn:a:1", appending(b=2)), ("urn:a:2", appending(b=2))]
    )
    assert sorted(outcome.updated) == ["urn:a:1", "urn:a:2"] and not outcome.errors
    raced = await entities.collection.find_one({"_id": "urn:a:1"})
    assert raced is not None and raced["rev"] == 4  # the other writes, then ours again
    assert set(raced["attrs"]) == {
        "other",
        D.replace(".", "%2E") + "a",
        D.replace(".", "%2E") + "b",
    }
    calm = await entities.collection.find_one({"_id": "urn:a:2"})
    assert calm is not None and calm["rev"] == 2


class _SameRevision:
    """The collection, with another writer that read the same revision as the batch and
    wrote just before the bulk write: it leaves the very rev + 1 the batch expects, so
    only the batch's token tells whose write the document holds."""

    def __init__(self, collection: Any, write: Any) -> None:
        self._collection = collection
        self._write = write
        self.bulk_writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def bulk_write(self, ops: Any, ordered: bool) -> Any:
        self.bulk_writes += 1
        if self.bulk_writes == 1:
            await self._write(self._collection)
        return await self._collection.bulk_write(ops, ordered=ordered)


async def test_a_lost_race_is_found_even_when_the_other_writer_left_the_same_revision(
    store: Store,
) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1))
    await entities.create(entity(2, a=1))

    async def other(collection: Any) -> None:
        # Another guarded read-modify-write from rev 1, as entities.modify does it.
        doc = await collection.find_one({"_id": "urn:a:1"})
        old = from_document(doc)
        new = append_attrs(old, parse_fragment({"other": 0}, CORE, T1), T1)[0]
        result = await collection.replace_one({"_id": "urn:a:1", "rev": 1}, to_document(new, 2))
        assert result.matched_count == 1

    racing = _SameRevision(entities.collection, other)
    entities.collection = racing  # type: ignore[assignment]
    outcome = await write_batch(
        entities, [("urn:a:1", appending(b=2)), ("urn:a:2", appending(b=2))]
    )
    assert racing.bulk_writes == 1
    assert sorted(outcome.updated) == ["urn:a:1", "urn:a:2"] and not outcome.errors
    raced = await entities.get("urn:a:1")
    # Both writes are there: the other one, and the batch's, redone on top of it (before
    # the fix, the batch saw rev 2, took it for its own write, and lost b silently).
    assert raced is not None and sorted(raced["attrs"]) == [D + "a", D + "b", D + "other"]
    doc = await entities.collection.find_one({"_id": "urn:a:1"})
    assert doc is not None and doc["rev"] == 3
    # What the batch reported is what it wrote (the notifier is told that change).
    ((_, old, new),) = [c for c in outcome.changes if c[0] == "urn:a:1"]
    assert old is not None and sorted(old["attrs"]) == [D + "a", D + "other"]
    assert new == raced
    calm = await entities.collection.find_one({"_id": "urn:a:2"})
    assert calm is not None and calm["rev"] == 2


async def test_two_batches_from_the_same_revision_both_land(store: Store) -> None:
    """The same race between two batches: the second one's replacement misses, is found
    by its token, and is redone on top of the first one's."""
    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1))
    first = EntityStore(entities.db, set())  # the other batch's own view of the tenant

    async def other(collection: Any) -> None:
        outcome = await write_batch(first, [("urn:a:1", appending(c=3))])
        assert outcome.updated == ["urn:a:1"]

    entities.collection = _SameRevision(entities.collection, other)  # type: ignore[assignment]
    outcome = await write_batch(entities, [("urn:a:1", appending(b=2))])
    assert outcome.updated == ["urn:a:1"] and not outcome.errors
    stored = await first.get("urn:a:1")
    assert stored is not None and sorted(stored["attrs"]) == [D + "a", D + "b", D + "c"]


async def test_the_batch_token_stays_out_of_entities(store: Store) -> None:
    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1))
    await write_batch(entities, [("urn:a:1", appending(b=2))])
    doc = await entities.collection.find_one({"_id": "urn:a:1"})
    assert doc is not None and BATCH_TOKEN in doc
    stored = await entities.get("urn:a:1")
    assert stored is not None and BATCH_TOKEN not in stored
    assert stored == from_document(doc)
    found, _ = await entities.query(EntityQuery())
    assert found == [stored]


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the outer pause decides
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # the application's choice is kept
    finally:
        gc.enable()


async def test_geoproperties_written_in_a_batch_get_their_index(store: Store) -> None:
    entities = await store.entities(None, create=True)
    point = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}}
    outcome = await write_batch(
        entities,
        [
            ("urn:a:1", lambda old: entity(1, a=1)),
            ("urn:a:2", lambda old: entity(2, spot=point)),
        ],
    )
    assert outcome.created == ["urn:a:1", "urn:a:2"]
    keys = [list(index["key"]) async for index in await entities.collection.list_indexes()]
    assert [D.replace(".", "%2E").join(["attrs.", "spot.@none.geo"])] in keys


async def test_without_whole_documents_only_what_a_replacement_needs_is_read(
    store: Store,
) -> None:
    """whole=False (no subscription wants the entities as they were): the stored entities
    come without their attributes, and a replacement keeps createdAt as it must."""
    from broker.ngsild.operations import replace_entity

    entities = await store.entities(None, create=True)
    await entities.create(entity(1, a=1, b=2))
    seen: list[Entity | None] = []

    def replacing(old: Entity | None) -> Entity | None:
        seen.append(old)
        assert old is not None
        return replace_entity(
            old, parse_entity({"id": "urn:a:1", "type": "T", "c": 3}, CORE, T1), T1
        )

    outcome = await write_batch(entities, [("urn:a:1", replacing)], whole=False)
    assert outcome.updated == ["urn:a:1"] and not outcome.errors
    (old,) = seen
    assert old is not None and old["attrs"] == {} and old["createdAt"] == T0
    stored = await entities.get("urn:a:1")
    assert stored is not None
    assert sorted(stored["attrs"]) == [D + "c"]
    assert (stored["createdAt"], stored["modifiedAt"]) == (T0, T1)
    # And whole (the default) reads the attributes.
    seen.clear()
    await write_batch(entities, [("urn:a:1", replacing)])
    assert seen[0] is not None and sorted(seen[0]["attrs"]) == [D + "c"]
