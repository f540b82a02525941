"""Subscription documents and the notification outbox in MongoDB (real server features
only: find_one_and_update claims, no transactions or change streams)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from broker.ngsild.context import CORE
from broker.ngsild.errors import AlreadyExists, ResourceNotFound
from broker.ngsild.notification import Delivery, iso_at
from broker.ngsild.subscription import parse_subscription
from broker.store import Store, connect
from broker.store.subscriptions import Report, SubscriptionStore, subscription_store

NOW = iso_at(-60)


@pytest.fixture
async def subs(mongo_uri: str, db_prefix: str) -> AsyncIterator[SubscriptionStore]:
    store = Store(connect(mongo_uri), db_prefix)
    await store.tenants.database(None, create=True)
    yield await subscription_store(store, None)
    await store.close()


def sub(n: int, **members: Any) -> dict[str, Any]:
    body = {
        "type": "Subscription",
        "entities": [{"type": "V"}],
        "notification": {"endpoint": {"uri": "http://h/n"}},
        **members,
    }
    return parse_subscription(body, CORE, NOW, f"urn:ngsi-ld:Subscription:{n}")


def delivery(n: int, key: str, seq: str) -> Delivery:
    notification = {"id": f"urn:n:{n}", "type": "Notification", "subscriptionId": "urn:s:1"}
    return Delivery(
        f"urn:n:{n}", None, "urn:s:1", key, seq, {"uri": "http://h/n"}, None, notification
    )


async def test_create_get_page_delete(subs: SubscriptionStore) -> None:
    for n in (1, 2, 3):
        await subs.create(sub(n), {"a": "https://x/a"}, NOW)
    with pytest.raises(AlreadyExists):
        await subs.create(sub(1), None, NOW)
    doc = await subs.get("urn:ngsi-ld:Subscription:1")
    assert (
        doc is not None
        and doc["rev"] == 1
        and doc["sub"]["entities"] == [{"type": sub(1)["entities"][0]["type"]}]
    )
    assert [d["_id"][-1] for d in await subs.page(2, 1)] == ["2", "3"]
    assert await subs.count() == 3
    await subs.delete("urn:ngsi-ld:Subscription:2", iso_at())
    with pytest.raises(ResourceNotFound):
        await subs.delete("urn:ngsi-ld:Subscription:2", iso_at())
    assert await subs.get("urn:ngsi-ld:Subscription:2") is None
    assert await subs.count() == 2
    # The tombstone is what other processes read to drop it; the id can be used again.
    changed = await subs.changed_since(NOW)
    assert any(d.get("deleted") for d in changed)
    await subs.create(sub(2), None, iso_at())
    assert await subs.get("urn:ngsi-ld:Subscription:2") is not None


async def test_replace_is_guarded_by_rev(subs: SubscriptionStore) -> None:
    await subs.create(sub(1), None, NOW)
    assert await subs.replace(sub(1, throttling=3), 1, iso_at())
    assert not await subs.replace(sub(1, throttling=4), 1, iso_at())  # stale
    doc = await subs.get("urn:ngsi-ld:Subscription:1")
    assert doc is not None and doc["rev"] == 2 and doc["sub"]["throttling"] == 3


async def test_throttle_and_firing_claims(subs: SubscriptionStore) -> None:
    """One process wins each throttling period and each periodic firing."""
    await subs.create(sub(1, timeInterval=10), None, NOW)
    sub_id = "urn:ngsi-ld:Subscription:1"
    assert await subs.claim_throttle(sub_id, iso_at(), iso_at(10))
    assert not await subs.claim_throttle(sub_id, iso_at(), iso_at(10))
    assert await subs.claim_throttle(sub_id, iso_at(11), iso_at(21))
    following = iso_at(10)
    assert await subs.claim_firing(sub_id, iso_at(), following) == (True, following)
    assert await subs.claim_firing(sub_id, iso_at(), iso_at(10)) == (False, following)


async def test_delivery_status(subs: SubscriptionStore) -> None:
    await subs.create(sub(1), None, NOW)
    sub_id = "urn:ngsi-ld:Subscription:1"
    failed, ok = iso_at(-2), iso_at(-1)
    report = Report()
    report.add(False, failed, "HTTP 500")
    report.add(True, ok, None)
    await subs.record_many({sub_id: report})
    doc = await subs.get(sub_id)
    assert doc is not None
    assert (doc["timesSent"], doc["timesFailed"], doc["status"]) == (2, 1, "ok")
    assert doc["lastFailureReason"] == "HTTP 500"
    assert doc["lastSuccess"] == doc["lastNotification"] == ok
    assert doc["lastFailure"] == failed
    # Delivery status is not a change of the subscription: other processes ignore it.
    assert doc["modifiedAt"] == NOW and doc["rev"] == 1


async def test_delivery_reports_in_batches(subs: SubscriptionStore) -> None:
    """Coalesced reports add up, and the latest outcome sets status (in any order)."""
    await subs.create(sub(1), None, NOW)
    sub_id = "urn:ngsi-ld:Subscription:1"
    early, failed, ok = iso_at(-3), iso_at(-2), iso_at(-1)
    report = Report()
    report.add(True, ok, None)
    report.add(False, failed, "HTTP 500")
    report.add(True, early, None)
    await subs.record_many({sub_id: report})
    later = Report()
    later.add(True, early, None)  # written last but older: the times stay ($max)
    await subs.record_many({sub_id: later})
    doc = await subs.get(sub_id)
    assert doc is not None
    assert (doc["timesSent"], doc["timesFailed"], doc["status"]) == (4, 1, "ok")
    assert doc["lastSuccess"] == doc["lastNotification"] == ok
    assert (doc["lastFailure"], doc["lastFailureReason"]) == (failed, "HTTP 500")


async def test_outbox_order_and_leases(subs: SubscriptionStore) -> None:
    """Per key, only the first pending item is claimed; a lease keeps it from others."""
    outbox = subs.outbox
    await outbox.enqueue(
        [delivery(1, "a", "1"), delivery(2, "a", "2"), delivery(3, "b", "3"), delivery(4, "a", "4")]
    )
    now = iso_at()
    first = await outbox.claim("w1", now, iso_at(30), 10)
    assert [d.id for d in first] == ["urn:n:1", "urn:n:3"]
    assert await outbox.claim("w2", iso_at(), iso_at(30), 10) == []
    await outbox.delivered_many(["urn:n:1"], "w1")
    await outbox.retry("urn:n:3", "w1", iso_at(60), 1, "HTTP 500")
    second = await outbox.claim("w2", iso_at(), iso_at(30), 10)
    assert [d.id for d in second] == ["urn:n:2"]  # b waits for its retry
    await outbox.dead("urn:n:2", "w2", 10, "gave up")
    assert await outbox.count("dead") == 1
    third = await outbox.claim("w2", iso_at(), iso_at(30), 10)
    assert [d.id for d in third] == ["urn:n:4"]  # a dead item does not block its key
    await outbox.release("w2")
    again = await outbox.claim("w3", iso_at(), iso_at(30), 10)
    assert [d.id for d in again] == ["urn:n:4"]
    assert again[0].notification["id"] == "urn:n:4"
    await outbox.purge("urn:s:1")
    assert await outbox.count() == 0


async def test_outbox_items_held_by_their_process(subs: SubscriptionStore) -> None:
    """The fast path: items inserted leased to their process are never claimed by another;
    a key with an earlier item that the process does not hold is blocked; items handed
    back are claimed again, in order."""
    outbox = subs.outbox
    assert await outbox.blocked({"a": "1", "b": "1"}, "w1") == set()
    held = {"urn:n:1", "urn:n:2"}
    await outbox.enqueue(
        [delivery(1, "a", "1"), delivery(2, "a", "2"), delivery(3, "b", "3")],
        owner="w1",
        lease_until=iso_at(30),
        held=held,
    )
    # Key a is held by w1 only: w1 may go on holding it, w2 may not; b's item is unleased.
    assert await outbox.blocked({"a": "5", "b": "5"}, "w1") == {"b"}
    assert await outbox.blocked({"a": "5", "b": "5"}, "w2") == {"a", "b"}
    assert await outbox.blocked({"a": "0", "b": "0"}, "w2") == set()  # nothing earlier
    claimed = await outbox.claim("w2", iso_at(), iso_at(30), 10)
    assert [d.id for d in claimed] == ["urn:n:3"]  # a's items are leased to w1
    await outbox.release_items(["urn:n:2"], "w2")  # not w2's: nothing happens
    assert await outbox.claim("w3", iso_at(), iso_at(30), 10) == []
    await outbox.release_items(["urn:n:1", "urn:n:2"], "w1")
    again = await outbox.claim("w3", iso_at(), iso_at(30), 10)
    assert [d.id for d in again] == ["urn:n:1"]  # then urn:n:2, in order
