"""@context documents hosted by the broker (the jsonldContexts API, clause 5.13).

They live in the tenant's database, so every broker process serves the same ones and a
municipality's vocabulary is managed by that municipality.
"""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ..ngsild.errors import AlreadyExists

__all__ = ["ContextStore"]


class ContextStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.collection = db["jsonldContexts"]

    async def add(self, record: dict[str, Any]) -> None:
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:
            raise AlreadyExists(f"@context {record['_id']!r} already exists") from None

    async def get(self, context_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": context_id})

    async def list(self, kind: str | None = None) -> list[dict[str, Any]]:
        flt = {} if kind is None else {"kind": kind}
        cursor = self.collection.find(flt).sort("createdAt", DESCENDING)
        return [doc async for doc in cursor]

    async def delete(self, context_id: str) -> bool:
        result = await self.collection.delete_one({"_id": context_id})
        return result.deleted_count == 1

    async def touch(self, context_id: str, now: str) -> None:
        await self.collection.update_one(
            {"_id": context_id}, {"$set": {"lastUsage": now}, "$inc": {"numberOfHits": 1}}
        )
