"""What every write produces for subscriptions: the entity before and after (clause 5.8).

The API hands each successful write to a ChangeListener (the notifier), whatever the
operation: create, update, append, merge, replace, delete and every batch operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from .model import Entity

__all__ = ["ChangeListener", "EntityChange", "NullListener"]


@dataclass(frozen=True, slots=True)
class EntityChange:
    tenant: str | None
    entity_id: str
    #: None when the entity was created.
    old: Entity | None
    #: None when the entity was deleted.
    new: Entity | None


class ChangeListener(Protocol):
    async def entities_changed(self, changes: Sequence[EntityChange]) -> None: ...

    def watching(self, tenant: str | None) -> bool:
        """Whether any subscription of tenant may want changes (False: the entity before a
        write need not be read whole, only what the write itself needs)."""
        ...


class NullListener:
    """Used when nothing listens (no notifier configured)."""

    async def entities_changed(self, changes: Sequence[EntityChange]) -> None:
        return None

    def watching(self, tenant: str | None) -> bool:
        return False
