"""Everything that talks to MongoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandListener

from .contexts import ContextStore
from .entities import EntityQuery, EntityStore, Selector
from .models import ModelStore
from .tenants import TenantDirectory

__all__ = [
    "ContextStore",
    "EntityQuery",
    "EntityStore",
    "ModelStore",
    "Selector",
    "Store",
    "TenantDirectory",
    "connect",
]


def connect(
    uri: str, event_listeners: Sequence[CommandListener] = ()
) -> AsyncMongoClient[dict[str, Any]]:
    """The one client of the process (it pools connections); listeners see its commands."""
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        appname="kaido",
        serverSelectionTimeoutMS=5000,
        event_listeners=list(event_listeners),
    )


class Store:
    """The broker's view of its databases: tenants, their entities and hosted @contexts."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], prefix: str) -> None:
        self.client = client
        self.tenants = TenantDirectory(client, prefix)
        self._entities: dict[str, EntityStore] = {}

    async def entities(self, tenant: str | None, *, create: bool = False) -> EntityStore:
        db = await self.tenants.database(tenant, create=create)
        store = self._entities.get(db.name)
        if store is None:
            store = self._entities[db.name] = EntityStore(db, set())
        return store

    async def contexts(self, tenant: str | None, *, create: bool = False) -> ContextStore:
        """The @contexts hosted for a tenant (each tenant hosts its own, as Orion-LD does)."""
        return ContextStore(await self.tenants.database(tenant, create=create))

    async def models(self, tenant: str | None, *, create: bool = False) -> ModelStore:
        """The data models a tenant registered, and its enforcement mode."""
        return ModelStore(await self.tenants.database(tenant, create=create))

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def server_info(self) -> dict[str, Any]:
        info: dict[str, Any] = await self.client.admin.command("buildInfo")
        return info

    async def close(self) -> None:
        await self.client.close()
