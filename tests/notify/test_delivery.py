"""The delivery worker's fast path: notifications queued by a process are sent from its
memory (no claim), in order per subscription and entity, and fall back to the outbox's
claims whenever order or memory requires it (a retry, an earlier item held elsewhere, a
full memory queue)."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace
from typing import Any

from broker.ngsild.notification import Delivery, iso_at
from broker.notify.delivery import DeliveryWorker
from broker.notify.notifier import Notifier
from broker.store.subscriptions import subscription_store

from .helpers import FAST, Factory, speeds, subscribe, until
from .receiver import Receiver


def count_claims(notifier: Notifier) -> list[int]:
    """Wraps the backend's claim: the list gets the number of items of each claim."""
    sizes: list[int] = []
    claim = notifier.backend.claim

    async def counted(*args: Any) -> list[Delivery]:
        items = await claim(*args)
        sizes.append(len(items))
        return items

    notifier.backend.claim = counted  # type: ignore[method-assign]
    return sizes


async def subscribed(notifier: Notifier, receiver: Receiver) -> list[int]:
    """A subscription of the receiver, in use; the sizes of the notifier's claims."""
    sizes = count_claims(notifier)
    await subscribe(notifier.backend.store, receiver)  # type: ignore[attr-defined]
    await notifier.registry.poll()
    return sizes


def got(receiver: Receiver) -> list[int]:
    return [b["data"][0]["speed"] for b in receiver.bodies]


async def test_queued_notifications_go_out_from_memory(
    notifiers: Factory, receiver: Receiver
) -> None:
    """Clause 5.8.6 notifications of a process's own writes are sent without any claim of
    the outbox, in the order of the writes, and are then deleted from it."""
    # No periodic poll during the writes: a write checked while a claim of its tenant is
    # in flight goes to the outbox on purpose (test_items_checked_before_a_claim_...), and
    # every later one of its key follows it there; what is tested here is the path
    # without such a claim. The claim made at start-up is waited for.
    notifier = await notifiers(replace(FAST, poll=60, idle_poll=60))
    sizes = await subscribed(notifier, receiver)
    await until(lambda: None in notifier.worker._quiet)  # the start-up claim is done
    receiver.delay = 0.002
    await speeds(notifier, 30)
    await receiver.wait(30)
    assert got(receiver) == list(range(1, 31))
    assert sum(sizes) == 0  # polls found nothing to claim
    outbox = (await subscription_store(notifier.backend.store, None)).outbox  # type: ignore[attr-defined]
    for _ in range(100):  # deletions are written in batches, a few milliseconds later
        if await outbox.count() == 0:
            break
        await receiver.quiet(0.02)
    assert await outbox.count() == 0


async def test_a_retry_takes_the_items_behind_it_back_to_the_outbox(
    notifiers: Factory, receiver: Receiver
) -> None:
    """A failed delivery is retried first: what waited behind it in memory goes back to the
    outbox and is claimed after the retry succeeds, so the order holds."""
    notifier = await notifiers()
    sizes = await subscribed(notifier, receiver)
    receiver.status = 500
    receiver.delay = 0.05  # the first is in flight while the others are queued behind it
    await speeds(notifier, 5)
    await until(lambda: receiver.failures >= 1)
    receiver.status = 200
    receiver.delay = 0
    await receiver.wait(5)
    await receiver.quiet(0.2)
    assert got(receiver) == [1, 2, 3, 4, 5]
    assert sum(sizes) >= 5  # the retry and the four behind it came from claims


async def test_an_earlier_item_held_elsewhere_blocks_the_key(
    notifiers: Factory, receiver: Receiver
) -> None:
    """An earlier pending item of the same subscription and entity held by another process
    keeps the new one in the outbox until it is gone; then a claim sends it."""
    notifier = await notifiers()
    sub_id = await subscribe(notifier.backend.store, receiver)  # type: ignore[attr-defined]
    await notifier.registry.poll()
    outbox = (await subscription_store(notifier.backend.store, None)).outbox  # type: ignore[attr-defined]
    key = f"{sub_id}|urn:ngsi-ld:Vehicle:1"
    earlier = Delivery(
        id="urn:ngsi-ld:Notification:earlier",
        tenant=None,
        subscription_id=sub_id,
        key=key,
        seq="0000",
        endpoint={"uri": receiver.url},
        context=None,
        notification={"id": "urn:ngsi-ld:Notification:earlier", "data": []},
    )
    held = {earlier.id}
    await outbox.enqueue([earlier], owner="other-process", lease_until=iso_at(60), held=held)
    await speeds(notifier, 1)
    await receiver.quiet(0.3)
    assert receiver.received == []
    doc = await outbox.collection.find_one({"key": key, "_id": {"$ne": earlier.id}})
    assert doc is not None and doc["owner"] is None  # waiting for a claim, not held
    await outbox.delivered_many([earlier.id], "other-process")
    await receiver.wait(1, within=3)
    assert got(receiver) == [1]


