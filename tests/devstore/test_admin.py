"""Server, database and collection commands: what drivers and the broker's setup use."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

from broker.devstore import DevStoreProcess

AsyncDb = AsyncDatabase[dict[str, Any]]


async def test_handshake_describes_a_standalone_7_0(
    async_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    hello = await async_client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert (hello["minWireVersion"], hello["maxWireVersion"]) == (0, 21)
    assert hello["maxBsonObjectSize"] == 16 * 1024 * 1024
    assert hello["maxMessageSizeBytes"] == 48_000_000
    assert hello["maxWriteBatchSize"] == 100_000
    assert hello["logicalSessionTimeoutMinutes"] == 30
    assert isinstance(hello["connectionId"], int)
    assert "localTime" in hello
    # No replica set, no compression, no sharding: drivers must not try them.
    for absent in ("setName", "hosts", "compression", "msg", "topologyVersion"):
        assert absent not in hello
    legacy = await async_client.admin.command("isMaster")
    assert legacy["ismaster"] is True
    assert (await async_client.admin.command("ping"))["ok"] == 1.0

    build = await async_client.admin.command("buildInfo")
    assert build["version"] == "7.0.0"
    assert build["versionArray"][:2] == [7, 0]
    assert "not MongoDB" in build["kaidoDevstore"]["description"]
    assert (await async_client.server_info())["version"] == "7.0.0"
    fcv = await async_client.admin.command("getParameter", 1, featureCompatibilityVersion=1)
    assert fcv["featureCompatibilityVersion"] == {"version": "7.0"}


async def test_unknown_command(async_db: AsyncDb) -> None:
    with pytest.raises(OperationFailure) as caught:
        await async_db.command("frobnicate", 1)
    assert caught.value.code == 59
    assert caught.value.details is not None
    assert caught.value.details["codeName"] == "CommandNotFound"
    assert caught.value.details["errmsg"] == "no such command: 'frobnicate'"


async def test_engine_errors_become_command_errors(async_db: AsyncDb) -> None:
    await async_db.c.insert_one({"_id": 1, "n": 1})
    with pytest.raises(OperationFailure) as caught:
        await async_db.c.find({"n": {"$frobnicate": 1}}).to_list()
    assert caught.value.code != 0
    with pytest.raises(OperationFailure):
        await async_db.c.update_one({"_id": 1}, {"$set": {"_id": 2}})
    with pytest.raises(OperationFailure):
        await async_db.command("find", 42)  # a collection name must be a string
    # The connection (and the server) survived all of this.
    assert await async_db.c.find_one({"_id": 1}) == {"_id": 1, "n": 1}


async def test_databases(async_client: AsyncMongoClient[dict[str, Any]], db_name: str) -> None:
    other = db_name + "-other"
    await async_client[db_name].c.insert_one({})
    await async_client[other].c.insert_one({})
    names = await async_client.list_database_names()
    assert {db_name, other} <= set(names)
    listed = await async_client.admin.command("listDatabases", filter={"name": db_name})
    assert [entry["name"] for entry in listed["databases"]] == [db_name]
    await async_client.drop_database(other)
    await async_client.drop_database(db_name)
    names = await async_client.list_database_names()
    assert db_name not in names
    assert other not in names
    assert await async_client[db_name].c.find_one() is None


async def test_collections(async_db: AsyncDb) -> None:
    assert await async_db.list_collection_names() == []
    await async_db.create_collection("made")
    with pytest.raises(CollectionInvalid):
        await async_db.create_collection("made")
    await async_db.inserted.insert_one({"x": 1})
    await async_db.indexed.create_index("k")
    assert sorted(await async_db.list_collection_names()) == ["indexed", "inserted", "made"]
    assert await async_db.list_collection_names(filter={"name": {"$regex": "^in"}}) == [
        "indexed",
        "inserted",
    ]
    infos = await (await async_db.list_collections(filter={"name": "made"})).to_list()
    assert infos[0]["type"] == "collection"

    # Emptied collections still exist, as in MongoDB, until they are dropped.
    await async_db.inserted.delete_many({})
    assert "inserted" in await async_db.list_collection_names()

    await async_db.made.rename("renamed")
    assert "renamed" in await async_db.list_collection_names()
    await async_db.drop_collection("renamed")
    await async_db.drop_collection("never-existed")
    assert sorted(await async_db.list_collection_names()) == ["indexed", "inserted"]


def test_sync_admin(devstore: DevStoreProcess, db_name: str) -> None:
    with MongoClient[dict[str, Any]](devstore.uri, serverSelectionTimeoutMS=5000) as client:
        client[db_name].c.insert_one({"a": 1})
        assert db_name in client.list_database_names()
        assert client[db_name].list_collection_names() == ["c"]
        client.drop_database(db_name)
        assert db_name not in client.list_database_names()


async def test_invalid_collection_name(async_db: AsyncDb) -> None:
    with pytest.raises(OperationFailure) as caught:
        await async_db.command("insert", "bad$name", documents=[{"x": 1}])
    assert caught.value.code == 73
