"""Subscriptions of one tenant, and the notifier's view of all tenants' stores.

One document per subscription in the tenant's ``subscriptions`` collection::

    {"_id": id, "sub": the subscription (ngsild.subscription, names expanded),
     "context": JSON text of the @context it was written with, "rev": n, "order": ObjectId,
     "createdAt", "modifiedAt", "deleted"?: true,
     "status"?, "timesSent"?, "timesFailed"?, "lastNotification"?, "lastSuccess"?,
     "lastFailure"?, "lastFailureReason"?, "throttleUntil"?, "nextFire"?}

Every broker process keeps the active subscriptions in memory and re-reads the documents
whose ``modifiedAt`` is recent (see notify.registry), so a deletion leaves a tombstone
(``deleted: true``) for a while instead of removing the document at once. Each write of a
subscription then increases its tenant's counter in ``subscriptionMarks`` (main database,
``{"_id": tenant name or "" for the default tenant, "n": writes}``): a poll reads those
counters in one query and re-reads only the tenants whose counter moved. Delivery
status updates do not touch ``modifiedAt``: they are not subscription changes.
Throttling and periodic firings are claimed with an atomic find_one_and_update on
``throttleUntil`` / ``nextFire``, so that several processes never fire twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ..ngsild.errors import AlreadyExists, NonexistentTenant, ResourceNotFound
from ..ngsild.model import Entity
from ..ngsild.notification import Delivery
from ..ngsild.q import TypeExpr
from . import Store
from .entities import EntityQuery, Selector
from .outbox import OutboxStore

__all__ = [
    "MARKS",
    "SUBSCRIPTIONS",
    "NotifierBackend",
    "SubscriptionStore",
    "subscription_store",
]

SUBSCRIPTIONS = "subscriptions"
MARKS = "subscriptionMarks"
_LIVE: dict[str, Any] = {"deleted": {"$ne": True}}
_indexed: set[str] = set()
log = logging.getLogger("kaido.notify")

#: Delivered items are deleted in batches: at most this long after the delivery
#: (seconds), at once when this many are waiting, before every claim and when a worker
#: hands its leases back.
FLUSH_DELAY = 0.005
FLUSH_ITEMS = 256
#: Delivery reports (a subscription's timesSent, lastSuccess...) wait longer: one update
#: per subscription per batch is the dearest part of the bookkeeping under fan-out.
REPORT_DELAY = 0.1


@dataclass(slots=True)
class Report:
    """Delivery outcomes of one subscription not written yet (clause 5.2.14: timesSent counts
    attempts, timesFailed failures); see SubscriptionStore.record_many."""

    sent: int = 0
    failed: int = 0
    last: str = ""
    ok: bool = True
    last_success: str | None = None
    last_failure: str | None = None
    reason: str | None = None

    def add(self, ok: bool, when: str, reason: str | None) -> None:
        self.sent += 1
        if when >= self.last:
            self.last, self.ok = when, ok
        if ok:
            self.last_success = max(self.last_success or when, when)
        else:
            self.failed += 1
            if self.last_failure is None or when >= self.last_failure:
                self.last_failure, self.reason = when, reason or "unknown"

    def update(self) -> dict[str, Any]:
        update: dict[str, Any] = {
            "$set": {"status": "ok" if self.ok else "failed"},
            "$max": {"lastNotification": self.last},
            "$inc": {"timesSent": self.sent},
        }
        if self.last_success is not None:
            update["$max"]["lastSuccess"] = self.last_success
        if self.last_failure is not None:
            update["$max"]["lastFailure"] = self.last_failure
            update["$set"]["lastFailureReason"] = self.reason
            update["$inc"]["timesFailed"] = self.failed
        return update


class SubscriptionStore:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        tenant: str | None,
        marks: AsyncCollection[dict[str, Any]],
    ) -> None:
        self.db = db
        self.tenant = tenant
        self.collection = db[SUBSCRIPTIONS]
        self.outbox = OutboxStore(db, tenant)
        self._marks = marks

    async def _mark(self) -> None:
        """Tell the other processes' polls that this tenant's subscriptions changed."""
        await self._marks.update_one({"_id": self.tenant or ""}, {"$inc": {"n": 1}}, upsert=True)

    async def ensure_indexes(self) -> None:
        if self.db.name in _indexed:
            return
        await self.collection.create_indexes(
            [
                IndexModel([("modifiedAt", ASCENDING)], name="modifiedAt"),
                IndexModel([("order", ASCENDING)], name="order"),
            ]
        )
        _indexed.add(self.db.name)

    async def create(self, sub: dict[str, Any], context: object, now: str) -> None:
        await self.ensure_indexes()
        doc: dict[str, Any] = {
            "_id": sub["id"],
            "sub": {k: v for k, v in sub.items() if k != "id"},
            "context": orjson.dumps(context).decode(),
            "rev": 1,
            "order": ObjectId(),
            "createdAt": now,
            "modifiedAt": now,
            "nextFire": now,
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            # A tombstone of a deleted subscription may still hold the id.
            result = await self.collection.replace_one({"_id": sub["id"], "deleted": True}, doc)
            if not result.matched_count:
                raise AlreadyExists(f"Subscription {sub['id']!r} already exists") from None
        await self._mark()

    async def get(self, sub_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": sub_id, **_LIVE})

    async def page(self, limit: int, offset: int) -> list[dict[str, Any]]:
        if limit == 0:
            return []
        cursor = self.collection.find(_LIVE).sort([("order", ASCENDING)]).skip(offset).limit(limit)
        return [doc async for doc in cursor]

    async def count(self) -> int:
        return await self.collection.count_documents(_LIVE)

    async def replace(self, sub: dict[str, Any], rev: int, now: str) -> bool:
        """Store a new version if nobody wrote since rev (False: read again and retry)."""
        update: dict[str, Any] = {
            "$set": {"sub": {k: v for k, v in sub.items() if k != "id"}, "modifiedAt": now},
            "$inc": {"rev": 1},
        }
        if "timeInterval" in sub:
            update["$set"]["nextFire"] = now
        result = await self.collection.update_one({"_id": sub["id"], "rev": rev, **_LIVE}, update)
        if result.matched_count != 1:
            return False
        await self._mark()
        return True

    async def delete(self, sub_id: str, now: str) -> None:
        result = await self.collection.update_one(
            {"_id": sub_id, **_LIVE},
            {
                "$set": {"deleted": True, "modifiedAt": now, "deletedAt": now},
                "$unset": {"sub": ""},
                "$inc": {"rev": 1},
            },
        )
        if not result.matched_count:
            raise ResourceNotFound(f"Subscription {sub_id!r} does not exist")
        await self._mark()
        await self.outbox.purge(sub_id)

    async def changed_since(self, since: str | None) -> list[dict[str, Any]]:
        """Documents written at or after since (tombstones included); all live ones if None."""
        flt = _LIVE if since is None else {"modifiedAt": {"$gte": since}}
        return [doc async for doc in self.collection.find(flt, {"throttleUntil": 0})]

    async def purge_tombstones(self, before: str) -> None:
        await self.collection.delete_many({"deleted": True, "modifiedAt": {"$lt": before}})

    async def record_many(self, reports: dict[str, Report]) -> None:
        """Write the delivery reports of several subscriptions in one round trip."""
        if reports:
            await self.collection.bulk_write(
                [UpdateOne({"_id": k, **_LIVE}, r.update()) for k, r in reports.items()],
                ordered=False,
            )

    async def claim_throttle(self, sub_id: str, now: str, until: str) -> bool:
        """Take the right to notify now, if the throttling period has passed."""
        doc = await self.collection.find_one_and_update(
            {
                "_id": sub_id,
                **_LIVE,
                "$or": [{"throttleUntil": {"$exists": False}}, {"throttleUntil": {"$lte": now}}],
            },
            {"$set": {"throttleUntil": until}},
            projection={"_id": 1},
        )
        return doc is not None

    async def claim_firing(self, sub_id: str, now: str, following: str) -> tuple[bool, str | None]:
        """Take one periodic firing that is due; (taken, when the next one is due)."""
        doc = await self.collection.find_one_and_update(
            {"_id": sub_id, **_LIVE, "nextFire": {"$lte": now}},
            {"$set": {"nextFire": following}},
            projection={"nextFire": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return True, following
        current = await self.collection.find_one({"_id": sub_id, **_LIVE}, {"nextFire": 1})
        return False, None if current is None else current.get("nextFire")


async def subscription_store(
    store: Store, tenant: str | None, *, create: bool = False
) -> SubscriptionStore:
    db = await store.tenants.database(tenant, create=create)
    return SubscriptionStore(db, tenant, store.tenants.main[MARKS])


class NotifierBackend:
    """What the notifier (broker.notify) needs from MongoDB, over all tenants."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stores: dict[str | None, SubscriptionStore] = {}
        #: Per tenant: items delivered but not deleted yet (id -> owner), and reports.
        self._done: dict[str | None, dict[str, str]] = {}
        self._reports: dict[str | None, dict[str, Report]] = {}
        self._locks: dict[str | None, asyncio.Lock] = {}
        self._flusher: asyncio.Task[None] | None = None

    def _waiting(self) -> bool:
        return any(self._done.values()) or any(self._reports.values())

    def _report(self, delivery: Delivery, ok: bool, when: str, reason: str | None) -> None:
        reports = self._reports.setdefault(delivery.tenant, {})
        reports.setdefault(delivery.subscription_id, Report()).add(ok, when, reason)

    def _schedule(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        reported = time.monotonic()
        while self._waiting():
            await asyncio.sleep(FLUSH_DELAY)
            reports = time.monotonic() - reported >= REPORT_DELAY or not any(self._done.values())
            if reports:
                reported = time.monotonic()
            for tenant in list(self._done.keys() | self._reports.keys()):
                try:
                    await self.flush(tenant, reports=reports)
                except Exception:  # the store is down: the leases run out, all is sent again
                    log.exception("cannot record deliveries of tenant %s", tenant)

    async def flush(self, tenant: str | None, *, reports: bool = True) -> None:
        """Delete the delivered items of a tenant (and write its reports) now."""
        async with self._locks.setdefault(tenant, asyncio.Lock()):
            done = self._done.pop(tenant, None)
            waiting = self._reports.pop(tenant, None) if reports else None
            if not done and not waiting:
                return
            subs = await self._for(tenant)
            if done:
                owners: dict[str, list[str]] = {}
                for item_id, owner in done.items():
                    owners.setdefault(owner, []).append(item_id)
                for owner, ids in owners.items():
                    await subs.outbox.delivered_many(ids, owner)
            if waiting:
                await subs.record_many(waiting)

    async def _for(self, tenant: str | None) -> SubscriptionStore:
        found = self._stores.get(tenant)
        if found is None:
            found = self._stores[tenant] = await subscription_store(self.store, tenant)
        return found

    async def tenants(self) -> list[str | None]:
        names: list[str | None] = [None]
        names.extend(await self.store.tenants.names())
        return names

    async def subscription_marks(self) -> dict[str | None, int]:
        """Per tenant whose subscriptions were ever written, how many writes (see MARKS)."""
        marks = self.store.tenants.main[MARKS]
        return {doc["_id"] or None: doc["n"] async for doc in marks.find({})}

    async def subscriptions_changed(
        self, tenant: str | None, since: str | None
    ) -> list[dict[str, Any]]:
        try:
            return await (await self._for(tenant)).changed_since(since)
        except NonexistentTenant:
            return []

    async def subscription(self, tenant: str | None, sub_id: str) -> dict[str, Any] | None:
        return await (await self._for(tenant)).get(sub_id)

    async def purge_tombstones(self, tenant: str | None, before: str) -> None:
        await (await self._for(tenant)).purge_tombstones(before)

    async def enqueue(
        self,
        tenant: str | None,
        deliveries: Sequence[Delivery],
        *,
        owner: str | None = None,
        lease_until: str = "",
        held: Collection[str] = (),
    ) -> None:
        await (await self._for(tenant)).outbox.enqueue(
            deliveries, owner=owner, lease_until=lease_until, held=held
        )

    async def blocked(
        self, tenant: str | None, first_seqs: Mapping[str, str], owner: str
    ) -> set[str]:
        return await (await self._for(tenant)).outbox.blocked(first_seqs, owner)

    async def release_items(self, tenant: str | None, item_ids: Sequence[str], owner: str) -> None:
        await (await self._for(tenant)).outbox.release_items(item_ids, owner)

    async def claim(
        self, tenant: str | None, owner: str, now: str, lease_until: str, limit: int
    ) -> list[Delivery]:
        try:
            subs = await self._for(tenant)
        except NonexistentTenant:
            return []
        if self._done.get(tenant):
            await self.flush(tenant, reports=False)  # the next items of their keys may go
        return await subs.outbox.claim(owner, now, lease_until, limit)

    async def delivered(self, delivery: Delivery, owner: str, when: str) -> None:
        """Note a delivery: the item is deleted and the report written in a batch, soon.

        Until then the item stays pending and leased, so it still holds back the later
        items of its key (which wait for the deletion, done before every claim) and is
        sent again after its lease if this process dies first (at least once).
        """
        done = self._done.setdefault(delivery.tenant, {})
        done[delivery.id] = owner
        self._report(delivery, True, when, None)
        if len(done) >= FLUSH_ITEMS:
            await self.flush(delivery.tenant)
        else:
            self._schedule()

    async def failed(
        self, delivery: Delivery, owner: str, when: str, error: str, retry_at: str | None
    ) -> None:
        """Record a failed attempt; retry at retry_at, or give up (None)."""
        subs = await self._for(delivery.tenant)
        if retry_at is None:
            await subs.outbox.dead(delivery.id, owner, delivery.attempts, error)
        else:
            await subs.outbox.retry(delivery.id, owner, retry_at, delivery.attempts, error)
        self._report(delivery, False, when, error)
        self._schedule()

    async def release(self, tenant: str | None, owner: str) -> None:
        """Write what is waiting, then give back owner's leases (a worker stops)."""
        try:
            await self.flush(tenant)
            await (await self._for(tenant)).outbox.release(owner)
        except NonexistentTenant:
            return
        finally:
            if self._flusher is not None and not self._flusher.done():
                await asyncio.wait([self._flusher], timeout=5)  # it ends when all is written

    async def claim_throttle(self, tenant: str | None, sub_id: str, now: str, until: str) -> bool:
        return await (await self._for(tenant)).claim_throttle(sub_id, now, until)

    async def claim_firing(
        self, tenant: str | None, sub_id: str, now: str, following: str
    ) -> tuple[bool, str | None]:
        return await (await self._for(tenant)).claim_firing(sub_id, now, following)

    async def entities(
        self, tenant: str | None, selectors: Sequence[dict[str, str]], limit: int
    ) -> list[Entity]:
        """The entities a periodic subscription's selectors name (q is applied by the caller)."""
        entities = await self.store.entities(tenant)
        found: dict[str, Entity] = {}
        for selector in selectors:
            query = EntityQuery(
                selectors=[
                    Selector(
                        types=TypeExpr(((selector["type"],),)),
                        ids=[selector["id"]] if "id" in selector else None,
                        id_pattern=selector.get("idPattern") if "id" not in selector else None,
                    )
                ],
                limit=limit,
            )
            batch, _ = await entities.query(query)
            for entity in batch:
                found.setdefault(entity["id"], entity)
        return list(found.values())[:limit]
