"""Point reads asked in the same turn of the loop share one query (broker/store/reads.py).

Issue 2 (retrieve CPU): the reads of retrieves (clause 5.7.1) asked while another read of
the tenant is at the store are one ``find`` with ``$in``; each reader must still get
exactly what a ``find_one`` of its own would have given, its own copy, or the store's
error. A read with nothing at the store goes alone, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection

from broker.store.reads import GATHER_TURNS, MAX_IDS, PointReads

Doc = dict[str, Any]


class Finds(monitoring.CommandListener):
    """The filters of the find commands sent."""

    def __init__(self) -> None:
        self.filters: list[Doc] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find":
            self.filters.append(event.command["filter"])

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def setup(
    mongo_uri: str, db_prefix: str
) -> AsyncIterator[tuple[AsyncCollection[Doc], Finds]]:
    finds = Finds()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_uri, event_listeners=[finds])
    collection = client[db_prefix]["entities"]
    await collection.insert_many(
        [{"_id": f"urn:e:{n}", "n": n, "rev": 7, "attrs": {"a": [n]}} for n in range(250)]
    )
    finds.filters.clear()
    yield collection, finds
    await client.close()


PROJECTION = {"rev": 0}


def sent(finds: Finds) -> list[list[str]]:
    """The ids each find asked for, sorted: finds may reach the wire in either order (one
    may wait for a new connection of the pool while a later one finds a free one)."""
    return sorted(
        sorted(f["_id"]["$in"]) if isinstance(f["_id"], dict) else [f["_id"]] for f in finds.filters
    )


async def test_reads_asked_while_one_is_at_the_store_are_one_query(
    setup: tuple[AsyncCollection[Doc], Finds],
) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)
    ids = [f"urn:e:{n}" for n in (3, 1, 4, 159, 26)] + ["urn:e:missing"]
    docs = await asyncio.gather(*(reads.get(i) for i in ids))
    assert docs[:-1] == [
        {"_id": i, "n": int(i[6:]), "attrs": {"a": [int(i[6:])]}} for i in ids[:-1]
    ]
    assert docs[-1] is None
    # The first found nothing at the store and went alone; the others gathered behind it.
    assert sent(finds) == sorted([["urn:e:3"], sorted(ids[1:])])
    assert [f for f in finds.filters if not isinstance(f["_id"], dict)] == [{"_id": "urn:e:3"}]


async def test_a_lone_read_is_a_find_one(setup: tuple[AsyncCollection[Doc], Finds]) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)
    assert await reads.get("urn:e:5") == {"_id": "urn:e:5", "n": 5, "attrs": {"a": [5]}}
    assert await reads.get("urn:e:nope") is None
    assert finds.filters == [{"_id": "urn:e:5"}, {"_id": "urn:e:nope"}]


async def test_a_batch_gathers_the_reads_of_a_few_turns(
    setup: tuple[AsyncCollection[Doc], Finds],
) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)

    async def after(turns: int, n: int) -> Doc | None:
        for _ in range(turns):
            await asyncio.sleep(0)
        return await reads.get(f"urn:e:{n}")

    docs = await asyncio.gather(
        reads.get("urn:e:1"),  # alone
        reads.get("urn:e:2"),  # leads a batch
        after(GATHER_TURNS - 1, 3),  # joins it
        after(GATHER_TURNS + 1, 4),  # too late: the batch has left
    )
    assert [d and d["n"] for d in docs] == [1, 2, 3, 4]
    assert sent(finds) == sorted([["urn:e:1"], ["urn:e:2", "urn:e:3"], ["urn:e:4"]])


async def test_reads_of_later_moments_are_later_queries(
    setup: tuple[AsyncCollection[Doc], Finds],
) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)
    first = await asyncio.gather(*(reads.get(f"urn:e:{n}") for n in (1, 2, 3)))
    later = await asyncio.gather(*(reads.get(f"urn:e:{n}") for n in (4, 5)))
    assert [d and d["n"] for d in first + later] == [1, 2, 3, 4, 5]
    # Once the first answers are in, nothing is at the store: 4 goes alone, and 5, which
    # finds 4 there, gathers for a batch that nobody else joins.
    assert sent(finds) == sorted([["urn:e:1"], ["urn:e:2", "urn:e:3"], ["urn:e:4"], ["urn:e:5"]])


async def test_readers_of_one_id_get_their_own_copies(
    setup: tuple[AsyncCollection[Doc], Finds],
) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)
    asked = ["urn:e:8", "urn:e:8", "urn:e:9", "urn:e:8", "urn:e:9", "urn:e:8"]
    docs = await asyncio.gather(*(reads.get(i) for i in asked))
    assert sent(finds) == sorted([["urn:e:8"], ["urn:e:8", "urn:e:9"]])
    assert [d and d["n"] for d in docs] == [8, 8, 9, 8, 9, 8]
    for n in (8, 9):
        same = [d for d in docs if d and d["n"] == n]
        same[0]["attrs"]["a"].append("changed by its reader")
        assert all(d["attrs"] == {"a": [n]} for d in same[1:])
        assert len({id(d["attrs"]) for d in same}) == len(same)


async def test_more_ids_than_one_query_takes(setup: tuple[AsyncCollection[Doc], Finds]) -> None:
    collection, finds = setup
    reads = PointReads(collection, PROJECTION)
    docs = await asyncio.gather(*(reads.get(f"urn:e:{n}") for n in range(241)))
    assert [d and d["n"] for d in docs] == list(range(241))
    assert sorted(len(ids) for ids in sent(finds)) == [1, 40, MAX_IDS, MAX_IDS]


class Cursor:
    """An async iterator over the documents an awaitable gives."""

    def __init__(self, answer: Awaitable[list[Doc]]) -> None:
        self._answer: Awaitable[list[Doc]] | None = answer
        self._docs: list[Doc] = []

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Doc:
        if self._answer is not None:
            self._docs, self._answer = list(await self._answer), None
        if not self._docs:
            raise StopAsyncIteration
        return self._docs.pop(0)


class Gate:
    """A stand-in collection whose queries wait for a gate, or fail."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.open = asyncio.Event()
        self.fail = fail
        self.queries: list[Doc] = []

    async def find_one(self, flt: Doc, projection: Doc) -> Doc | None:
        docs = await self._answer(flt)
        return docs[0] if docs else None

    def find(self, flt: Doc, projection: Doc) -> Cursor:
        return Cursor(self._answer(flt))

    async def _answer(self, flt: Doc) -> list[Doc]:
        self.queries.append(flt)
        await asyncio.sleep(0)  # a store answers in a later turn, never at once
        await self.open.wait()
        if self.fail:
            raise self.fail
        ids = flt["_id"]["$in"] if isinstance(flt["_id"], dict) else [flt["_id"]]
        return [{"_id": i} for i in ids if i != "urn:e:missing"]


