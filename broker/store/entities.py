"""Entity documents of one tenant: create, read, query, and all-or-nothing updates.

Updates are read-modify-write with optimistic concurrency: the entity is read with its
``rev``, the pure operation from ngsild.operations computes the new entity, and the
write only succeeds if ``rev`` is unchanged (else it is retried on fresh data). Every
update is therefore one atomic single-document write, any update can be expressed
(partial updates with datasetIds, merges, 207 partial results), and the caller gets
both the old and the new entity (for notifications and validation).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from ..ngsild.errors import AlreadyExists, InternalError, ResourceNotFound
from ..ngsild.geoquery import GeoQuery
from ..ngsild.model import Entity
from ..ngsild.q import QueryNode, TypeExpr
from .documents import READ_PROJECTION, from_document, from_owned_document, to_document
from .filters import q_filter, type_filter
from .geo import geo_attribute_names, indexable
from .geofilters import geo_filter
from .indexes import ENTITIES, ensure_geo_index
from .reads import PointReads
from .scopefilters import scope_filter

__all__ = ["MAX_RETRIES", "EntityQuery", "EntityStore", "Selector"]

T = TypeVar("T")
MAX_RETRIES = 50


@dataclass(frozen=True, slots=True)
class Selector:
    """An EntitySelector (clause 5.2.33): ids, or an id pattern, of some types."""

    types: TypeExpr | None = None
    ids: Sequence[str] | None = None
    id_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """The filters of Query Entities that the store evaluates (clause 5.7.2)."""

    selectors: Sequence[Selector] = ()
    attrs: Collection[str] | None = None
    q: QueryNode | None = None
    geo: GeoQuery | None = None
    scope_q: str | None = None
    limit: int = 20
    offset: int = 0
    count: bool = False


class EntityStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], geo_indexed: set[str]) -> None:
        self.db = db
        self.collection = db[ENTITIES]
        # Names of the GeoProperties that already have a 2dsphere index (shared per tenant).
        self._geo_indexed = geo_indexed
        self._reads = PointReads(self.collection, READ_PROJECTION)

    async def index_geo(self, entity: Entity) -> None:
        """Give every GeoProperty of the entity a 2dsphere index (once per name)."""
        for iri in geo_attribute_names(entity):
            if iri not in self._geo_indexed:
                await ensure_geo_index(self.db, iri)
                self._geo_indexed.add(iri)

    async def create(self, entity: Entity) -> None:
        await self.index_geo(entity)
        try:
            with indexable():
                await self.collection.insert_one(to_document(entity, 1))
        except DuplicateKeyError:
            raise AlreadyExists(f"Entity {entity['id']!r} already exists") from None

    async def get(self, entity_id: str) -> Entity | None:
        doc = await self._reads.get(entity_id)
        return None if doc is None else from_owned_document(doc)

    async def delete(self, entity_id: str) -> Entity:
        doc = await self.collection.find_one_and_delete({"_id": entity_id})
        if doc is None:
            raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
        return from_document(doc)

    async def modify(
        self, entity_id: str, change: Callable[[Entity], tuple[Entity, T]]
    ) -> tuple[Entity, Entity, T]:
        """Apply change to the stored entity atomically; returns (old, new, change's result).

        change must be pure: it may run more than once if another writer gets in between.
        """
        for _ in range(MAX_RETRIES):
            doc = await self.collection.find_one({"_id": entity_id})
            if doc is None:
                raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
            old = from_document(doc)
            new, result = change(old)
            if new is old:
                return old, new, result
            await self.index_geo(new)
            rev = doc.get("rev", 0)
            with indexable():
                replaced = await self.collection.replace_one(
                    {"_id": entity_id, "rev": rev}, to_document(new, rev + 1)
                )
            if replaced.matched_count:
                return old, new, result
        raise InternalError(f"Entity {entity_id!r} is being changed too often to update it now")

    async def modify_fast(
        self,
        entity_id: str,
        fast: tuple[dict[str, Any], dict[str, Any] | list[dict[str, Any]]],
        change: Callable[[Entity], tuple[Entity, T]],
        types: Sequence[str] | None = None,
    ) -> tuple[Entity, Entity, T]:
        """One-round-trip form of modify: the update is applied by the store, and change
        (the same operation as a pure function) gives the new entity from the old one.

        If the update's filter matches nothing (no such entity, attribute or kind), the
        general path runs, which raises the precise error.
        """
        flt: dict[str, Any] = {"_id": entity_id, **fast[0]}
        if types is not None:
            flt["type"] = {"$in": list(types)}
        with indexable():
            before = await self.collection.find_one_and_update(
                flt, fast[1], return_document=ReturnDocument.BEFORE
            )
        if before is None:
            return await self.modify(entity_id, change)
        old = from_document(before)
        new, result = change(old)
        await self.index_geo(new)
        return old, new, result

    @staticmethod
    def _selector_filter(selector: Selector) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if selector.types is not None:
            parts.append(type_filter(selector.types))
        if selector.ids:
            parts.append({"_id": {"$in": list(selector.ids)}})
        elif selector.id_pattern:
            # An id list wins over a pattern (clause 5.2.33).
            parts.append({"_id": {"$regex": selector.id_pattern}})
        return parts[0] if len(parts) == 1 else {"$and": parts} if parts else {}

    def _filter(self, query: EntityQuery) -> dict[str, Any]:
        """One MongoDB filter for the whole query: the store does all the filtering."""
        parts: list[dict[str, Any]] = []
        selectors = [self._selector_filter(s) for s in query.selectors]
        selectors = [s for s in selectors if s]
        if len(selectors) == 1:
            parts.append(selectors[0])
        elif selectors:
            parts.append({"$or": selectors})
        if query.attrs:
            parts.append({"attrNames": {"$in": list(query.attrs)}})
        if query.q is not None:
            parts.append(q_filter(query.q))
        if query.geo is not None:
            parts.append(geo_filter(query.geo))
        if query.scope_q is not None:
            parts.append(scope_filter(query.scope_q))
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"$and": parts}

    async def query(self, query: EntityQuery) -> tuple[list[Entity], int | None]:
        flt = self._filter(query)
        total = await self.collection.count_documents(flt) if query.count else None
        if query.limit == 0:
            return [], total
        cursor = (
            self.collection.find(flt, READ_PROJECTION)
            .sort([("_id", ASCENDING)])
            .skip(query.offset)
            .limit(query.limit)
        )
        # to_list: one await per batch rather than one per document.
        return [from_owned_document(doc) for doc in await cursor.to_list()], total
