"""Batch writes (clause 5.6.7-5.6.10): many entities, one bulk_write, per-entity results.

Every entity of a batch goes through the same pure change function as its single-entity
counterpart: ``change(old or None) -> new entity, or None to delete``, raising an
NgsiError for that entity alone. The store reads all the batch's entities with one
query, applies the changes in memory (in batch order, so an id that appears twice sees
its own earlier change), and writes everything with one unordered ``bulk_write`` whose
every write is guarded by the revision it was computed from. Writes that lost a race
(another writer got in between) are redone one by one through the single-entity path,
so a batch is as safe as single requests, and one bad entity never blocks the others.

Which guarded replacements applied is not told by the bulk write's counts, only how
many; nor by the revisions read back (another writer that started from the same
revision leaves the same rev + 1). So each replacement also writes the batch's own
token (BATCH_TOKEN, a fresh uuid4 per batch) into the document, and the read-back asks
which of them carry it. An insert either applied or is a write error (a duplicate id).
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError

from ..ngsild.errors import AlreadyExists, NgsiError, ResourceNotFound
from ..ngsild.model import Entity
from .documents import from_document, from_owned_document, to_document
from .entities import EntityStore
from .geo import CANNOT_INDEX_GEOMETRY, geo_attribute_names, geometry_refused, indexable

__all__ = ["BATCH_TOKEN", "BatchOutcome", "Change", "gc_paused", "write_batch"]

#: The document field that tells which batch last replaced the document (see above).
#: from_document ignores it; nothing reads it but write_batch.
BATCH_TOKEN = "batchToken"

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
        with indexable():
            replaced = await store.collection.replace_one(
                {"_id": entity_id, "rev": rev}, to_document(new, rev + 1)
            )
        if replaced.matched_count:
            return "updated", old, new
    raise NgsiError(f"Entity {entity_id!r} is being changed too often to update it now")


async def write_batch(
    store: EntityStore, items: Sequence[tuple[str, Change]], *, whole: bool = True
) -> BatchOutcome:
    """whole=False: the changes, and whoever reads the outcome's changes, need only the
    stored entities' id, types, times and scope; their attributes are not read (they are
    the most of a document to transfer and decode)."""
    outcome = BatchOutcome()
    token = uuid.uuid4().hex
    ids = list(dict.fromkeys(entity_id for entity_id, _ in items))
    stored = await _find_raw(store, ids, whole)
    changes: dict[str, list[Change]] = {}
    kinds: dict[str, str] = {}
    # One synchronous burst (see gc_paused): decode, apply, encode.
    with gc_paused():
        states = _states(ids, stored, store.collection.codec_options)
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
        geo = [
            state.current
            for state in states.values()
            if state.touched and state.current is not None and geo_attribute_names(state.current)
        ]
    for entity in geo:
        await store.index_geo(entity)
    with gc_paused():
        ops, op_ids = _operations(ids, states, token)
    lost: set[str] = set()
    refused: dict[str, NgsiError] = {}
    if ops and not await _all_applied(store, ops, op_ids, lost, refused):
        # Guarded writes that matched nothing lost a race. A replacement that applied
        # left this batch's token (its revision would not tell: see the module's doc).
        replaced = [
            i
            for i, op in zip(op_ids, ops, strict=True)
            if type(op) is ReplaceOne and i not in lost and i not in refused
        ]
        if replaced:
            mine = {
                d["_id"]
                async for d in store.collection.find(
                    {"_id": {"$in": replaced}, BATCH_TOKEN: token}, {"_id": 1}
                )
            }
            lost.update(i for i in replaced if i not in mine)
        deletes = [
            i for i in op_ids if states[i].current is None and i not in lost and i not in refused
        ]
        if deletes:
            async for d in store.collection.find({"_id": {"$in": deletes}}, {"_id": 1}):
                lost.add(d["_id"])
    for entity_id in ids:
        if entity_id not in kinds:
            continue
        if entity_id in refused:
            outcome.errors.append((entity_id, refused[entity_id]))
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


async def _find_raw(store: EntityStore, ids: list[str], whole: bool) -> list[RawBSONDocument]:
    """The stored documents of a batch, undecoded: decoding them is a burst of thousands
    of dicts, which _states does with the garbage collector paused."""
    options = store.collection.codec_options.with_options(document_class=RawBSONDocument)
    raw = store.collection.with_options(codec_options=options)
    # attrNames is for queries and rebuilt on write.
    projection = {"attrNames": 0} if whole else {"attrNames": 0, "attrs": 0}
    found = raw.find({"_id": {"$in": ids}}, projection)
    return cast(list[RawBSONDocument], await found.to_list())


def _states(
    ids: list[str], found: list[RawBSONDocument], options: CodecOptions[dict[str, Any]]
) -> dict[str, _State]:
    """Each id's state, decoded exactly as the driver would have (same codec options)."""
    states = {i: _State(None, 0, None) for i in ids}
    for data in found:
        doc = bson.decode(data.raw, options)
        entity_id, rev = doc["_id"], doc.get("rev", 0)
        entity = from_owned_document(doc)  # the decoded document is ours alone
        states[entity_id] = _State(entity, rev, entity)
    return states