async def test_every_reader_gets_the_stores_error() -> None:
    gate = Gate(fail=ConnectionError("store away"))
    gate.open.set()
    reads = PointReads(gate, PROJECTION)  # type: ignore[arg-type]
    asked = asyncio.gather(*(reads.get(f"urn:e:{n}") for n in range(3)), return_exceptions=True)
    results = await asyncio.wait_for(asked, 5)
    assert [str(r) for r in results] == ["store away"] * 3
    assert len(gate.queries) == 2  # one alone, then the two others together
    with pytest.raises(ConnectionError, match="store away"):  # and a lone reader too
        await asyncio.wait_for(reads.get("urn:e:1"), 5)


@pytest.mark.parametrize("when", ["gathering", "querying"])
async def test_the_others_are_answered_when_the_leader_goes_away(when: str) -> None:
    gate = Gate()
    reads = PointReads(gate, PROJECTION)  # type: ignore[arg-type]
    # All ask in one turn: the first goes alone, the second leads the others.
    first = asyncio.ensure_future(reads.get("urn:e:9"))
    leader = asyncio.ensure_future(reads.get("urn:e:0"))
    others = [asyncio.ensure_future(reads.get(f"urn:e:{n}")) for n in (0, 1, 2)]
    await asyncio.sleep(0)  # they have asked; the leader has not sent its query yet
    assert gate.queries == [{"_id": "urn:e:9"}]
    if when == "querying":
        await asyncio.sleep(0.01)
        assert len(gate.queries) == 2
    leader.cancel()
    gate.open.set()
    assert await asyncio.wait_for(asyncio.gather(first, *others), 2) == [
        {"_id": "urn:e:9"},
        {"_id": "urn:e:0"},
        {"_id": "urn:e:1"},
        {"_id": "urn:e:2"},
    ]
    assert leader.cancelled()


async def test_a_reader_that_goes_away_does_not_hold_up_the_others() -> None:
    gate = Gate()
    reads = PointReads(gate, PROJECTION)  # type: ignore[arg-type]
    first = asyncio.ensure_future(reads.get("urn:e:9"))
    leader = asyncio.ensure_future(reads.get("urn:e:0"))
    quitter = asyncio.ensure_future(reads.get("urn:e:1"))
    stayer = asyncio.ensure_future(reads.get("urn:e:missing"))
    await asyncio.sleep(0.01)
    assert len(gate.queries) == 2
    quitter.cancel()
    gate.open.set()
    assert await asyncio.wait_for(first, 2) == {"_id": "urn:e:9"}
    assert await asyncio.wait_for(leader, 2) == {"_id": "urn:e:0"}
    assert await asyncio.wait_for(stayer, 2) is None
    assert quitter.cancelled()


async def test_nothing_is_read_for_readers_that_all_went_away() -> None:
    gate = Gate()
    reads = PointReads(gate, PROJECTION)  # type: ignore[arg-type]
    first = asyncio.ensure_future(reads.get("urn:e:9"))
    asked = [asyncio.ensure_future(reads.get(f"urn:e:{n}")) for n in (0, 1, 2)]
    await asyncio.sleep(0.01)
    assert len(gate.queries) == 2
    for task in [first, *asked]:  # as at shutdown: every handler is cancelled
        task.cancel()
    await asyncio.gather(first, *asked, return_exceptions=True)
    gate.open.set()
    await asyncio.sleep(0.01)
    assert len(gate.queries) == 2  # the batch was not sent again for nobody
