"""Reads and writes through AsyncMongoClient and MongoClient, as the broker does them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import (
    ASCENDING,
    DESCENDING,
    AsyncMongoClient,
    DeleteOne,
    InsertOne,
    ReplaceOne,
    ReturnDocument,
    UpdateOne,
    WriteConcern,
)
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)
from pymongo.synchronous.database import Database

from broker.devstore import DevStoreProcess

AsyncDb = AsyncDatabase[dict[str, Any]]
SyncDb = Database[dict[str, Any]]


class _Recorder(CommandListener):
    """Records the commands a client sends and the replies it gets."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.replies: list[dict[str, Any]] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self.replies.append(dict(event.reply))

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.names.clear()
        self.replies.clear()


async def test_find_pages_through_get_more(devstore: DevStoreProcess, db_name: str) -> None:
    recorder = _Recorder()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        devstore.uri, event_listeners=[recorder], serverSelectionTimeoutMS=5000
    )
    try:
        collection = client[db_name]["docs"]
        await collection.insert_many([{"_id": i, "n": i} for i in range(250)])
        recorder.clear()
        docs = await collection.find({}, batch_size=100).sort("n", ASCENDING).to_list()
        assert [doc["n"] for doc in docs] == list(range(250))
        assert recorder.names == ["find", "getMore", "getMore"]
        cursors = [reply["cursor"] for reply in recorder.replies]
        batches = [cursor.get("firstBatch", cursor.get("nextBatch")) for cursor in cursors]
        assert [len(batch) for batch in batches] == [100, 100, 50]
        assert cursors[0]["id"] != 0
        assert cursors[1]["id"] == cursors[0]["id"]
        assert cursors[2]["id"] == 0

        # Without batch_size the first batch has MongoDB's default of 101 documents.
        recorder.clear()
        assert len(await collection.find().to_list()) == 250
        assert recorder.names == ["find", "getMore"]
        assert len(recorder.replies[0]["cursor"]["firstBatch"]) == 101
    finally:
        await client.drop_database(db_name)
        await client.close()


async def test_closing_a_cursor_early_kills_it(async_db: AsyncDb) -> None:
    await async_db.c.insert_many([{"i": i} for i in range(20)])
    cursor = async_db.c.find(batch_size=5)
    assert (await cursor.next())["i"] == 0
    await cursor.close()
    reply = await async_db.command("killCursors", "c", cursors=[123456789])
    assert reply["cursorsNotFound"] == [123456789]
    with pytest.raises(OperationFailure) as caught:
        await async_db.command("getMore", 123456789, collection="c")
    assert caught.value.code == 43


async def test_sort_skip_limit_projection(async_db: AsyncDb) -> None:
    await async_db.c.insert_many([{"_id": i, "n": i, "odd": i % 2, "x": "y"} for i in range(10)])
    cursor = async_db.c.find({"odd": 1}, {"n": 1, "_id": 0}).sort("n", DESCENDING).skip(1).limit(2)
    assert await cursor.to_list() == [{"n": 7}, {"n": 5}]
    cursor = async_db.c.find({}, {"x": 0, "odd": 0}).sort([("odd", 1), ("n", -1)]).limit(3)
    assert await cursor.to_list() == [{"_id": 8, "n": 8}, {"_id": 6, "n": 6}, {"_id": 4, "n": 4}]
    assert await async_db.c.find_one({"n": {"$gt": 100}}) is None


async def test_datetimes_round_trip_as_utc(async_db: AsyncDb) -> None:
    when = datetime(2026, 11, 27, 9, 0, 0, 123000, tzinfo=UTC)
    await async_db.c.insert_one({"_id": "d", "at": when})
    doc = await async_db.c.find_one({"at": {"$gte": datetime(2026, 1, 1, tzinfo=UTC)}})
    assert doc is not None
    assert doc["at"] == when
    assert doc["at"].utcoffset() is not None


