"""Point reads by ``_id`` that arrive together share one store query.

A retrieve costs the broker about as much CPU in the driver (cursor, server selection,
connection checkout, the reply's wait) as in everything else together. When many clients
read at once, their reads are sent together as one ``find({"_id": {"$in": [...]}})`` and
the documents handed out by id. A read that finds none of its collection's queries at the
store goes at once, as a ``find_one`` of its own: a lone read costs what it did. A read
that finds one there leads a batch: it lets the loop run a few turns (GATHER_TURNS), the
reads asked meanwhile join it, then it sends them all. The busier the broker, the larger
the batches.

Each read is sent after its request arrived and answered before its response is written,
so it sees every write acknowledged before it was asked, as a read of its own would.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["GATHER_TURNS", "MAX_IDS", "PointReads"]

#: Ids per query: a reply of this many entities fits the driver's first batch (101).
MAX_IDS = 100

#: Turns of the event loop a batch is gathered for. Requests read from the sockets in the
#: loop's next I/O poll reach their store read two turns later (the connection's task
#: wakes, then the handler runs): three turns take in those that had arrived by then.
GATHER_TURNS = 3

Doc = dict[str, Any]


class PointReads:
    """Coalesces ``find_one({"_id": id}, projection)`` of one collection and projection."""

    __slots__ = ("_batch", "_collection", "_in_flight", "_projection", "_tasks")

    def __init__(self, collection: AsyncCollection[Doc], projection: Mapping[str, Any]) -> None:
        self._collection = collection
        self._projection = projection
        # The batch being gathered: id -> futures of the readers who joined it.
        self._batch: dict[str, list[asyncio.Future[Doc | None]]] | None = None
        self._in_flight = 0  # reads of this collection gathering or sent, not yet answered
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, entity_id: str) -> Doc | None:
        """The document (its own copy, free to change), or None if there is none."""
        batch = self._batch
        if batch is not None:  # another reader is gathering a batch: join it
            future: asyncio.Future[Doc | None] = asyncio.get_running_loop().create_future()
            batch.setdefault(entity_id, []).append(future)
            return await future
        if not self._in_flight:
            # Nothing of this collection is at the store: the loop is not busy with reads,
            # and waiting for company would only delay this one.
            self._in_flight += 1
            try:
                return await self._collection.find_one({"_id": entity_id}, self._projection)
            finally:
                self._in_flight -= 1
        # Reads are at the store, so more are on their way: this reader leads a batch and
        # lets the loop run a few turns for the others to join it.
        batch = self._batch = {entity_id: []}
        self._in_flight += 1
        try:
            try:
                for _ in range(GATHER_TURNS):
                    await asyncio.sleep(0)
            finally:
                self._batch = None
            if len(batch) == 1 and not batch[entity_id]:  # still alone: no futures needed
                return await self._collection.find_one({"_id": entity_id}, self._projection)
            found = await self._find(list(batch))
        except asyncio.CancelledError:
            # This reader's request went away; the others may still want their answers
            # (when all went away together, as at shutdown, nobody does).
            waiting = {i: fs for i, fs in batch.items() if any(not f.done() for f in fs)}
            if waiting:
                self._spawn(waiting)
            raise
        except Exception as exc:
            _fail(batch, exc)
            raise
        finally:
            self._in_flight -= 1
        _hand_out(batch, found, entity_id)
        return found.get(entity_id)

    def _spawn(self, batch: dict[str, list[asyncio.Future[Doc | None]]]) -> None:
        task = asyncio.get_running_loop().create_task(self._fetch(batch))
        self._tasks.add(task)  # held until done: the loop holds tasks only weakly
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, batch: dict[str, list[asyncio.Future[Doc | None]]]) -> None:
        try:
            found = await self._find(list(batch))
        except asyncio.CancelledError:  # only when the loop shuts down
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as exc:
            _fail(batch, exc)
            return
        _hand_out(batch, found, None)

    async def _find(self, ids: list[str]) -> dict[str, Doc]:
        if len(ids) <= MAX_IDS:
            return await self._find_part(ids)
        parts = [ids[start : start + MAX_IDS] for start in range(0, len(ids), MAX_IDS)]
        found: dict[str, Doc] = {}
        for part in await asyncio.gather(*map(self._find_part, parts)):
            found.update(part)
        return found

    async def _find_part(self, ids: list[str]) -> dict[str, Doc]:
        cursor = self._collection.find({"_id": {"$in": ids}}, self._projection)
        return {doc["_id"]: doc async for doc in cursor}


def _fail(batch: dict[str, list[asyncio.Future[Doc | None]]], exc: Exception) -> None:
    """Every reader gets the store's error, as if it had read alone."""
    for futures in batch.values():
        for future in futures:
            if not future.done():
                future.set_exception(exc)


def _hand_out(
    batch: dict[str, list[asyncio.Future[Doc | None]]], found: dict[str, Doc], taken: str | None
) -> None:
    """Each reader gets its document; taken is the id whose document the leader keeps."""
    for entity_id, futures in batch.items():
        doc = found.get(entity_id)
        shared = entity_id == taken
        for future in futures:
            if future.done():
                continue
            # Readers own what they get: a second reader of the same id gets a copy.
            future.set_result(None if doc is None else copy.deepcopy(doc) if shared else doc)
            shared = True
