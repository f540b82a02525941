"""What the notifier needs from the outside: storage (implemented by
broker.store.subscriptions.NotifierBackend), @context resolution and senders.

The notifier depends on these protocols only, so that it imports neither the store nor
the API (dependencies point from api to notify, and from notify to ngsild).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from ..ngsild.context import Context
from ..ngsild.model import Entity
from ..ngsild.notification import Delivery

__all__ = ["Backend", "DeliveryError", "ResolveContext", "Sender"]

#: Resolves a @context (URL, list, object or None) for a tenant.
ResolveContext = Callable[[object, str | None], Awaitable[Context]]


class DeliveryError(Exception):
    """A notification could not be delivered; the message says why (kept as the reason)."""


class Sender(Protocol):
    async def send(self, delivery: Delivery, headers: dict[str, str], body: Any) -> None:
        """Deliver, or raise DeliveryError."""

    async def close(self) -> None: ...


class Backend(Protocol):
    async def tenants(self) -> list[str | None]: ...

    async def subscription_marks(self) -> dict[str | None, int]: ...

    async def subscriptions_changed(
        self, tenant: str | None, since: str | None
    ) -> list[dict[str, Any]]: ...

    async def subscription(self, tenant: str | None, sub_id: str) -> dict[str, Any] | None: ...

    async def purge_tombstones(self, tenant: str | None, before: str) -> None: ...

    async def enqueue(
        self,
        tenant: str | None,
        deliveries: Sequence[Delivery],
        *,
        owner: str | None = None,
        lease_until: str = "",
        held: Collection[str] = (),
    ) -> None: ...

    async def blocked(
        self, tenant: str | None, first_seqs: Mapping[str, str], owner: str
    ) -> set[str]: ...

    async def release_items(
        self, tenant: str | None, item_ids: Sequence[str], owner: str
    ) -> None: ...

    async def claim(
        self, tenant: str | None, owner: str, now: str, lease_until: str, limit: int
    ) -> list[Delivery]: ...

    async def delivered(self, delivery: Delivery, owner: str, when: str) -> None: ...

    async def failed(
        self, delivery: Delivery, owner: str, when: str, error: str, retry_at: str | None
    ) -> None: ...

    async def release(self, tenant: str | None, owner: str) -> None: ...

    async def claim_throttle(
        self, tenant: str | None, sub_id: str, now: str, until: str
    ) -> bool: ...

    async def claim_firing(
        self, tenant: str | None, sub_id: str, now: str, following: str
    ) -> tuple[bool, str | None]: ...

    async def entities(
        self, tenant: str | None, selectors: Sequence[dict[str, str]], limit: int
    ) -> list[Entity]: ...
