"""The entity update operations of clause 5.6 as pure functions: old entity in, new out.

The store reads an entity, applies one of these and writes the result back only if no
one else wrote in between (see store.entities), so every operation is all-or-nothing,
and later the subscription matcher gets the exact before/after pair.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .errors import BadRequestData, ResourceNotFound
from .model import Attrs, Entity, Instance
from .parse import DELETE

__all__ = [
    "UpdateResult",
    "append_attrs",
    "delete_attr",
    "merge_entity",
    "partial_update_attr",
    "replace_attr",
    "replace_entity",
    "update_attrs",
]


@dataclass(slots=True)
class UpdateResult:
    """What an append/update did, for the 204/207 answer (clause 5.2.18 UpdateResult)."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)


def _find(instances: list[Instance], dataset_id: str | None) -> int:
    for i, inst in enumerate(instances):
        if inst.get("datasetId") == dataset_id:
            return i
    return -1


def _keep_created(new: Instance, old: Instance) -> Instance:
    new["createdAt"] = old["createdAt"]
    return new


def _shallow(entity: Entity) -> Entity:
    """A copy whose attribute lists may be changed without touching the original."""
    out = dict(entity)
    out["attrs"] = {k: list(v) for k, v in entity["attrs"].items()}
    return out


def append_attrs(
    entity: Entity, attrs: Attrs, now: str, *, no_overwrite: bool = False
) -> tuple[Entity, UpdateResult]:
    """Append Entity Attributes (clause 5.6.3): add, or overwrite unless noOverwrite."""
    new = _shallow(entity)
    result = UpdateResult()
    for iri, instances in attrs.items():
        current = new["attrs"].setdefault(iri, [])
        changed = False
        for inst in instances:
            at = _find(current, inst.get("datasetId"))
            if at < 0:
                current.append(inst)
                changed = True
            elif no_overwrite:
                continue
            else:
                current[at] = _keep_created(inst, current[at])
                changed = True
        if changed:
            result.updated.append(iri)
        else:
            result.not_updated.append((iri, "Attribute exists and options=noOverwrite was given"))
    if result.updated:
        new["modifiedAt"] = now
    return new, result


def update_attrs(entity: Entity, attrs: Attrs, now: str) -> tuple[Entity, UpdateResult]:
    """Update Entity Attributes (clause 5.6.2): only attributes that exist are replaced."""
    new = _shallow(entity)
    result = UpdateResult()
    for iri, instances in attrs.items():
        current = new["attrs"].get(iri)
        if current is None:
            result.not_updated.append((iri, "The entity has no such attribute"))
            continue
        missing = [i.get("datasetId") for i in instances if _find(current, i.get("datasetId")) < 0]
        if missing:
            which = missing[0] or "the default instance"
            result.not_updated.append((iri, f"The attribute has no instance with {which}"))
            continue
        for inst in instances:
            at = _find(current, inst.get("datasetId"))
            current[at] = _keep_created(inst, current[at])
        result.updated.append(iri)
    if result.updated:
        new["modifiedAt"] = now
    return new, result


def _merge_instance(old: Instance, patch: Instance, now: str) -> Instance:
    """Merge one instance: the patch's members win, sub-attributes are merged by name."""
    merged = copy.copy(old)
    if patch["type"] is not None:
        merged["type"] = patch["type"]
    if "value" in patch:
        merged["value"] = patch["value"]
    for member in ("observedAt", "unitCode", "objectType"):
        if member in patch:
            merged[member] = patch[member]
    if "sub" in patch:
        sub = dict(old.get("sub", {}))
        for iri, sub_patch in patch["sub"].items():
            if sub_patch is DELETE:
                sub.pop(iri, None)
            elif iri in sub:
                sub[iri] = _merge_instance(sub[iri], sub_patch, now)
            else:
                sub[iri] = _complete(sub_patch, iri)
        if sub:
            merged["sub"] = sub
        else:
            merged.pop("sub", None)
    merged["modifiedAt"] = now
    return merged


