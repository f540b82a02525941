"""Data models registered by a tenant, and the tenant's enforcement mode (issue 5).

Kept in the tenant's database so that every broker process sees the same models; each
change bumps a version number that processes compare to know when to reload.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["ModelStore"]

_SETTINGS_ID = "models"


class ModelStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.models = db["models"]
        self.settings = db["settings"]

    async def list(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.models.find({}).sort("_id", 1)]

    async def put(self, name: str, schema: dict[str, Any], now: str) -> bool:
        """Store a model; True if it is new."""
        result = await self.models.replace_one(
            {"_id": name}, {"_id": name, "schema": schema, "modifiedAt": now}, upsert=True
        )
        await self._bump()
        return result.upserted_id is not None

    async def delete(self, name: str) -> bool:
        result = await self.models.delete_one({"_id": name})
        if result.deleted_count:
            await self._bump()
        return result.deleted_count == 1

    async def _bump(self) -> None:
        await self.settings.update_one({"_id": _SETTINGS_ID}, {"$inc": {"version": 1}}, upsert=True)

    async def state(self) -> tuple[int, str | None]:
        """(version of the tenant's models, enforcement mode or None for the default)."""
        doc = await self.settings.find_one({"_id": _SETTINGS_ID})
        if doc is None:
            return 0, None
        return int(doc.get("version", 0)), doc.get("enforcement")

    async def set_enforcement(self, mode: str) -> None:
        await self.settings.find_one_and_update(
            {"_id": _SETTINGS_ID},
            {"$set": {"enforcement": mode}, "$inc": {"version": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
