"""Helpers of the notifier tests: fast settings, subscriptions and entity changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from broker.ngsild.changes import EntityChange
from broker.ngsild.context import CORE
from broker.ngsild.datetimes import now_iso
from broker.ngsild.model import Entity
from broker.ngsild.operations import update_attrs
from broker.ngsild.parse import parse_entity, parse_fragment
from broker.ngsild.subscription import parse_subscription
from broker.notify.notifier import Notifier
from broker.notify.settings import NotifySettings
from broker.store import Store
from broker.store.subscriptions import subscription_store

from .receiver import Receiver

FAST = NotifySettings(
    max_attempts=20,
    backoff_base=0.1,
    backoff_max=0.4,
    timeout=2,
    lease=5,
    poll=0.1,
    idle_poll=0.4,
    subscription_poll=0.2,
)

Factory = Callable[..., Any]


async def subscribe(store: Store, receiver: Receiver, **members: Any) -> str:
    notification = {"endpoint": {"uri": receiver.url}, "format": "keyValues"}
    notification.update(members.pop("notification", {}))
    body = {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": notification,
        **members,
    }
    now = now_iso()
    sub = parse_subscription(body, CORE, now, f"urn:ngsi-ld:Subscription:{time.monotonic_ns()}")
    await (await subscription_store(store, None)).create(sub, None, now)
    sub_id: str = sub["id"]
    return sub_id


def entity(n: int = 1, speed: int = 0) -> Entity:
    body = {"id": f"urn:ngsi-ld:Vehicle:{n}", "type": "Vehicle", "speed": speed}
    return parse_entity(body, CORE, now_iso())


def updated(old: Entity, speed: int) -> Entity:
    attrs = parse_fragment({"speed": speed}, CORE, now_iso(), partial=True)
    new, _ = update_attrs(old, attrs, now_iso())
    return new


async def speeds(notifier: Notifier, count: int, n: int = 1) -> None:
    """count updates of entity n (speed 1..count), each told to the notifier."""
    old = entity(n)
    for speed in range(1, count + 1):
        new = updated(old, speed)
        await notifier.entities_changed([EntityChange(None, old["id"], old, new)])
        old = new


async def until(condition: Callable[[], Any], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await condition() if asyncio.iscoroutinefunction(condition) else not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
