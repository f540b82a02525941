"""Periodic notifications (timeInterval, clause 5.8.6): once per interval in total.

Every process looks at its periodic subscriptions a few times per interval, but a firing
only happens in the process that wins the atomic claim of ``nextFire`` in MongoDB, so
several broker processes together still notify once per interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ..ngsild.datetimes import now_iso
from ..ngsild.matching import Compiled, Key, matches_entity
from ..ngsild.notification import entity_data, iso_at, new_notification
from ..ngsild.subscription import subscription_status
from .ports import Backend

__all__ = ["PeriodicScheduler"]

log = logging.getLogger("kaido.notify")

#: Enqueues (compiled, notification, ordering key, timestamp).
Fire = Callable[[Compiled, dict[str, Any], str, str], Awaitable[None]]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class PeriodicScheduler:
    def __init__(self, backend: Backend, limit: int, fire: Fire) -> None:
        self.backend = backend
        self.limit = limit
        self.fire = fire
        self._due: dict[Key, float] = {}

    async def tick(self, subscriptions: list[Compiled]) -> None:
        now = time.time()
        live = {c.key for c in subscriptions}
        for key in list(self._due):
            if key not in live:
                del self._due[key]
        for compiled in subscriptions:
            if now < self._due.get(compiled.key, 0.0):
                continue
            stamp = now_iso()
            interval = float(compiled.sub["timeInterval"])
            self._due[compiled.key] = now + interval
            if subscription_status(compiled.sub, stamp) != "active":
                continue
            try:
                won, following = await self.backend.claim_firing(
                    compiled.tenant, compiled.id, stamp, iso_at(interval)
                )
                if not won:
                    if following:
                        self._due[compiled.key] = _epoch(following)
                    continue
                await self._fire(compiled, stamp)
            except Exception:
                log.exception("periodic notification of %s failed", compiled.id)

    async def _fire(self, compiled: Compiled, stamp: str) -> None:
        entities = await self.backend.entities(
            compiled.tenant, compiled.sub["entities"], self.limit
        )
        data = [entity_data(compiled, e) for e in entities if matches_entity(compiled, e)]
        if data:
            notification = new_notification(compiled.id, data, "timeInterval")
            await self.fire(compiled, notification, f"{compiled.id}|*", stamp)
