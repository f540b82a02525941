"""The subscriptions this process matches against, kept coherent with MongoDB.

Every process holds the active subscriptions of all tenants in memory (a
SubscriptionIndex) and re-reads, every ``subscription_poll`` seconds, the subscription
documents whose ``modifiedAt`` is recent. A change made through any process is thus
applied everywhere within one poll interval (plus the time the poll takes); the process
that made it applies it at once (refresh).

A poll costs one query for all tenants: every subscription write increases its tenant's
counter (store.subscriptions.MARKS), and only the tenants whose counter moved are read
again. An idle deployment of many tenants is thus not re-read tenant by tenant every
second. Every ``sweep`` seconds all tenants are read anyway, in case a writer stopped
between a subscription and its counter. Change streams would be faster but need a
replica set; polling works on any deployment. Each poll reads again the last few seconds
(``OVERLAP``) so that a write whose timestamp was taken just before the previous poll, but
that landed after it, is not missed; versions already applied are skipped by ``rev``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from ..ngsild.matching import Compiled, SubscriptionIndex, compile_subscription
from ..ngsild.notification import iso_at
from .ports import Backend, ResolveContext

__all__ = ["OVERLAP", "Registry"]

log = logging.getLogger("kaido.notify")

#: Seconds of subscription changes read again at each poll (clock skew, slow writes).
OVERLAP = 5.0
#: How long a deleted subscription's tombstone is kept for other processes to see it.
TOMBSTONE_SECONDS = 3600.0


class Registry:
    def __init__(self, backend: Backend, resolve: ResolveContext, sweep: float = 30.0) -> None:
        self.backend = backend
        self.resolve = resolve
        self.sweep = sweep
        self.index = SubscriptionIndex()
        #: Per tenant: when (epoch) the last poll started.
        self._polled: dict[str | None, float] = {}
        #: Per tenant: its subscription write counter when it was last read.
        self._marks: dict[str | None, int] = {}
        self._swept = 0.0
        #: Subscriptions whose @context could not be resolved: tried again at each poll.
        self._pending: set[tuple[str | None, str]] = set()
        self._purged = time.time()

    def periodic(self) -> list[Compiled]:
        return [c for c in self.index.all() if c.periodic]

    async def _compile(self, tenant: str | None, doc: dict[str, Any]) -> Compiled:
        sub = {"id": doc["_id"], **doc["sub"]}
        source = orjson.loads(doc["context"])
        query_ctx = await self.resolve(source, tenant)
        render_source = sub.get("jsonldContext", source)
        render_ctx = (
            query_ctx if "jsonldContext" not in sub else await self.resolve(render_source, tenant)
        )
        return compile_subscription(tenant, sub, doc["rev"], query_ctx, render_ctx, render_source)

    async def apply(self, tenant: str | None, doc: dict[str, Any]) -> None:
        """Bring one subscription document into the index (or out, if deleted)."""
        key = (tenant, doc["_id"])
        if doc.get("deleted"):
            self.index.remove(tenant, doc["_id"])
            self._pending.discard(key)
            return
        current = self.index.get(tenant, doc["_id"])
        if current is not None and current.rev >= doc["rev"]:
            return
        try:
            compiled = await self._compile(tenant, doc)
        except Exception as err:  # a remote @context may be down: keep trying
            log.warning("subscription %s: cannot load it yet: %s", doc["_id"], err)
            self._pending.add(key)
            return
        self._pending.discard(key)
        self.index.put(compiled)

    async def refresh(self, tenant: str | None, sub_id: str) -> None:
        """Apply the stored version of one subscription now (after a write through here)."""
        doc = await self.backend.subscription(tenant, sub_id)
        if doc is None:
            self.index.remove(tenant, sub_id)
        else:
            await self.apply(tenant, doc)

    async def poll(self) -> None:
        """Read the subscription changes since the last poll: of the tenants whose write
        counter moved, or of every tenant when a sweep is due."""
        marks = await self.backend.subscription_marks()
        if time.time() - self._swept >= self.sweep:
            self._swept = time.time()
            tenants = await self.backend.tenants()
        else:
            tenants = [t for t, n in marks.items() if self._marks.get(t) != n]
        for tenant in tenants:
            started = time.time()
            last = self._polled.get(tenant)
            since = None if last is None else iso_at(last - OVERLAP - started)
            for doc in await self.backend.subscriptions_changed(tenant, since):
                await self.apply(tenant, doc)
            self._polled[tenant] = started
            if tenant in marks:  # read before the poll: a write since moves it again
                self._marks[tenant] = marks[tenant]
        for tenant, sub_id in list(self._pending):
            await self.refresh(tenant, sub_id)
        if time.time() - self._purged > TOMBSTONE_SECONDS / 10:
            self._purged = time.time()
            for tenant in self._polled:
                await self.backend.purge_tombstones(tenant, iso_at(-TOMBSTONE_SECONDS))