async def test_update_upsert_and_replace(async_db: AsyncDb) -> None:
    result = await async_db.c.update_one({"_id": "a"}, {"$set": {"v": 1}}, upsert=True)
    assert (result.matched_count, result.modified_count, result.upserted_id) == (0, 0, "a")
    result = await async_db.c.update_one({"_id": "a"}, {"$inc": {"v": 1}}, upsert=True)
    assert (result.matched_count, result.modified_count, result.upserted_id) == (1, 1, None)
    result = await async_db.c.update_one({"_id": "a"}, {"$set": {"v": 2}})
    assert (result.matched_count, result.modified_count) == (1, 0)  # nothing changed

    await async_db.c.insert_many([{"_id": "b", "k": 1}, {"_id": "c", "k": 1}])
    result = await async_db.c.update_many({"k": 1}, {"$set": {"seen": True}})
    assert (result.matched_count, result.modified_count) == (2, 2)
    result = await async_db.c.update_many({"k": 9}, {"$set": {"seen": True}}, upsert=True)
    assert result.upserted_id is not None
    assert await async_db.c.find_one({"_id": result.upserted_id}) == {
        "_id": result.upserted_id,
        "k": 9,
        "seen": True,
    }

    result = await async_db.c.replace_one({"_id": "a", "v": 2}, {"v": 3, "rev": 2})
    assert result.matched_count == 1
    assert await async_db.c.find_one({"_id": "a"}) == {"_id": "a", "v": 3, "rev": 2}
    result = await async_db.c.replace_one({"_id": "a", "rev": 1}, {"v": 4})
    assert result.matched_count == 0
    result = await async_db.c.replace_one({"_id": "z"}, {"v": 5}, upsert=True)
    assert result.upserted_id == "z"


async def test_array_filters_and_pipeline_updates(async_db: AsyncDb) -> None:
    await async_db.c.insert_one({"_id": 1, "a": [1, 5, 9], "n": 2})
    await async_db.c.update_one(
        {"_id": 1}, {"$set": {"a.$[big]": 0}}, array_filters=[{"big": {"$gt": 4}}]
    )
    await async_db.c.update_one({"_id": 1}, [{"$set": {"double": {"$multiply": ["$n", 2]}}}])
    assert await async_db.c.find_one({"_id": 1}) == {"_id": 1, "a": [1, 0, 0], "n": 2, "double": 4}


