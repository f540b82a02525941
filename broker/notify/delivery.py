"""Delivery workers: send notifications held in memory or claimed from the outbox.

Items reach a worker two ways. Those this process has just queued come straight from
memory (they were inserted already leased to it: no claim, no extra round trip); others
(retries, items held back by an earlier one of their key, work left by a process that
stopped or died) are claimed from the outbox with a lease. Either way the worker keeps one
chain per key (subscription + entity): only the first item of a chain is being sent, so
items of a key go out in order. Items are sent concurrently across keys (bounded per
process and per endpoint), deleted on success and rescheduled on failure, doubling the
wait each time up to ``backoff_max``; after ``max_attempts`` an item is given up ("dead").
A failure hands the rest of its chain back to the outbox (so that nothing overtakes the
retry). The worker claims at once when it knows the outbox holds work for it, and polls
every ``poll`` seconds for work left by other processes. A tenant whose claims keep
finding nothing, and that has no activity here, is polled less and less often (the wait
doubles, up to ``idle_poll``): many idle tenants then cost little, and what a stopped
process left is still found within ``idle_poll`` seconds (its leases last longer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
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
        #: Set whenever a task in flight ends (a claim may then take its place).
        self._slot = asyncio.Event()
        self._touched: set[str | None] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._last_sweep = 0.0
        #: Per tenant: when (monotonic) its last claim started, and how many claims in a
        #: row found nothing with no activity here (its polls are then spaced out).
        self._quiet: dict[str | None, tuple[float, int]] = {}
        #: Items held by this process, per key: the first is being sent, the rest wait.
        self._chains: dict[str, deque[Delivery]] = {}
        #: Per item held (its id), the monotonic time after which its lease is too short
        #: to start sending it; its size is how many items this process holds.
        self._deadlines: dict[str, float] = {}
        #: Tenants whose outbox may hold items for a claim (as far as this process knows).
        self._stored: set[str | None] = set()
        #: Per tenant: operations in flight during which the outbox and this process's
        #: memory disagree on what it holds (a claim leased, not yet dispatched; items taken
        #: out of memory, not yet released), and how many have begun. See epoch().
        self._unsettled: dict[str | None, int] = {}
        self._epochs: dict[str | None, int] = {}
        #: Set when the notifier stops: the loop ends even if a cancellation was swallowed.
        self.stopping = False

    def epoch(self, tenant: str | None) -> int | None:
        """None while the outbox and this process's memory may disagree on which items of
        tenant it holds, else a number that changes each time they may start to.

        Backend.blocked leaves this process's own items out, trusting that they are in its
        memory, ahead of anything it queues there. A new item held on its word may be
        queued in memory only if the epoch of the check still holds (see take): else an
        earlier item of its key, leased here or let go meanwhile, could go after it."""
        return None if tenant in self._unsettled else self._epochs.get(tenant, 0)

    @contextlib.contextmanager
    def _unsettling(self, tenant: str | None) -> Iterator[None]:
        self._epochs[tenant] = self._epochs.get(tenant, 0) + 1
        self._unsettled[tenant] = self._unsettled.get(tenant, 0) + 1
        try:
            yield
        finally:
            left = self._unsettled.pop(tenant) - 1
            if left:
                self._unsettled[tenant] = left

    async def take(self, tenant: str | None, items: Sequence[Delivery], epoch: int | None) -> None:
        """Items just inserted leased to this process, checked in epoch: sent from memory
        if that epoch still holds, else handed back to the outbox to be claimed in order."""
        if not items:
            return
        if epoch is not None and self.epoch(tenant) == epoch:
            self.dispatch(items)
            return
        with self._unsettling(tenant):
            await self._release(tenant, [i.id for i in items])
        self.stored(tenant)

    async def _release(self, tenant: str | None, ids: list[str]) -> None:
        """Hand items held here back to the outbox (for anyone's next claim)."""
        try:
            await self.backend.release_items(tenant, ids, self.owner)
        except Exception:  # their leases run out, then they are claimed
            log.exception("cannot hand notifications back to the outbox")

    def wake(self, tenant: str | None) -> None:
        self._woken.add(tenant)
        self._event.set()

    def room(self, n: int) -> bool:
        """Whether n more items may be held in memory (beyond it they wait in the outbox)."""
        return not self.stopping and len(self._deadlines) + n <= self.settings.memory_queue

    def stored(self, tenant: str | None) -> None:
        """Items of tenant were left in the outbox: claim now, and again shortly (the item
        holding them back may be deleted only a few milliseconds later)."""
        self._stored.add(tenant)
        self.wake(tenant)
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(0.05, self.wake, tenant))
        self._prune_timers()

    def dispatch(self, items: Sequence[Delivery]) -> None:
        """Send items leased to this process, each after those of its key already held."""
        deadline = time.monotonic() + self.settings.lease - self.settings.timeout - 1
        for item in items:
            self._touched.add(item.tenant)
            self._deadlines[item.id] = deadline
            chain = self._chains.get(item.key)
            if chain is not None:
                chain.append(item)
                continue
            self._chains[item.key] = deque((item,))
            self._start(item)

    def _start(self, item: Delivery) -> None:
        if time.monotonic() > self._deadlines.get(item.id, float("inf")):
            # Held too long (a slow endpoint): its lease may run out while it is sent.
            task = asyncio.create_task(self._hand_back(item))
        else:
            task = asyncio.create_task(self._deliver(item))
        self._inflight.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._slot.set()

    def _finish(self, item: Delivery) -> None:
        """Take item (done with) off its chain and start the next one of its key."""
        self._deadlines.pop(item.id, None)
        chain = self._chains.get(item.key)
        if not chain or chain[0] is not item:
            return
        chain.popleft()
        if not chain:
            del self._chains[item.key]
        elif not self.stopping:  # else the outbox gets them back with the leases
            self._start(chain[0])

    async def _hand_back_chain(self, item: Delivery, *, with_item: bool = False) -> None:
        """Let go of item and the items waiting behind it: those go back to the outbox
        (item too if with_item; a retry is already there) in one update, and the outbox's
        claims then keep their order."""
        with self._unsettling(item.tenant):
            self._deadlines.pop(item.id, None)
            chain = self._chains.pop(item.key, None)
            rest = [other for other in chain or () if other is not item]
            for other in rest:
                self._deadlines.pop(other.id, None)
            ids = [item.id] if with_item else []
            ids.extend(other.id for other in rest)
            if ids:
                await self._release(item.tenant, ids)
        self.stored(item.tenant)

    async def _hand_back(self, item: Delivery) -> None:
        """Held too long to be sent safely now: item and its chain go back to the outbox."""
        await self._hand_back_chain(item, with_item=True)

    async def run(self) -> None:
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.settings.poll)
            self._event.clear()
            woken = set(self._woken)
            self._woken.clear()
            tenants = set(woken)
            now = time.monotonic()
            if now - self._last_sweep >= self.settings.poll:
                self._last_sweep = now
                try:
                    tenants.update(t for t in await self.backend.tenants() if self._due(t, now))
                except Exception:
                    log.exception("cannot list the tenants")
            for tenant in tenants:
                if self.stopping:
                    return
                try:
                    found = await self._drain(tenant)
                    _, empty = self._quiet.get(tenant, (0.0, 0))
                    self._quiet[tenant] = (now, 0 if found or tenant in woken else empty + 1)
                except Exception:
                    if not self.stopping:
                        log.exception("delivery of tenant %s's notifications failed", tenant)

    def _due(self, tenant: str | None, now: float) -> bool:
        """Whether the periodic poll claims for tenant now: each time while its claims
        find work, then after a wait that doubles with each empty one, up to idle_poll."""
        last, empty = self._quiet.get(tenant, (0.0, 0))
        wait = min(self.settings.poll * 2.0 ** min(empty, 20), self.settings.idle_poll)
        return now - last >= wait

    async def _drain(self, tenant: str | None) -> bool:
        """Claim and dispatch tenant's claimable items until none is left; whether any was."""
        found = False
        while not self.stopping:
            free = self.settings.concurrency - len(self._inflight)
            if free <= 0:
                # Not asyncio.wait(self._inflight): with thousands of items in flight,
                # that costs a callback on each of them every time one ends.
                self._slot.clear()
                await self._slot.wait()
                continue
            now = now_iso()
            with self._unsettling(tenant):
                items = await self.backend.claim(
                    tenant, self.owner, now, iso_at(self.settings.lease), free
                )
                self.dispatch(items)
            if not items:
                self._stored.discard(tenant)
                return found
            found = True
            self._stored.add(tenant)
        return found

    async def _deliver(self, item: Delivery) -> None:
        item.attempts += 1
        scheme = urlsplit(item.endpoint["uri"]).scheme.lower()
        channel = "mqtt" if scheme.startswith("mqtt") else "http"
        sender = self.senders.get(channel)
        retry = False
        try:
            if sender is None:
                raise DeliveryError(f"no sender for {scheme!r} endpoints")
            headers, body = envelope(item, now_iso())
            await sender.send(item, headers, body)
        except Exception as err:
            reason = str(err) if isinstance(err, DeliveryError) else f"internal error: {err!r}"
            if not isinstance(err, DeliveryError):
                log.exception("sending notification %s failed", item.id)
            retry = item.attempts < self.settings.max_attempts
            outcome = self._failed(item, reason)
            NOTIFICATIONS_FAILED.labels(channel=channel).inc()
        else:
            outcome = self.backend.delivered(item, self.owner, now_iso())
            NOTIFICATIONS_SENT.labels(channel=channel).inc()
        try:
            await outcome
        except Exception:  # the store is down: the lease runs out and it is sent again
            log.exception("cannot record the delivery of notification %s", item.id)
        if retry:
            # The retry waits in the outbox: what waits behind it in memory goes there too.
            await self._hand_back_chain(item)
            return
        self._finish(item)
        if item.tenant in self._stored:
            self.wake(item.tenant)  # the next item of this key may be in the outbox

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
            self._stored.add(item.tenant)
            loop = asyncio.get_running_loop()
            self._timers.append(loop.call_later(delay + 0.01, self.wake, item.tenant))
            self._prune_timers()

    def _prune_timers(self) -> None:
        if len(self._timers) > 1000:
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