def _operations(
    ids: list[str], states: dict[str, _State], token: str
) -> tuple[list[Any], list[str]]:
    """The bulk write's operations, each guarded by the revision it was computed from,
    and the id of each. Replacements carry the batch's token (see write_batch)."""
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
            ops.append(InsertOne(to_document(state.current, 1)))
        else:
            doc = to_document(state.current, state.rev + 1)
            doc[BATCH_TOKEN] = token
            ops.append(ReplaceOne({"_id": entity_id, "rev": state.rev}, doc))
        op_ids.append(entity_id)
    return ops, op_ids


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector over a synchronous burst of allocations.

    A batch allocates tens of thousands of dicts and lists that all live until it is
    written; left to run, the collector scans them again and again, and its full
    collections (the whole heap) cost more than the batch itself. Reference counting
    still frees everything; the collector runs after the burst, once. Never hold it
    across an await: it pauses the collector for the whole process.
    """
    if not gc.isenabled():
        yield  # paused already (an outer pause, or the application's choice)
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _all_applied(
    store: EntityStore,
    ops: list[Any],
    op_ids: list[str],
    lost: set[str],
    refused: dict[str, NgsiError],
) -> bool:
    """Run the bulk write; True when its counts show that every write was applied.

    Each write names one distinct id (guarded by its revision), so full counts prove
    that no guard missed, and the reads that look for lost races can be skipped.
    Write errors are added to lost (a duplicate id: another writer created it), or to
    refused when MongoDB cannot index the entity's geometry (that entity's 400).
    """
    try:
        result = await store.collection.bulk_write(ops, ordered=False)
    except BulkWriteError as err:
        for write_error in err.details.get("writeErrors", []):
            entity_id = op_ids[write_error["index"]]
            if write_error.get("code") == CANNOT_INDEX_GEOMETRY:
                refused[entity_id] = geometry_refused(write_error)
            else:
                lost.add(entity_id)
        return False
    inserts = replaces = deletes = 0
    for op in ops:
        if isinstance(op, InsertOne):
            inserts += 1
        elif isinstance(op, ReplaceOne):
            replaces += 1
        else:
            deletes += 1
    return (
        result.inserted_count == inserts
        and result.matched_count == replaces
        and result.deleted_count == deletes
    )


async def _redo(
    store: EntityStore, entity_id: str, changes: list[Change]
) -> tuple[str, Entity | None, Entity | None]:
    def combined(old: Entity | None) -> Entity | None:
        for change in changes:
            old = change(old)
        return old

    return await _apply_one(store, entity_id, combined)
