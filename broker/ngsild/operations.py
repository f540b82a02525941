"""The entity update operations of clause 5.6 as pure functions: old entity in, new out.

The store reads an entity, applies one of these and writes the result back only if no
one else wrote in between (see store.entities), so every operation is all-or-nothing,
and the caller gets the exact before/after pair (for notifications and validation).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import BadRequestData, ResourceNotFound
from .model import Attrs, Entity, Instance
from .parse import is_deletion

__all__ = [
    "UpdateResult",
    "append_attrs",
    "delete_attr",
    "delete_scope",
    "merge_entity",
    "partial_update_attr",
    "replace_attr",
    "replace_entity",
    "update_attrs",
]

SCOPE = "scope"


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


def _copy(entity: Entity) -> Entity:
    """A copy whose attribute lists may be changed without touching the original."""
    out = dict(entity)
    out["attrs"] = {k: list(v) for k, v in entity["attrs"].items()}
    return out


def _complete(inst: Instance, name: str) -> Instance:
    """An instance that has nothing to merge into must be a whole attribute.

    So must its sub-attributes: a fragment of an update or merge may hold sub-attribute
    fragments (no main member) and deletions (NGSI-LD Null), which only mean something
    when merged into an existing instance. Used whole, a deletion removes nothing (it is
    dropped) and a fragment is refused, as at the top level.
    """
    if inst["type"] is None or "value" not in inst:
        raise BadRequestData(f"Attribute {name!r} is new, so it needs a value (or object, ...)")
    sub = inst.get("sub")
    if not sub:
        return inst
    whole = {iri: _complete(s, iri) for iri, s in sub.items() if not is_deletion(s)}
    if len(whole) == len(sub) and all(whole[iri] is s for iri, s in sub.items()):
        return inst
    out = dict(inst)
    if whole:
        out["sub"] = whole
    else:
        del out["sub"]
    return out


def _remove(entity: Entity, iri: str, dataset_id: str | None) -> bool:
    """Remove one instance; the attribute goes when its last instance goes."""
    current = entity["attrs"].get(iri)
    if current is None:
        return False
    at = _find(current, dataset_id)
    if at < 0:
        return False
    del current[at]
    if not current:
        del entity["attrs"][iri]
    return True


def _apply(
    entity: Entity, attrs: Attrs, combine: Callable[[Instance, Instance, str], Instance]
) -> None:
    """Apply instances by datasetId: NGSI-LD Null removes, a new one is added (whole), an
    existing one is combined with the new one (replaced or merged)."""
    for iri, instances in attrs.items():
        for inst in instances:
            if is_deletion(inst):
                _remove(entity, iri, inst.get("datasetId"))
                continue
            current = entity["attrs"].setdefault(iri, [])
            at = _find(current, inst.get("datasetId"))
            if at < 0:
                current.append(_complete(inst, iri))
            else:
                current[at] = combine(current[at], inst, iri)


def append_attrs(
    entity: Entity,
    attrs: Attrs,
    now: str,
    *,
    no_overwrite: bool = False,
    types: list[str] | None = None,
    scope: list[str] | None = None,
) -> tuple[Entity, UpdateResult]:
    """Append Entity Attributes (clause 5.6.3): add, or overwrite unless noOverwrite."""
    new = _copy(entity)
    result = UpdateResult()
    for iri, instances in attrs.items():
        current = new["attrs"].setdefault(iri, [])
        changed = kept = False
        for inst in instances:
            at = _find(current, inst.get("datasetId"))
            if at < 0:
                current.append(_complete(inst, iri))
                changed = True
            elif no_overwrite:
                kept = True
            else:
                current[at] = _keep_created(_complete(inst, iri), current[at])
                changed = True
        if kept:
            result.not_updated.append((iri, "The attribute exists and noOverwrite was given"))
        elif changed:
            result.updated.append(iri)
    if scope is not None:
        old_scope = new.get("scope", [])
        new["scope"] = list(dict.fromkeys([*old_scope, *scope])) if no_overwrite else scope
        result.updated.append(SCOPE)
    _add_types(new, types or [])
    new["modifiedAt"] = now
    return new, result


def _add_types(entity: Entity, types: list[str]) -> None:
    missing = [t for t in types if t not in entity["type"]]
    if missing:
        entity["type"] = [*entity["type"], *missing]


def update_attrs(
    entity: Entity,
    attrs: Attrs,
    now: str,
    *,
    types: list[str] | None = None,
    scope: list[str] | None = None,
) -> tuple[Entity, UpdateResult]:
    """Update Entity Attributes (clause 5.6.2).

    Each instance given replaces the instance with the same datasetId whole; NGSI-LD
    Null deletes it. As the ETSI conformance suite expects (TP 011_01), attributes and
    instances that do not exist yet are added rather than refused.
    """
    new = _copy(entity)
    result = UpdateResult()
    _apply(new, attrs, lambda old, inst, iri: _keep_created(_complete(inst, iri), old))
    result.updated.extend(attrs)
    if scope is not None:
        if "scope" in new:
            new["scope"] = scope
            result.updated.append(SCOPE)
        else:
            result.not_updated.append((SCOPE, "The entity has no scope to update"))
    _add_types(new, types or [])
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
            if is_deletion(sub_patch):
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
    dataset_id = inst.get("datasetId")
    new = _copy(entity)
    if is_deletion(inst):
        if not _remove(new, iri, dataset_id):
            raise ResourceNotFound(f"Attribute {name!r} has no instance with {_which(dataset_id)}")
    else:
        at = _find(current, dataset_id)
        if at < 0:
            raise ResourceNotFound(f"Attribute {name!r} has no instance with {_which(dataset_id)}")
        if inst["type"] is not None and inst["type"] != current[at]["type"]:
            raise BadRequestData(
                f"Attribute {name!r} is a {current[at]['type']}; a partial update cannot make it "
                f"a {inst['type']} (replace the attribute instead)"
            )
        new["attrs"][iri][at] = _merge_instance(current[at], inst, now)
    new["modifiedAt"] = now
    return new


def _which(dataset_id: str | None) -> str:
    return f"datasetId {dataset_id!r}" if dataset_id else "no datasetId (the default instance)"


def replace_attr(
    entity: Entity, iri: str, name: str, instances: list[Instance], now: str
) -> Entity:
    """Replace Attribute (clause 5.6.19): the instance with the same datasetId is replaced."""
    current = entity["attrs"].get(iri)
    if current is None:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no attribute {name!r}")
    new = _copy(entity)
    target = new["attrs"][iri]
    for inst in instances:
        at = _find(target, inst.get("datasetId"))
        if at < 0:
            raise ResourceNotFound(
                f"Attribute {name!r} has no instance with {_which(inst.get('datasetId'))}"
            )
        target[at] = _keep_created(_complete(inst, name), target[at])
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
    if iri not in entity["attrs"]:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no attribute {name!r}")
    new = _copy(entity)
    if delete_all:
        del new["attrs"][iri]
    elif not _remove(new, iri, dataset_id):
        raise ResourceNotFound(f"Attribute {name!r} has no instance with {_which(dataset_id)}")
    new["modifiedAt"] = now
    return new


def delete_scope(entity: Entity, now: str) -> Entity:
    if "scope" not in entity:
        raise ResourceNotFound(f"Entity {entity['id']!r} has no scope")
    new = _copy(entity)
    del new["scope"]
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


def merge_entity(
    entity: Entity, types: list[str], attrs: Attrs, now: str, *, scope: list[str] | None = None
) -> Entity:
    """Merge Entity (clause 5.6.17): JSON merge-patch semantics on attributes.

    New attributes are added, existing instances are merged member by member, NGSI-LD
    Null deletes an instance (the default one unless a datasetId is given); types given
    are added.
    """
    new = _copy(entity)
    _add_types(new, types)
    _apply(new, attrs, lambda old, inst, iri: _merge_instance(old, inst, now))
    if scope is not None:
        new["scope"] = scope
    new["modifiedAt"] = now
    return new
