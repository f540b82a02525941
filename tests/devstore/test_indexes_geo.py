"""Indexes (unique, sparse, partial, 2dsphere) and the geo queries the broker relies on."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

AsyncDb = AsyncDatabase[dict[str, Any]]

NARA = {"type": "Point", "coordinates": [135.8048, 34.6851]}
KYOTO = {"type": "Point", "coordinates": [135.7681, 35.0116]}
TOKYO = {"type": "Point", "coordinates": [139.6917, 35.6895]}


async def test_create_list_and_drop_indexes(async_db: AsyncDb) -> None:
    names = await async_db.e.create_indexes(
        [
            IndexModel([("type", ASCENDING), ("_id", ASCENDING)], name="type_id"),
            IndexModel([("attrNames", ASCENDING)], name="attrNames"),
            IndexModel([("loc.geo", GEOSPHERE)], name="geo:loc"),
        ]
    )
    assert names == ["type_id", "attrNames", "geo:loc"]
    # The same indexes again: a no-op, as the broker creates them on every first write.
    reply = await async_db.command(
        "createIndexes", "e", indexes=[{"key": {"attrNames": 1}, "name": "attrNames"}]
    )
    assert reply["note"] == "all indexes already exist"
    assert reply["numIndexesBefore"] == reply["numIndexesAfter"] == 4

    info = await async_db.e.index_information()
    assert set(info) == {"_id_", "type_id", "attrNames", "geo:loc"}
    assert info["type_id"]["key"] == [("type", 1), ("_id", 1)]
    assert info["geo:loc"]["key"] == [("loc.geo", "2dsphere")]

    with pytest.raises(OperationFailure) as caught:
        await async_db.e.create_index([("attrNames", ASCENDING)], name="other", unique=True)
    assert caught.value.code == 85
    await async_db.e.drop_index("attrNames")
    assert set(await async_db.e.index_information()) == {"_id_", "type_id", "geo:loc"}
    with pytest.raises(OperationFailure) as caught:
        await async_db.e.drop_index("attrNames")
    assert caught.value.code == 27
    await async_db.e.drop_indexes()
    assert list(await async_db.e.index_information()) == ["_id_"]
    assert await async_db.nothing.index_information() == {}  # NamespaceNotFound is ignored


async def test_unique_index(async_db: AsyncDb) -> None:
    await async_db.u.create_index("email", unique=True, sparse=True)
    await async_db.u.insert_many([{"email": "a@x"}, {"name": "no email"}, {"name": "none"}])
    with pytest.raises(DuplicateKeyError) as caught:
        await async_db.u.insert_one({"email": "a@x"})
    details = caught.value.details or {}
    assert details["keyPattern"] == {"email": 1}
    assert details["keyValue"] == {"email": "a@x"}
    assert "index: email_1" in details["errmsg"]
    with pytest.raises(DuplicateKeyError):
        await async_db.u.update_one({"name": "none"}, {"$set": {"email": "a@x"}})

    await async_db.v.insert_many([{"k": 1}, {"k": 1}])
    with pytest.raises(DuplicateKeyError):
        await async_db.v.create_index("k", unique=True)


async def test_partial_unique_index(async_db: AsyncDb) -> None:
    await async_db.p.create_index(
        "code", unique=True, partialFilterExpression={"active": {"$eq": True}}
    )
    await async_db.p.insert_many([{"code": 1, "active": False}, {"code": 1, "active": True}])
    with pytest.raises(DuplicateKeyError):
        await async_db.p.insert_one({"code": 1, "active": True})


async def test_near_and_geo_within(async_db: AsyncDb) -> None:
    await async_db.g.create_index([("location.geo", GEOSPHERE)])
    await async_db.g.insert_many(
        [
            {"_id": "nara", "location": {"geo": NARA}},
            {"_id": "kyoto", "location": {"geo": KYOTO}},
            {"_id": "tokyo", "location": {"geo": TOKYO}},
        ]
    )
    near = {"$near": {"$geometry": NARA, "$maxDistance": 50_000}}
    assert [d["_id"] for d in await async_db.g.find({"location.geo": near}).to_list()] == [
        "nara",
        "kyoto",
    ]
    kansai = {
        "type": "Polygon",
        "coordinates": [[[135, 34], [136.5, 34], [136.5, 35.5], [135, 35.5], [135, 34]]],
    }
    within = {"location.geo": {"$geoWithin": {"$geometry": kansai}}}
    assert sorted(d["_id"] for d in await async_db.g.find(within).to_list()) == ["kyoto", "nara"]
    nearest = await (
        await async_db.g.aggregate(
            [
                {"$geoNear": {"near": TOKYO, "distanceField": "d", "key": "location.geo"}},
                {"$limit": 1},
            ]
        )
    ).to_list()
    assert nearest[0]["_id"] == "tokyo"
    assert nearest[0]["d"] == pytest.approx(0, abs=1)

    # Like MongoDB, $near needs a 2dsphere index.
    with pytest.raises(OperationFailure):
        await async_db.g.find({"elsewhere": near}).to_list()
