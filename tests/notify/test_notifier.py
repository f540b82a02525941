"""The notifier on its own, against the store: never losing notifications (outbox,
retries, restarts) and several broker processes sharing one database (clause 5.8.6)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from broker.ngsild.datetimes import now_iso
from broker.store import Store
from broker.store.subscriptions import subscription_store

from .helpers import FAST, Factory, entity, speeds, subscribe, until
from .receiver import Receiver


async def until_async(read: Any, expected: object, seconds: float = 3.0) -> None:
    """Wait (bounded) until await read() == expected; then assert it."""
    for _ in range(int(seconds / 0.05)):
        if await read() == expected:
            return
        await asyncio.sleep(0.05)
    assert await read() == expected


async def test_restart_delivers_what_was_pending(notifiers: Factory, receiver: Receiver) -> None:
    """Never lost: notifications stored before the write's answer survive a stop of the
    notifier, and the next one (same database) delivers them all, in order."""
    receiver.status = 503
    first = await notifiers()
    await subscribe(first.backend.store, receiver)  # type: ignore[attr-defined]
    await first.registry.poll()
    await speeds(first, 5)
    await until(lambda: receiver.failures >= 1)
    await first.stop()
    outbox = (await subscription_store(first.backend.store, None)).outbox  # type: ignore[attr-defined]
    assert await outbox.count() == 5
    receiver.status = 200
    await notifiers()
    bodies = await receiver.wait(5)
    assert [b["data"][0]["speed"] for b in bodies] == [1, 2, 3, 4, 5]
    await until_async(lambda: outbox.count(), 0)  # deletions are written in batches


async def test_backoff_then_give_up(notifiers: Factory, receiver: Receiver) -> None:
    """Retries wait longer each time (exponential backoff) up to max_attempts; then the
    notification is kept as "dead" and the next one of the same entity goes on."""
    receiver.status = 500
    settings = replace(FAST, max_attempts=4, backoff_base=0.1, backoff_max=10)
    notifier = await notifiers(settings)
    sub_id = await subscribe(notifier.backend.store, receiver)  # type: ignore[attr-defined]
    await notifier.registry.poll()
    await speeds(notifier, 1)
    await until(lambda: receiver.failures >= 4)
    gaps = [b - a for a, b in zip(receiver.failed_at, receiver.failed_at[1:], strict=False)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] >= 0.39, gaps
    store = await subscription_store(notifier.backend.store, None)  # type: ignore[attr-defined]
    for _ in range(50):
        if await store.outbox.count("dead") == 1:
            break
        await asyncio.sleep(0.05)
    assert await store.outbox.count("dead") == 1
    # Delivery reports are written in batches a few milliseconds later: wait for them.
    for _ in range(50):
        doc = await store.get(sub_id)
        if doc is not None and doc.get("timesFailed") == 4:
            break
        await asyncio.sleep(0.05)
    assert doc is not None and doc["timesFailed"] == 4 and doc["status"] == "failed"
    receiver.status = 200
    await speeds(notifier, 2)  # speeds 1 and 2 again, after the dead one
    bodies = await receiver.wait(2)
    assert [b["data"][0]["speed"] for b in bodies] == [1, 2]


async def test_subscription_made_through_one_process_is_used_by_another(
    notifiers: Factory, receiver: Receiver
) -> None:
    """Several processes, one database: a subscription created through one is matched by
    the other within SUBSCRIPTION_POLL (plus a poll's duration)."""
    one = await notifiers()
    other = await notifiers()
    sub_id = await subscribe(one.backend.store, receiver)  # type: ignore[attr-defined]
    await one.refresh(None, sub_id)
    started = time.monotonic()
    await until(lambda: other.registry.index.get(None, sub_id) is not None, within=2)
    assert time.monotonic() - started < 1.0
    await speeds(other, 1)
    await receiver.wait(1)
    # A deletion is seen the same way.
    await (await subscription_store(one.backend.store, None)).delete(sub_id, now_iso())  # type: ignore[attr-defined]
    await until(lambda: other.registry.index.get(None, sub_id) is None, within=2)


async def test_two_processes_send_each_notification_once(
    notifiers: Factory, receiver: Receiver
) -> None:
    """Workers of two processes share the outbox: every notification is delivered exactly
    once here (leases), and per entity in order."""
    receiver.delay = 0.005
    one = await notifiers()
    other = await notifiers()
    sub_id = await subscribe(one.backend.store, receiver)  # type: ignore[attr-defined]
    await one.refresh(None, sub_id)
    await asyncio.gather(speeds(one, 15, n=1), speeds(one, 15, n=2), speeds(one, 15, n=3))
    other.worker.wake(None)
    bodies = await receiver.wait(45)
    await receiver.quiet(0.3)
    assert len(receiver.received) == 45
    assert len({b["id"] for b in bodies}) == 45
    for n in (1, 2, 3):
        got = [b["data"][0]["speed"] for b in bodies if b["data"][0]["id"].endswith(f":{n}")]
        assert got == list(range(1, 16))


async def test_periodic_fires_once_per_interval_in_total(
    notifiers: Factory, receiver: Receiver
) -> None:
    """timeInterval with two processes: one notification per interval, not one each."""
    one = await notifiers()
    other = await notifiers()
    store: Store = one.backend.store  # type: ignore[attr-defined]
    await (await store.entities(None, create=True)).create(entity())
    sub_id = await subscribe(store, receiver, timeInterval=0.5)
    await one.refresh(None, sub_id)
    await other.refresh(None, sub_id)
    await asyncio.sleep(2.1)
    stamps = [b["notifiedAt"] for b in receiver.bodies]
    assert 4 <= len(stamps) <= 5, stamps
    assert all(
        b["data"] == [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 0}]
        for b in receiver.bodies
    )
