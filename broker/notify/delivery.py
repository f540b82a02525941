"""Delivery workers: claim notifications from the outbox, send them, retry with backoff.

A worker claims due items of a tenant with a lease (at most one per subscription and
entity at a time, in order), sends them concurrently (bounded per process and per
endpoint), deletes them on success and reschedules them on failure, doubling the wait
each time up to ``backoff_max``; after ``max_attempts`` an item is given up ("dead").
It wakes up at once when this process enqueues something, and polls every ``poll``
seconds for work left by other processes (retries, crashes, restarts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from urllib.parse import urlsplit

from ..metrics import NOTIFICATIONS_FAILED, NOTIFICATIONS_SENT
from ..ngsild.datetimes import now_iso
from ..ngsild.notification import Delivery, envelope, iso_at
from .ports import Backend, DeliveryError, Sender
from .settings import NotifySettings

__all__ = ["DeliveryWorker"]

log = logging.getLogger("kaido.notify")


class DeliveryWorker:
    def __init__(
        self, backend: Backend, senders: dict[str, Sender], settings: NotifySettings
    ) -> None:
        self.backend = backend
        self.senders = senders
        self.settings = settings
        self.owner = f"{uuid.uuid4().hex}"
        self._woken: set[str | None] = set()
        self._event = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._touched: set[str | None] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._last_sweep = 0.0
        #: Set when the notifier stops: the loop ends even if a cancellation was swallowed.
        self.stopping = False

    def wake(self, tenant: str | None) -> None:
        self._woken.add(tenant)
        self._event.set()

    async def run(self) -> None:
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.settings.poll)
            self._event.clear()
            tenants = set(self._woken)
            self._woken.clear()
            if time.monotonic() - self._last_sweep >= self.settings.poll:
                self._last_sweep = time.monotonic()
                try:
                    tenants.update(await self.backend.tenants())
                except Exception:
                    log.exception("cannot list the tenants")
            for tenant in tenants:
                if self.stopping:
                    return
                try:
                    await self._drain(tenant)
                except Exception:
                    if not self.stopping:
                        log.exception("delivery of tenant %s's notifications failed", tenant)

    async def _drain(self, tenant: str | None) -> None:
        while not self.stopping:
            free = self.settings.concurrency - len(self._inflight)
            if free <= 0:
                await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            now = now_iso()
            items = await self.backend.claim(
                tenant, self.owner, now, iso_at(self.settings.lease), free
            )
            if not items:
                return
            self._touched.add(tenant)
            for item in items:
                task = asyncio.create_task(self._deliver(item))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def _deliver(self, item: Delivery) -> None:
        item.attempts += 1
        scheme = urlsplit(item.endpoint["uri"]).scheme.lower()
        channel = "mqtt" if scheme.startswith("mqtt") else "http"
        sender = self.senders.get(channel)
        try:
            if sender is None:
                raise DeliveryError(f"no sender for {scheme!r} endpoints")
            headers, body = envelope(item, now_iso())
            await sender.send(item, headers, body)
        except Exception as err:
            reason = str(err) if isinstance(err, DeliveryError) else f"internal error: {err!r}"
            if not isinstance(err, DeliveryError):
                log.exception("sending notification %s failed", item.id)
            outcome = self._failed(item, reason)
            NOTIFICATIONS_FAILED.labels(channel=channel).inc()
        else:
            outcome = self.backend.delivered(item, self.owner, now_iso())
            NOTIFICATIONS_SENT.labels(channel=channel).inc()
        try:
            await outcome
        except Exception:  # the store is down: the lease runs out and it is sent again
            log.exception("cannot record the delivery of notification %s", item.id)
        self.wake(item.tenant)  # the next item of this key may now go

    async def _failed(self, item: Delivery, reason: str) -> None:
        give_up = item.attempts >= self.settings.max_attempts
        delay = self.settings.backoff(item.attempts)
        retry_at = None if give_up else iso_at(delay)
        log.info(
            "notification %s of %s to %s failed (attempt %d%s): %s",
            item.id,
            item.subscription_id,
            item.endpoint["uri"],
            item.attempts,
            ", given up" if give_up else f", retry in {delay:g} s",
            reason,
        )
        await self.backend.failed(item, self.owner, now_iso(), reason, retry_at)
        if not give_up:
            loop = asyncio.get_running_loop()
            self._timers.append(loop.call_later(delay + 0.01, self.wake, item.tenant))
            self._timers = [t for t in self._timers if not t.cancelled()][-1000:]

    async def stop(self, grace: float = 5.0) -> None:
        """Let deliveries in flight finish (up to grace seconds), then hand back leases."""
        for timer in self._timers:
            timer.cancel()
        self.stopping = True
        if self._inflight:
            _, pending = await asyncio.wait(self._inflight, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=grace)
        for tenant in self._touched:
            with contextlib.suppress(Exception):
                await self.backend.release(tenant, self.owner)
