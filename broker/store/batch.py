"""Batch writes (clause 5.6.7-5.6.10): many entities, one bulk_write, per-entity results.

Every entity of a batch goes through the same pure change function as its single-entity
counterpart: ``change(old or None) -> new entity, or None to delete``, raising an
NgsiError for that entity alone. The store reads all the batch's entities with one
query, applies the changes in memory (in batch order, so an id that appears twice sees
its own earlier change), and writes everything with one unordered ``bulk_write`` whose
every write is guarded by the revision it was computed from. Writes that lost a race
(another writer got in between) are redone one by one through the single-entity path,
so a batch is as safe as single requests, and one bad entity never blocks the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from ..ngsild.errors import AlreadyExists, NgsiError, ResourceNotFound
from ..ngsild.model import Entity
from .documents import from_document, to_document
from .entities import EntityStore

__all__ = ["BatchOutcome", "Change", "write_batch"]

#: old entity (None if it does not exist) -> new entity (None: delete it)
Change = Callable[[Entity | None], Entity | None]


@dataclass(slots=True)
class BatchOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[tuple[str, NgsiError]] = field(default_factory=list)
    #: (entity id, before, after) of every entity written, for the notifier.
    changes: list[tuple[str, Entity | None, Entity | None]] = field(default_factory=list)

    def succeeded(self) -> list[str]:
        return [*self.created, *self.updated, *self.deleted]


@dataclass(slots=True)
class _State:
    """An entity as the batch sees it: what the store had, and what it will have."""

    stored: Entity | None
    rev: int
    current: Entity | None
    touched: bool = False


async def _apply_one(
    store: EntityStore, entity_id: str, change: Change
) -> tuple[str, Entity | None, Entity | None]:
    """The single-entity path, for writes that lost a race in the bulk write."""
    for _ in range(10):
        doc = await store.collection.find_one({"_id": entity_id})
        old = None if doc is None else from_document(doc)
        new = change(old)
        if old is None:
            if new is None:
                raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
            try:
                await store.create(new)
            except AlreadyExists:
                continue
            return "created", None, new
        assert doc is not None
        rev = doc.get("rev", 0)
        if new is None:
            result = await store.collection.delete_one({"_id": entity_id, "rev": rev})
            if result.deleted_count:
                return "deleted", old, None
            continue
        replaced = await store.collection.replace_one(
            {"_id": entity_id, "rev": rev}, to_document(new, rev + 1)
        )
        if replaced.matched_count:
            return "updated", old, new
    raise NgsiError(f"Entity {entity_id!r} is being changed too often to update it now")


async def write_batch(store: EntityStore, items: Sequence[tuple[str, Change]]) -> BatchOutcome:
    outcome = BatchOutcome()
    ids = list(dict.fromkeys(entity_id for entity_id, _ in items))
    states: dict[str, _State] = {i: _State(None, 0, None) for i in ids}
    async for doc in store.collection.find({"_id": {"$in": ids}}):
        entity = from_document(doc)
        states[doc["_id"]] = _State(entity, doc.get("rev", 0), entity)
    changes: dict[str, list[Change]] = {}
    kinds: dict[str, str] = {}
    for entity_id, change in items:
        state = states[entity_id]
        try:
            new = change(state.current)
        except NgsiError as err:
            outcome.errors.append((entity_id, err))
            continue
        if state.current is None and new is None:
            outcome.errors.append(
                (entity_id, ResourceNotFound(f"Entity {entity_id!r} does not exist"))
            )
            continue
        kinds[entity_id] = (
            "deleted" if new is None else "created" if state.stored is None else "updated"
        )
        state.current = new
        state.touched = True
        changes.setdefault(entity_id, []).append(change)
    ops: list[Any] = []
    op_ids: list[str] = []
    for entity_id in ids:
        state = states[entity_id]
        if not state.touched:
            continue
        if state.current is None:
            if state.stored is None:
                continue  # created and deleted within the batch
            ops.append(DeleteOne({"_id": entity_id, "rev": state.rev}))
        elif state.stored is None:
            await store.index_geo(state.current)
            ops.append(InsertOne(to_document(state.current, 1)))
        else:
            await store.index_geo(state.current)
            ops.append(
                ReplaceOne(
                    {"_id": entity_id, "rev": state.rev},
                    to_document(state.current, state.rev + 1),
                )
            )
        op_ids.append(entity_id)
    lost: set[str] = set()
    if ops:
        try:
            await store.collection.bulk_write(ops, ordered=False)
        except BulkWriteError as err:
            for write_error in err.details.get("writeErrors", []):
                lost.add(op_ids[write_error["index"]])
        # Guarded writes that matched nothing lost a race: find them by their revision.
        expected = {
            i: (states[i].rev + 1 if states[i].stored is not None else 1)
            for i in op_ids
            if states[i].current is not None and i not in lost
        }
        if expected:
            found = {
                d["_id"]: d.get("rev", 0)
                async for d in store.collection.find({"_id": {"$in": list(expected)}}, {"rev": 1})
            }
            lost |= {i for i, rev in expected.items() if found.get(i) != rev}
        deletes = [i for i in op_ids if states[i].current is None and i not in lost]
        if deletes:
            async for d in store.collection.find({"_id": {"$in": deletes}}, {"_id": 1}):
                lost.add(d["_id"])
    for entity_id in ids:
        if entity_id not in kinds:
            continue
        if entity_id in lost:
            try:
                kind, old, new = await _redo(store, entity_id, changes[entity_id])
            except NgsiError as err:
                outcome.errors.append((entity_id, err))
                continue
        else:
            kind, old, new = kinds[entity_id], states[entity_id].stored, states[entity_id].current
        getattr(outcome, kind).append(entity_id)
        outcome.changes.append((entity_id, old, new))
    return outcome


async def _redo(
    store: EntityStore, entity_id: str, changes: list[Change]
) -> tuple[str, Entity | None, Entity | None]:
    def combined(old: Entity | None) -> Entity | None:
        for change in changes:
            old = change(old)
        return old

    return await _apply_one(store, entity_id, combined)
