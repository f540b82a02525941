"""Tenants (clause 4.14): one MongoDB database each, created on first write.

Isolation by database keeps one municipality's data, indexes and load apart from
another's, and lets an operator back up or drop one tenant alone. A tenant needs no
configuration and no restart: the first write registers it in the ``tenants``
collection of the main database, which every broker process reads, so a tenant created
through one process is known to all.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, NonexistentTenant
from .indexes import ensure_indexes

__all__ = ["TenantDirectory"]

_SAFE = re.compile(r"[A-Za-z0-9_-]{1,40}\Z")
_MAX_TENANT = 256


class TenantDirectory:
    """Finds (and on write, creates) the database of a tenant."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.main: AsyncDatabase[dict[str, Any]] = client[prefix]
        self._known: dict[str, str] = {}
        self._indexed: set[str] = set()
        self._databases: dict[str, AsyncDatabase[dict[str, Any]]] = {}

    def database_name(self, tenant: str) -> str:
        """A valid database name for any tenant string, readable when it can be."""
        if _SAFE.match(tenant):
            return f"{self.prefix}-{tenant}"
        digest = hashlib.sha256(tenant.encode()).hexdigest()[:16]
        readable = re.sub(r"[^A-Za-z0-9_-]", "_", tenant)[:24]
        return f"{self.prefix}-{readable}-{digest}"

    @staticmethod
    def check_name(tenant: str) -> None:
        if not tenant or len(tenant) > _MAX_TENANT or any(ord(c) < 32 for c in tenant):
            raise BadRequestData(
                f"Invalid NGSILD-Tenant {tenant[:80]!r}: "
                f"use 1 to {_MAX_TENANT} printable characters"
            )

    async def database(self, tenant: str | None, *, create: bool) -> AsyncDatabase[dict[str, Any]]:
        """The tenant's database; NonexistentTenant if it does not exist and create is False."""
        if tenant is None:
            name = self.prefix
        else:
            name = self._known.get(tenant) or ""
            if not name:
                self.check_name(tenant)
                name = self.database_name(tenant)
                record = await self.main["tenants"].find_one({"_id": tenant}, {"_id": 1})
                if record is None:
                    if not create:
                        raise NonexistentTenant(f"Tenant {tenant!r} does not exist")
                    # Another request or process may create it first: that is fine.
                    with contextlib.suppress(DuplicateKeyError):
                        await self.main["tenants"].insert_one(
                            {"_id": tenant, "database": name, "createdAt": now_iso()}
                        )
                self._known[tenant] = name
        db = self._databases.get(name)
        if db is None:
            db = self._databases[name] = self.client[name]
        if create and name not in self._indexed:
            await ensure_indexes(db)
            self._indexed.add(name)
        return db

    async def names(self) -> list[str]:
        return [t["_id"] async for t in self.main["tenants"].find({}, {"_id": 1})]
