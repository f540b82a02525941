"""Entity types and attributes present in a tenant (clause 5.7.5-5.7.10), by aggregation.

The store computes the lists; nothing is scanned in Python. Names come back expanded;
the API compacts them with the request's @context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .entities import EntityStore
from .keys import decode_key

__all__ = ["AttributeInfo", "TypeInfo", "attribute_infos", "type_infos"]


@dataclass(slots=True)
class TypeInfo:
    type: str
    entity_count: int = 0
    attributes: set[str] = field(default_factory=set)


@dataclass(slots=True)
class AttributeInfo:
    name: str
    entity_count: int = 0
    kinds: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


async def type_infos(store: EntityStore, only: str | None = None) -> dict[str, TypeInfo]:
    """Each entity type, with how many entities have it and their attribute names."""
    pipeline: list[dict[str, Any]] = [{"$match": {"type": only}}] if only else []
    pipeline += [
        {"$project": {"type": 1, "attrNames": 1}},
        {"$unwind": "$type"},
    ]
    if only:
        pipeline.append({"$match": {"type": only}})
    pipeline.append(
        {"$group": {"_id": "$type", "n": {"$sum": 1}, "names": {"$push": "$attrNames"}}}
    )
    out: dict[str, TypeInfo] = {}
    async for row in await store.collection.aggregate(pipeline):
        info = TypeInfo(row["_id"], row["n"])
        for names in row["names"]:
            info.attributes.update(names or ())
        out[row["_id"]] = info
    return out


async def attribute_infos(
    store: EntityStore, only: str | None = None, *, of_type: str | None = None
) -> dict[str, AttributeInfo]:
    """Each attribute name, with the entity types that have it and its kinds."""
    match: dict[str, Any] = {}
    if only:
        match["attrNames"] = only
    if of_type:
        match["type"] = of_type
    pipeline: list[dict[str, Any]] = [{"$match": match}] if match else []
    pipeline += [
        {"$project": {"type": 1, "a": {"$objectToArray": "$attrs"}}},
        {"$unwind": "$a"},
        {"$project": {"type": 1, "name": "$a.k", "i": {"$objectToArray": "$a.v"}}},
        {"$unwind": "$i"},
        {
            "$group": {
                "_id": {"name": "$name", "entity": "$_id"},
                "kinds": {"$addToSet": "$i.v.type"},
                "types": {"$first": "$type"},
            }
        },
    ]
    out: dict[str, AttributeInfo] = {}
    async for row in await store.collection.aggregate(pipeline):
        name = decode_key(row["_id"]["name"])
        if only and name != only:
            continue
        info = out.get(name)
        if info is None:
            info = out[name] = AttributeInfo(name)
        info.entity_count += 1
        info.kinds.update(row["kinds"])
        info.types.update(row["types"] or ())
    return out
