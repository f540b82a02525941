"""The subscription registry's polls: one query for all tenants, and then only the tenants
whose subscriptions were written (broker.notify.registry), so that an idle deployment of
many tenants is not re-read tenant by tenant every second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from broker.api.ldcontext import ContextResolver
from broker.ngsild.context import CORE
from broker.ngsild.datetimes import now_iso
from broker.ngsild.subscription import parse_subscription
from broker.notify.registry import Registry
from broker.store import Store
from broker.store.subscriptions import NotifierBackend, subscription_store

from .helpers import Factory

TENANTS = (None, "town-a", "town-b")


async def _no_hosted(tenant: str | None, context_id: str) -> object | None:
    return None


def _subscription() -> dict[str, Any]:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/n"}},
    }
    sub_id = f"urn:ngsi-ld:Subscription:{time.monotonic_ns()}"
    return parse_subscription(body, CORE, now_iso(), sub_id)


async def _create(store: Store, tenant: str | None) -> str:
    sub = _subscription()
    await (await subscription_store(store, tenant, create=True)).create(sub, None, now_iso())
    sub_id: str = sub["id"]
    return sub_id


def _registry(store: Store, sweep: float = 30.0) -> tuple[Registry, list[str | None]]:
    """A registry (not started: no background polls) and the tenants its polls read."""
    backend = NotifierBackend(store)
    read: list[str | None] = []
    changed = backend.subscriptions_changed

    async def counted(tenant: str | None, since: str | None) -> list[dict[str, Any]]:
        read.append(tenant)
        return await changed(tenant, since)

    backend.subscriptions_changed = counted  # type: ignore[method-assign]
    resolver = ContextResolver(_no_hosted, timeout=1, cache_seconds=60)
    return Registry(backend, resolver.resolve, sweep), read


async def test_a_poll_reads_only_the_tenants_whose_subscriptions_were_written(
    stores: Factory,
) -> None:
    writer: Store = await stores()  # another broker process
    ids = {tenant: await _create(writer, tenant) for tenant in TENANTS}
    registry, read = _registry(await stores())

    await registry.poll()  # the first poll reads every tenant
    assert set(read) == set(TENANTS)
    assert all(registry.index.get(t, i) is not None for t, i in ids.items())

    read.clear()
    await registry.poll()
    assert read == []  # nothing was written: one query, no tenant read

    new = await _create(writer, "town-b")
    await registry.poll()
    assert read == ["town-b"]
    assert registry.index.get("town-b", new) is not None

    read.clear()
    subs = await subscription_store(writer, None)
    await subs.delete(ids[None], now_iso())
    await registry.poll()
    assert read == [None]
    assert registry.index.get(None, ids[None]) is None


async def test_every_tenant_is_read_again_at_each_sweep(stores: Factory) -> None:
    """A writer that stopped between a subscription and its counter is caught up by the
    sweep (simulated: a subscription written without moving the counter)."""
    writer: Store = await stores()
    await _create(writer, "town-a")
    registry, read = _registry(await stores(), sweep=0.2)
    await registry.poll()
    subs = await subscription_store(writer, "town-a")
    subs._mark = _no_mark  # type: ignore[method-assign]
    sub = _subscription()
    await subs.create(sub, None, now_iso())
    read.clear()
    await registry.poll()
    assert read == []
    assert registry.index.get("town-a", sub["id"]) is None
    await asyncio.sleep(0.25)
    await registry.poll()
    assert set(read) >= {None, "town-a"}
    assert registry.index.get("town-a", sub["id"]) is not None


async def _no_mark() -> None:
    pass


async def test_every_subscription_write_moves_its_tenants_counter(stores: Factory) -> None:
    store: Store = await stores()
    backend = NotifierBackend(store)
    subs = await subscription_store(store, "town-a", create=True)
    sub = _subscription()
    await subs.create(sub, None, now_iso())
    assert (await backend.subscription_marks()).get("town-a") == 1
    assert await subs.replace(sub, 1, now_iso())
    assert not await subs.replace(sub, 1, now_iso())  # lost the race: nothing written
    assert (await backend.subscription_marks()).get("town-a") == 2
    await subs.delete(sub["id"], now_iso())
    marks = await backend.subscription_marks()
    assert marks.get("town-a") == 3
    assert None not in marks  # the default tenant's subscriptions were not written