def _complete(inst: Instance, iri: str) -> Instance:
    """A merged-in instance that has nothing to merge with must be a whole attribute."""
    if inst is DELETE:
        raise BadRequestData(f"Cannot delete {iri!r}: it does not exist")
    if inst["type"] is None or "value" not in inst:
        raise BadRequestData(f"Attribute {iri!r} is new, so it needs a value")
    return inst


def partial_update_attr(
    entity: Entity, iri: str, name: str, patch: list[Instance], now: str
) -> Entity:
    """Partial Attribute Update (clause 5.6.4): merge into one existing instance."""
    current = entity["attrs"].get(iri)
    if current is None:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no attribute {name!r}")
    if len(patch) != 1:
        raise BadRequestData("A partial attribute update takes one attribute instance")
    inst = patch[0]
    if inst is DELETE:
        raise BadRequestData(
            f"A partial update of {name!r} cannot set it to null: delete the attribute instead"
        )
    at = _find(current, inst.get("datasetId"))
    if at < 0:
        raise ResourceNotFound(
            f"Attribute {name!r} has no instance with datasetId {inst.get('datasetId')!r}"
        )
    new = _shallow(entity)
    new["attrs"][iri][at] = _merge_instance(current[at], inst, now)
    new["modifiedAt"] = now
    return new


def replace_attr(entity: Entity, iri: str, name: str, instances: list[Instance], now: str) -> Entity:
    """Replace Attribute (clause 5.6.19): the instance with the same datasetId is replaced."""
    current = entity["attrs"].get(iri)
    if current is None:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no attribute {name!r}")
    new = _shallow(entity)
    target = new["attrs"][iri]
    for inst in instances:
        at = _find(target, inst.get("datasetId"))
        if at < 0:
            raise ResourceNotFound(
                f"Attribute {name!r} has no instance with datasetId {inst.get('datasetId')!r}"
            )
        target[at] = _keep_created(inst, target[at])
    new["modifiedAt"] = now
    return new


def delete_attr(
    entity: Entity,
    iri: str,
    name: str,
    now: str,
    *,
    dataset_id: str | None = None,
    delete_all: bool = False,
) -> Entity:
    """Delete Entity Attribute (clause 5.6.5): one instance, or all with deleteAll."""
    current = entity["attrs"].get(iri)
    if current is None:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no attribute {name!r}")
    new = _shallow(entity)
    if delete_all:
        del new["attrs"][iri]
    else:
        at = _find(current, dataset_id)
        if at < 0:
            which = f"datasetId {dataset_id!r}" if dataset_id else "a default instance"
            raise ResourceNotFound(f"Attribute {name!r} has no instance with {which}")
        remaining = [inst for i, inst in enumerate(current) if i != at]
        if remaining:
            new["attrs"][iri] = remaining
        else:
            del new["attrs"][iri]
    new["modifiedAt"] = now
    return new


def replace_entity(entity: Entity, replacement: Entity, now: str) -> Entity:
    """Replace Entity (clause 5.6.18): new types and attributes, same id and createdAt."""
    new: Entity = {
        "id": entity["id"],
        "type": replacement["type"] or entity["type"],
        "createdAt": entity["createdAt"],
        "modifiedAt": now,
        "attrs": replacement["attrs"],
    }
    if "scope" in replacement:
        new["scope"] = replacement["scope"]
    return new


def merge_entity(entity: Entity, types: list[str], attrs: Attrs, now: str) -> Entity:
    """Merge Entity (clause 5.6.17): JSON merge-patch semantics on attributes.

    New attributes are added, existing instances are merged member by member,
    "urn:ngsi-ld:null" deletes an attribute; types given are added.
    """
    new = _shallow(entity)
    for t in types:
        if t not in new["type"]:
            new["type"] = [*new["type"], t]
    for iri, instances in attrs.items():
        if instances == [DELETE]:
            new["attrs"].pop(iri, None)
            continue
        current = new["attrs"].setdefault(iri, [])
        for inst in instances:
            at = _find(current, inst.get("datasetId"))
            if at < 0:
                current.append(_complete(inst, iri))
            else:
                current[at] = _merge_instance(current[at], inst, now)
    new["modifiedAt"] = now
    return new
