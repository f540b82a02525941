"""The notifier: hears every write, queues the notifications it causes, delivers them.

entities_changed runs inside the write's request, so it only matches in memory (the
subscription index) and inserts the resulting notifications into the outbox, in one
insert per tenant; delivery happens in the background (DeliveryWorker). A throttled
subscription costs one extra atomic update (the throttling claim) per matching change.

What is guaranteed (see the README): a notification is stored before the write is
answered and is delivered at least once, unless it fails max_attempts times; those of one
subscription about one entity are delivered in the order of the writes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from typing import Any

from ..ngsild.changes import EntityChange
from ..ngsild.datetimes import now_iso
from ..ngsild.matching import Compiled, attribute_diff, match_change
from ..ngsild.notification import Delivery, change_data, iso_at, new_notification
from .delivery import DeliveryWorker
from .http import HttpSender
from .mqtt import MqttSender
from .periodic import PeriodicScheduler
from .ports import Backend, ResolveContext, Sender
from .registry import Registry
from .settings import NotifySettings

__all__ = ["Notifier"]

log = logging.getLogger("kaido.notify")


class Notifier:
    def __init__(
        self,
        backend: Backend,
        resolve: ResolveContext,
        settings: NotifySettings | None = None,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings or NotifySettings.from_env()
        self.registry = Registry(backend, resolve, self.settings.subscription_sweep)
        self.senders: dict[str, Sender] = senders or {
            "http": HttpSender(self.settings),
            "mqtt": MqttSender(self.settings),
        }
        self.worker = DeliveryWorker(backend, self.senders, self.settings)
        self.periodic = PeriodicScheduler(backend, self.settings.periodic_limit, self._enqueue_one)
        self._tasks: list[asyncio.Task[None]] = []
        self._counter = itertools.count()
        self._stopping = False

    # -- lifetime ------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the subscriptions, then deliver what is pending (from before a restart)."""
        await self.registry.poll()
        self._tasks = [
            asyncio.create_task(self._loop(self.registry.poll, self.settings.subscription_poll)),
            asyncio.create_task(self._loop(self._tick, min(0.25, self.settings.poll))),
            asyncio.create_task(self.worker.run()),
        ]
        for tenant in await self.backend.tenants():
            self.worker.wake(tenant)

    async def stop(self) -> None:
        """Stop the background work (bounded in time), then hand back what is in flight."""
        self._stopping = True
        self.worker.stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # A MongoDB operation interrupted by the cancellation may turn it into an
            # ordinary error: the loops then end by the flag; never wait for ever.
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks = []
        await self.worker.stop()
        for sender in self.senders.values():
            await sender.close()

    async def _loop(self, step: Any, interval: float) -> None:
        while not self._stopping:
            try:
                await step()
            except Exception:
                if self._stopping:
                    return
                log.exception("notifier background step failed")
            await asyncio.sleep(interval)

    async def _tick(self) -> None:
        await self.periodic.tick(self.registry.periodic())

    # -- subscriptions -------------------------------------------------------------------

    async def refresh(self, tenant: str | None, sub_id: str) -> None:
        """A subscription was written through this process: use the new version now."""
        await self.registry.refresh(tenant, sub_id)

    # -- changes -------------------------------------------------------------------------

    def _seq(self, stamp: str) -> str:
        return f"{stamp}|{next(self._counter):012d}"

    def _delivery(
        self, compiled: Compiled, notification: dict[str, Any], key: str, stamp: str
    ) -> Delivery:
        return Delivery(
            id=notification["id"],
            tenant=compiled.tenant,
            subscription_id=compiled.id,
            key=key,
            seq=self._seq(stamp),
            endpoint=compiled.sub["notification"]["endpoint"],
            context=compiled.context,
            notification=notification,
        )

    async def _enqueue_one(
        self, compiled: Compiled, notification: dict[str, Any], key: str, stamp: str
    ) -> None:
        await self._queue(compiled.tenant, [self._delivery(compiled, notification, key, stamp)])

    async def _queue(self, tenant: str | None, deliveries: list[Delivery]) -> None:
        """Store deliveries, then send those this process may hold from memory at once.

        An item is held (inserted leased to this process) unless an earlier pending item
        of its key is held by nobody or by another process, or the memory queue is full;
        the others wait in the outbox for a claim, in order.
        """
        worker = self.worker
        held: set[str] = set()
        epoch = worker.epoch(tenant)  # see there: why the check below needs it
        if epoch is not None and worker.room(len(deliveries)):
            first: dict[str, str] = {}
            for delivery in deliveries:
                first.setdefault(delivery.key, delivery.seq)
            blocked = await self.backend.blocked(tenant, first, worker.owner)
            held = {d.id for d in deliveries if d.key not in blocked}
        await self.backend.enqueue(
            tenant,
            deliveries,
            owner=worker.owner,
            lease_until=iso_at(self.settings.lease),
            held=held,
        )
        await worker.take(tenant, [d for d in deliveries if d.id in held], epoch)
        if len(held) < len(deliveries):
            worker.stored(tenant)

    def watching(self, tenant: str | None) -> bool:
        return self.registry.index.has_tenant(tenant)

    async def entities_changed(self, changes: Sequence[EntityChange]) -> None:
        """Match the writes against the subscriptions and store their notifications."""
        if not len(self.registry.index):
            return  # no subscription at all: a write costs nothing more
        now = now_iso()
        queued: dict[str | None, list[Delivery]] = {}
        for change in changes:
            if change.old is change.new:
                continue  # nothing was written
            diff = attribute_diff(change.old, change.new)
            stamp = change.new["modifiedAt"] if change.new is not None else now
            for compiled in self.registry.index.candidates(change, diff):
                try:
                    reason = match_change(compiled, change, diff, now)
                    if reason is None:
                        continue
                    data = change_data(compiled, change, diff, reason, now)
                except Exception:  # a bug must not turn a done write into a 500
                    log.exception("matching %s against %s failed", change.entity_id, compiled.id)
                    continue
                throttling = compiled.sub.get("throttling")
                if throttling and not await self.backend.claim_throttle(
                    compiled.tenant, compiled.id, now, iso_at(float(throttling))
                ):
                    continue
                notification = new_notification(compiled.id, [data], reason)
                key = f"{compiled.id}|{change.entity_id}"
                queued.setdefault(change.tenant, []).append(
                    self._delivery(compiled, notification, key, stamp)
                )
        for tenant, deliveries in queued.items():
            await self._queue(tenant, deliveries)
