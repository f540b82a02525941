"""The notification outbox of one tenant: notifications are stored before they are sent.

A write's notifications are inserted here before the write's response goes out, so a
crash or a restart loses none of them. Workers of any broker process claim items with a
lease (``owner``, ``leaseUntil``), send them, and delete them on success; a failed item
gets a later ``due`` and is retried, and after the last attempt it is kept with
``state: "dead"`` for an operator to look at (and re-queue by setting it back to
``pending``). An item whose lease ran out (its process died) is claimed again.

Order: items with the same ``key`` (subscription + entity) are sent one after the other in
``seq`` order: an item is only claimed when no pending item of its key comes before it.

Fast path: the process that inserts an item usually sends it itself, from memory. Such an
item is inserted already leased to that process (so no claim is needed), unless ``blocked``
finds an earlier pending item of its key that the process does not hold; then it is
inserted unleased and waits for a claim like any other.

Document::

    {"_id": notification id, "subscriptionId", "key", "seq", "state": "pending"|"dead",
     "due", "leaseUntil", "owner", "claim"?: token of the claim that leased it last,
     "attempts", "lastError"?, "endpoint", "context": JSON text,
     "body": JSON bytes of the notification, "createdAt"}
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from ..ngsild.datetimes import now_iso
from ..ngsild.notification import Delivery

__all__ = ["OUTBOX", "OutboxStore"]

OUTBOX = "notificationOutbox"
_indexed: set[str] = set()


def _document(delivery: Delivery, now: str, owner: str | None, lease_until: str) -> dict[str, Any]:
    return {
        "_id": delivery.id,
        "subscriptionId": delivery.subscription_id,
        "key": delivery.key,
        "seq": delivery.seq,
        "state": "pending",
        "due": now,
        "leaseUntil": lease_until,
        "owner": owner,
        "attempts": delivery.attempts,
        "endpoint": delivery.endpoint,
        "context": orjson.dumps(delivery.context).decode(),
        "body": orjson.dumps(delivery.notification),
        "createdAt": now,
    }


def _delivery(doc: dict[str, Any], tenant: str | None) -> Delivery:
    return Delivery(
        id=doc["_id"],
        tenant=tenant,
        subscription_id=doc["subscriptionId"],
        key=doc["key"],
        seq=doc["seq"],
        endpoint=doc["endpoint"],
        context=orjson.loads(doc["context"]),
        notification=orjson.loads(doc["body"]),
        attempts=doc.get("attempts", 0),
    )


class OutboxStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], tenant: str | None) -> None:
        self.db = db
        self.tenant = tenant
        self.collection = db[OUTBOX]

    async def ensure_indexes(self) -> None:
        if self.db.name in _indexed:
            return
        await self.collection.create_indexes(
            [
                IndexModel([("state", ASCENDING), ("due", ASCENDING)], name="state_due"),
                IndexModel([("key", ASCENDING), ("seq", ASCENDING)], name="key_seq"),
                IndexModel([("subscriptionId", ASCENDING)], name="subscriptionId"),
                IndexModel([("owner", ASCENDING)], name="owner"),
            ]
        )
        _indexed.add(self.db.name)

    async def enqueue(
        self,
        deliveries: Sequence[Delivery],
        *,
        owner: str | None = None,
        lease_until: str = "",
        held: Collection[str] = (),
    ) -> None:
        """Insert items; those whose id is in held come leased to owner until lease_until."""
        await self.ensure_indexes()
        now = now_iso()
        await self.collection.insert_many(
            [
                _document(d, now, owner, lease_until)
                if d.id in held
                else _document(d, now, None, "")
                for d in deliveries
            ],
            ordered=True,
        )

    async def blocked(self, first_seqs: Mapping[str, str], owner: str) -> set[str]:
        """The keys (of first_seqs: key -> seq of the first new item) that have a pending
        item before that seq which owner does not hold: their new items must wait."""
        if not first_seqs:
            return set()
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "key": {"$in": list(first_seqs)},
                    "state": "pending",
                    "owner": {"$ne": owner},
                }
            },
            {"$group": {"_id": "$key", "seq": {"$min": "$seq"}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {doc["_id"] async for doc in cursor if doc["seq"] < first_seqs[doc["_id"]]}

    async def release_items(self, item_ids: Sequence[str], owner: str) -> None:
        """Give back some of owner's leases, so that the items wait for a claim."""
        if item_ids:
            await self.collection.update_many(
                {"_id": {"$in": list(item_ids)}, "owner": owner, "state": "pending"},
                {"$set": {"leaseUntil": "", "owner": None}},
            )

    async def claim(self, owner: str, now: str, lease_until: str, limit: int) -> list[Delivery]:
        """Lease up to limit due items, at most one per key and only the first of its key.

        Candidates are read in seq order, a few hundred at a time; keys already looked at
        are left out of the next read, so that one entity with a long backlog does not hide
        the others. Per read: which keys have an earlier pending item is asked in one
        aggregation, and the chosen items are leased with one update_many (guarded by the
        same conditions as the read, so that two workers never both get an item) that
        tags them with a fresh ``claim`` token, read back with one find.
        """
        seen: set[str] = set()
        claimed: list[Delivery] = []
        for _ in range(4):
            flt: dict[str, Any] = {
                "state": "pending",
                "due": {"$lte": now},
                "leaseUntil": {"$lte": now},
            }
            if seen:
                flt["key"] = {"$nin": list(seen)}
            cursor = (
                self.collection.find(flt, {"_id": 1, "key": 1, "seq": 1})
                .sort([("seq", ASCENDING)])
                .limit(limit * 4)
            )
            candidates = [doc async for doc in cursor]
            heads: dict[str, dict[str, Any]] = {}
            for candidate in candidates:
                if candidate["key"] not in seen and candidate["key"] not in heads:
                    heads[candidate["key"]] = candidate
            seen.update(heads)
            if heads:
                first = await self._first_pending(list(heads.values()))
                # Only the first pending item of its key may go (order per key).
                chosen = [c for c in heads.values() if first.get(c["key"]) == c["seq"]]
                chosen = chosen[: limit - len(claimed)]
                if chosen:
                    claimed.extend(await self._lease(chosen, owner, now, lease_until))
                    if len(claimed) >= limit:
                        return claimed
            if len(candidates) < limit * 4:
                break
        return claimed

    async def _first_pending(self, heads: list[dict[str, Any]]) -> dict[str, str]:
        """The lowest seq of a pending item of each of the heads' keys, up to its head's."""
        highest = max(head["seq"] for head in heads)
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "key": {"$in": [head["key"] for head in heads]},
                    "seq": {"$lte": highest},
                    "state": "pending",
                }
            },
            {"$group": {"_id": "$key", "seq": {"$min": "$seq"}}},
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {doc["_id"]: doc["seq"] async for doc in cursor}

    async def _lease(
        self, chosen: list[dict[str, Any]], owner: str, now: str, lease_until: str
    ) -> list[Delivery]:
        token = uuid.uuid4().hex
        ids = [c["_id"] for c in chosen]
        result = await self.collection.update_many(
            {
                "_id": {"$in": ids},
                "state": "pending",
                "due": {"$lte": now},
                "leaseUntil": {"$lte": now},
            },
            {"$set": {"leaseUntil": lease_until, "owner": owner, "claim": token}},
        )
        if not result.modified_count:
            return []
        docs = [doc async for doc in self.collection.find({"_id": {"$in": ids}, "claim": token})]
        docs.sort(key=lambda doc: doc["seq"])
        return [_delivery(doc, self.tenant) for doc in docs]

    async def delivered_many(self, item_ids: Sequence[str], owner: str) -> None:
        """Delete items sent by owner (still leased to it), in one round trip."""
        if item_ids:
            await self.collection.delete_many({"_id": {"$in": list(item_ids)}, "owner": owner})

    async def retry(self, item_id: str, owner: str, due: str, attempts: int, error: str) -> None:
        await self.collection.update_one(
            {"_id": item_id, "owner": owner},
            {
                "$set": {
                    "due": due,
                    "leaseUntil": "",
                    "owner": None,
                    "attempts": attempts,
                    "lastError": error,
                }
            },
        )

    async def dead(self, item_id: str, owner: str, attempts: int, error: str) -> None:
        await self.collection.update_one(
            {"_id": item_id, "owner": owner},
            {
                "$set": {
                    "state": "dead",
                    "leaseUntil": "",
                    "owner": None,
                    "attempts": attempts,
                    "lastError": error,
                    "deadAt": now_iso(),
                }
            },
        )

    async def release(self, owner: str) -> None:
        """Give back the items a stopping worker holds, so others take them at once."""
        await self.collection.update_many(
            {"owner": owner, "state": "pending"}, {"$set": {"leaseUntil": "", "owner": None}}
        )

    async def purge(self, subscription_id: str) -> None:
        """Drop the pending items of a deleted subscription."""
        await self.collection.delete_many({"subscriptionId": subscription_id, "state": "pending"})

    async def count(self, state: str = "pending") -> int:
        return await self.collection.count_documents({"state": state})