async def test_find_one_and_modify(async_db: AsyncDb) -> None:
    await async_db.c.insert_many([{"_id": 1, "v": 1, "g": "x"}, {"_id": 2, "v": 2, "g": "x"}])
    before = await async_db.c.find_one_and_update(
        {"g": "x"}, {"$inc": {"v": 10}}, sort=[("v", DESCENDING)]
    )
    assert before == {"_id": 2, "v": 2, "g": "x"}
    after = await async_db.c.find_one_and_update(
        {"_id": 2}, {"$inc": {"v": 1}}, return_document=ReturnDocument.AFTER, projection={"g": 0}
    )
    assert after == {"_id": 2, "v": 13}
    replaced = await async_db.c.find_one_and_replace(
        {"_id": 1}, {"v": 100}, return_document=ReturnDocument.AFTER
    )
    assert replaced == {"_id": 1, "v": 100}
    before = await async_db.c.find_one_and_replace({"_id": 1}, {"v": 101})
    assert before == {"_id": 1, "v": 100}
    assert await async_db.c.find_one_and_update({"_id": 3}, {"$set": {"v": 3}}) is None
    assert await async_db.c.find_one({"_id": 3}) is None
    upserted = await async_db.c.find_one_and_update(
        {"_id": 3}, {"$set": {"v": 3}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    assert upserted == {"_id": 3, "v": 3}
    assert await async_db.c.find_one_and_delete({"_id": 3}) == {"_id": 3, "v": 3}
    assert await async_db.c.find_one_and_delete({"_id": 3}) is None

    raw = await async_db.command(
        "findAndModify", "c", query={"_id": 4}, update={"$set": {"v": 4}}, upsert=True
    )
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": False, "upserted": 4}
    assert raw["value"] is None
    raw = await async_db.command("findAndModify", "c", query={"_id": 4}, update={"v": 5}, new=True)
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": True}
    assert raw["value"] == {"_id": 4, "v": 5}


async def test_delete_one_and_many(async_db: AsyncDb) -> None:
    await async_db.c.insert_many([{"k": i % 3} for i in range(9)])
    assert (await async_db.c.delete_one({"k": 0})).deleted_count == 1
    assert (await async_db.c.delete_many({"k": 0})).deleted_count == 2
    assert (await async_db.c.delete_many({"k": 0})).deleted_count == 0
    assert await async_db.c.count_documents({}) == 6
    assert (await async_db.c.delete_many({})).deleted_count == 6


async def test_duplicate_key_on_insert_one(async_db: AsyncDb) -> None:
    await async_db.c.insert_one({"_id": "urn:ngsi-ld:X:1"})
    with pytest.raises(DuplicateKeyError) as caught:
        await async_db.c.insert_one({"_id": "urn:ngsi-ld:X:1"})
    assert caught.value.code == 11000
    details = caught.value.details or {}
    assert details["keyPattern"] == {"_id": 1}
    assert details["keyValue"] == {"_id": "urn:ngsi-ld:X:1"}
    assert "E11000 duplicate key error" in details["errmsg"]
    assert "index: _id_" in details["errmsg"]


@pytest.mark.parametrize("ordered", [True, False])
async def test_bulk_write_reports_duplicates(async_db: AsyncDb, ordered: bool) -> None:
    await async_db.c.insert_one({"_id": 1, "v": 0})
    requests: list[Any] = [
        InsertOne({"_id": 2}),
        InsertOne({"_id": 1}),
        InsertOne({"_id": 3}),
        UpdateOne({"_id": 1}, {"$set": {"v": 1}}),
        ReplaceOne({"_id": 9}, {"v": 9}, upsert=True),
        DeleteOne({"_id": 2}),
    ]
    with pytest.raises(BulkWriteError) as caught:
        await async_db.c.bulk_write(requests, ordered=ordered)
    details = caught.value.details
    [error] = details["writeErrors"]
    assert (error["index"], error["code"]) == (1, 11000)
    assert error["keyValue"] == {"_id": 1}
    assert error["op"] == {"_id": 1}
    if ordered:
        assert details["nInserted"] == 1
        assert (details["nMatched"], details["nUpserted"], details["nRemoved"]) == (0, 0, 0)
        assert sorted(d["_id"] for d in await async_db.c.find().to_list()) == [1, 2]
    else:
        assert details["nInserted"] == 2
        assert (details["nMatched"], details["nModified"]) == (1, 1)
        assert details["upserted"] == [{"index": 4, "_id": 9}]
        assert details["nRemoved"] == 1
        assert sorted(d["_id"] for d in await async_db.c.find().to_list()) == [1, 3, 9]


async def test_unacknowledged_writes(async_db: AsyncDb) -> None:
    fire_and_forget = async_db.c.with_options(write_concern=WriteConcern(w=0))
    await fire_and_forget.insert_one({"_id": "w0"})
    await fire_and_forget.insert_one({"_id": "w0"})  # the duplicate error is not reported
    assert await async_db.c.find_one({"_id": "w0"}) == {"_id": "w0"}


async def test_count_distinct_and_aggregate(async_db: AsyncDb) -> None:
    await async_db.c.insert_many(
        [{"type": t, "n": i, "tags": ["a", "b"] if i % 2 else ["c"]} for i, t in enumerate("XYXZX")]
    )
    assert await async_db.c.count_documents({"type": "X"}) == 3
    assert await async_db.c.count_documents({}, skip=1, limit=2) == 2
    assert await async_db.c.estimated_document_count() == 5
    assert sorted(await async_db.c.distinct("type")) == ["X", "Y", "Z"]
    assert sorted(await async_db.c.distinct("tags", {"type": "X"})) == ["c"]
    groups = await (
        await async_db.c.aggregate(
            [
                {"$match": {"n": {"$gte": 0}}},
                {"$group": {"_id": "$type", "count": {"$sum": 1}, "total": {"$sum": "$n"}}},
                {"$sort": {"_id": 1}},
            ]
        )
    ).to_list()
    assert groups == [
        {"_id": "X", "count": 3, "total": 6},
        {"_id": "Y", "count": 1, "total": 1},
        {"_id": "Z", "count": 1, "total": 3},
    ]
    counted = await (await async_db.c.aggregate([{"$unwind": "$tags"}, {"$count": "n"}])).to_list()
    assert counted == [{"n": 7}]
    faceted = await (
        await async_db.c.aggregate(
            [
                {
                    "$facet": {
                        "all": [{"$count": "n"}],
                        "first": [{"$skip": 1}, {"$limit": 1}, {"$project": {"_id": 0, "n": 1}}],
                    }
                }
            ]
        )
    ).to_list()
    assert faceted == [{"all": [{"n": 5}], "first": [{"n": 1}]}]
    with pytest.raises(OperationFailure) as caught:
        await async_db.c.aggregate([{"$noSuchStage": {}}])
    assert caught.value.code == 40324


def test_sync_client_crud(sync_db: SyncDb) -> None:
    sync_db.c.insert_many([{"_id": i, "v": i} for i in range(150)])
    assert [doc["_id"] for doc in sync_db.c.find({"v": {"$lt": 3}}).sort("_id", 1)] == [0, 1, 2]
    assert len(list(sync_db.c.find(batch_size=40))) == 150
    assert sync_db.c.update_one({"_id": 1}, {"$set": {"v": -1}}).modified_count == 1
    assert sync_db.c.find_one({"_id": 1}) == {"_id": 1, "v": -1}
    assert sync_db.c.find_one_and_delete({"_id": 1}) == {"_id": 1, "v": -1}
    with pytest.raises(DuplicateKeyError):
        sync_db.c.insert_one({"_id": 2})
    assert sync_db.c.count_documents({}) == 149
    with sync_db.client.start_session() as session:  # lsid is accepted and ignored
        assert sync_db.c.count_documents({"v": {"$gte": 100}}, session=session) == 50


async def test_large_documents_and_16_mib_batches(async_db: AsyncDb) -> None:
    big = "x" * (6 * 1024 * 1024)
    await async_db.big.insert_many(
        [{"_id": i, "blob": big} for i in range(3)]
    )  # one ~18 MB message
    docs = await async_db.big.find().sort("_id", 1).to_list()
    assert [doc["_id"] for doc in docs] == [0, 1, 2]
    assert all(doc["blob"] == big for doc in docs)
    reply = await async_db.command("find", "big", projection={"_id": 1, "blob": 1})
    assert len(reply["cursor"]["firstBatch"]) == 2  # a third would pass 16 MiB
    assert reply["cursor"]["id"] != 0
    await async_db.command("killCursors", "big", cursors=[reply["cursor"]["id"]])


async def test_collation_is_refused_not_ignored(async_db: AsyncDb) -> None:
    await async_db.c.insert_one({"name": "Nara"})
    with pytest.raises(OperationFailure) as caught:
        await async_db.c.find({"name": "nara"}, collation={"locale": "en", "strength": 2}).to_list()
    assert caught.value.code == 238


async def test_failed_updates_leave_the_document_unchanged(async_db: AsyncDb) -> None:
    original = {"_id": 1, "name": "x", "n": 1, "sub": {"a": [1, 2]}}
    await async_db.c.insert_one(dict(original))
    with pytest.raises(OperationFailure):
        await async_db.c.replace_one({"_id": 1}, {"_id": 2, "name": "y"})
    with pytest.raises(OperationFailure):
        await async_db.c.update_one({"_id": 1}, {"$set": {"sub.a": []}, "$inc": {"name": 1}})
    with pytest.raises(OperationFailure):
        await async_db.c.update_one({"_id": 1}, [{"$set": {"n": {"$frobnicate": 1}}}])
    assert await async_db.c.find_one({"_id": 1}) == original