async def test_a_claim_in_flight_keeps_new_items_of_its_keys_behind(
    notifiers: Factory, receiver: Receiver
) -> None:
    """An earlier item of the key, leased by this process's claim but not yet in its
    memory, goes first: the new item is not sent from memory meanwhile (the check for
    earlier items leaves this process's own out). Two broker processes writing one
    entity in turn hit this when one claims the other's item as it writes the next."""
    notifier = await notifiers()
    sub_id = await subscribe(notifier.backend.store, receiver)  # type: ignore[attr-defined]
    await notifier.registry.poll()
    outbox = (await subscription_store(notifier.backend.store, None)).outbox  # type: ignore[attr-defined]
    earlier = Delivery(
        id="urn:ngsi-ld:Notification:earlier",
        tenant=None,
        subscription_id=sub_id,
        key=f"{sub_id}|urn:ngsi-ld:Vehicle:1",
        seq="0000",
        endpoint={"uri": receiver.url},
        context=None,
        notification={
            "id": "urn:ngsi-ld:Notification:earlier",
            "type": "Notification",
            "subscriptionId": sub_id,
            "data": [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 0}],
        },
    )
    leased, go_on = asyncio.Event(), asyncio.Event()
    claim = notifier.backend.claim

    async def slow_claim(*args: Any) -> list[Delivery]:
        items = await claim(*args)
        if any(item.id == earlier.id for item in items):
            leased.set()
            await go_on.wait()  # leased in the outbox, not yet in memory
        return items

    notifier.backend.claim = slow_claim  # type: ignore[method-assign]
    await outbox.enqueue([earlier])  # waiting for a claim, as another process left it
    notifier.worker.stored(None)
    await asyncio.wait_for(leased.wait(), 3)
    await speeds(notifier, 1)
    await receiver.quiet(0.3)
    assert receiver.received == []  # not sent before the earlier item
    go_on.set()
    await receiver.wait(2, within=3)
    assert got(receiver) == [0, 1]


async def test_items_checked_before_a_claim_are_handed_back(
    notifiers: Factory, receiver: Receiver
) -> None:
    """A claim that begins while a new item is checked and inserted may lease an earlier
    item of its key: the new item then goes back to the outbox, to be claimed in order."""
    notifier = await notifiers()
    sizes = await subscribed(notifier, receiver)
    blocked = notifier.backend.blocked

    async def claim_meanwhile(*args: Any) -> set[str]:
        keys = await blocked(*args)
        with notifier.worker._unsettling(None):  # a claim of this tenant, begun and done
            pass
        return keys

    notifier.backend.blocked = claim_meanwhile  # type: ignore[method-assign]
    await speeds(notifier, 3)
    await receiver.wait(3)
    assert got(receiver) == [1, 2, 3]
    assert sum(sizes) == 3  # each went through a claim, none straight from memory


async def test_a_full_memory_queue_leaves_the_rest_to_the_outbox(
    notifiers: Factory, receiver: Receiver
) -> None:
    """With NOTIFY_MEMORY_QUEUE reached, new notifications wait in the outbox (claimed
    later) instead of filling the memory; all arrive, in order."""
    notifier = await notifiers(replace(FAST, memory_queue=2))
    sizes = await subscribed(notifier, receiver)
    receiver.delay = 0.02
    await speeds(notifier, 8)
    await receiver.wait(8)
    assert got(receiver) == list(range(1, 9))
    assert sum(sizes) >= 1
    assert notifier.worker.room(2)  # everything held was let go


async def test_items_held_too_long_go_back_to_the_outbox_in_order(
    notifiers: Factory, receiver: Receiver
) -> None:
    """An item whose lease would run out while it is sent (a slow endpoint, a long chain)
    is not sent from memory: it and those behind it go back to the outbox, whose claims
    give them a fresh lease; all arrive, in order."""
    # A held item may start within lease - timeout - 1 = 0.5 s of being queued.
    notifier = await notifiers(replace(FAST, lease=3.5, timeout=2))
    sizes = await subscribed(notifier, receiver)
    receiver.delay = 0.3
    await speeds(notifier, 4)
    await receiver.wait(4, within=8)
    assert got(receiver) == [1, 2, 3, 4]
    assert sum(sizes) >= 2  # the third and the fourth were claimed


class _Tenants:
    """A backend with three tenants and nothing else (the worker's claims are faked)."""

    async def tenants(self) -> list[str | None]:
        return [None, "idle", "busy"]


async def test_idle_tenants_are_polled_less_and_less_often() -> None:
    """A tenant whose claims find nothing is claimed after waits that double up to
    idle_poll; one whose claims find work, or that is active here, at every poll."""
    settings = replace(FAST, poll=0.05, idle_poll=0.4)
    worker = DeliveryWorker(_Tenants(), {}, settings)  # type: ignore[arg-type]
    claims: dict[str | None, list[float]] = {None: [], "idle": [], "busy": []}

    async def drain(tenant: str | None) -> bool:
        claims[tenant].append(time.monotonic())
        return tenant == "busy"

    worker._drain = drain  # type: ignore[method-assign]
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(2.0)
    started = time.monotonic()
    worker.wake("idle")  # activity here: claimed at once, and polled at full pace again
    await asyncio.sleep(0.3)
    worker.stopping = True
    await task
    assert len(claims["busy"]) >= 20  # every 0.05 s for 2.3 s: about 46
    before = [t for t in claims["idle"] if t < started]
    after = [t for t in claims["idle"] if t >= started]
    # 0.05, 0.15, 0.35, 0.75, then every 0.4 s: about 7 claims in 2 s, not 40.
    assert 4 <= len(before) <= 10, before
    gaps = [b - a for a, b in itertools.pairwise(before)]
    assert max(gaps) < 0.4 + 0.15  # never more than idle_poll apart
    assert after and after[0] - started < 0.05  # the wake
    assert len(after) >= 2  # and polled again soon: at the idle pace, not within 0.3 s
