"""Single-round-trip MongoDB updates for the hot update paths of IoT gateways.

The general update path reads the entity and writes it back (two round trips, see
entities.py). The two updates a gateway sends all day long can be done in one:

- Update Entity Attributes (PATCH .../attrs) that replaces or adds whole instances:
  an update pipeline sets each instance in place and keeps its createdAt with $ifNull;
- Partial Attribute Update (PATCH .../attrs/{attr}) of an instance's value and metadata
  (no sub-attributes): plain $set of those members, guarded by a filter that the
  instance exists with the same kind.

Each builder returns None when the request is not one of these shapes; the caller then
takes the general path, which also produces the right error when the filter of a fast
update matched nothing. The result of a fast update is, by construction, what the pure
operation in ngsild.operations computes from the document as it was before.
"""

from __future__ import annotations

from typing import Any

from ..ngsild.model import Attrs, Instance
from ..ngsild.parse import is_deletion
from .documents import encode_instance, instance_path
from .keys import encode_value

__all__ = ["FastUpdate", "partial_update", "replace_instances"]

#: (extra filter, update document or pipeline)
FastUpdate = tuple[dict[str, Any], dict[str, Any] | list[dict[str, Any]]]


def replace_instances(attrs: Attrs, now: str) -> FastUpdate | None:
    """Set whole instances (new or replacing), keeping the createdAt of replaced ones."""
    sets: dict[str, Any] = {}
    for iri, instances in attrs.items():
        for inst in instances:
            if not _whole(inst):
                return None
            path = instance_path(iri, inst.get("datasetId"))
            body = encode_instance(inst)
            body.pop("createdAt", None)
            sets[path] = {
                "$mergeObjects": [
                    {"$literal": body},
                    {"createdAt": {"$ifNull": [f"${path}.createdAt", {"$literal": now}]}},
                ]
            }
    if not sets:
        return None
    sets["modifiedAt"] = {"$literal": now}
    sets["rev"] = {"$add": [{"$ifNull": ["$rev", 0]}, 1]}
    sets["attrNames"] = {"$setUnion": [{"$ifNull": ["$attrNames", []]}, {"$literal": list(attrs)}]}
    return {}, [{"$set": sets}]


def _whole(inst: Instance) -> bool:
    """An instance to store as it is: no deletion or fragment in it, sub-attributes too
    (the general path drops or refuses those, see operations._complete)."""
    if is_deletion(inst) or inst["type"] is None or "value" not in inst:
        return False
    sub = inst.get("sub")
    return not sub or all(_whole(s) for s in sub.values())


def partial_update(iri: str, patch: Instance, now: str) -> FastUpdate | None:
    """Merge value and metadata members into one existing instance of the same kind."""
    if is_deletion(patch) or "sub" in patch:
        return None
    path = instance_path(iri, patch.get("datasetId"))
    flt: dict[str, Any] = {path: {"$exists": True}}
    sets: dict[str, Any] = {f"{path}.modifiedAt": now, "modifiedAt": now}
    if patch["type"] is not None:
        flt[f"{path}.type"] = patch["type"]
    if "value" in patch:
        if patch["type"] is None:
            return None
        value = patch["value"]
        member = "geo" if patch["type"] == "GeoProperty" else "value"
        sets[f"{path}.{member}"] = encode_value(value) if member == "value" else value
    for member in ("observedAt", "unitCode", "objectType"):
        if member in patch:
            sets[f"{path}.{member}"] = patch[member]
    return flt, {"$set": sets, "$inc": {"rev": 1}}
