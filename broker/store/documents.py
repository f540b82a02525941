"""Map model entities to MongoDB documents and back.

One document per entity::

    {"_id": entity id, "type": [...], "scope"?: [...], "createdAt", "modifiedAt",
     "rev": n, "attrNames": [expanded names],
     "attrs": {encoded name: {dataset key: instance, ...}}}

The instances of an attribute are keyed by their datasetId ("@none" for the default
instance), so that one instance can be written in place, in one round trip, without
reading the entity first (see updates.py); BSON keeps their order.
``rev`` increases with every write (optimistic concurrency, see entities.py).
``attrNames`` lets "entities that have attribute X" use an index. A GeoProperty keeps
its geometry under ``geo`` rather than ``value`` so that the 2dsphere index on
``attrs.<name>.@none.geo`` only ever sees geometries, whatever else a client stores under the
same name with another kind.
"""

from __future__ import annotations

from typing import Any

from ..ngsild.model import Entity, Instance
from .keys import decode_key, decode_value, encode_key, encode_value

__all__ = [
    "DEFAULT_DATASET",
    "attr_path",
    "dataset_key",
    "encode_instance",
    "from_document",
    "instance_path",
    "to_document",
]

DEFAULT_DATASET = "@none"


def attr_path(iri: str) -> str:
    """The document path of an attribute's instances."""
    return "attrs." + encode_key(iri)


def dataset_key(dataset_id: str | None) -> str:
    return DEFAULT_DATASET if dataset_id is None else encode_key(dataset_id)


def instance_path(iri: str, dataset_id: str | None) -> str:
    return f"attrs.{encode_key(iri)}.{dataset_key(dataset_id)}"


def encode_instance(inst: Instance) -> dict[str, Any]:
    return _encode_instance(inst)


def _encode_instance(inst: Instance) -> dict[str, Any]:
    doc = dict(inst)
    value = doc.pop("value")
    if inst["type"] == "GeoProperty":
        doc["geo"] = value
    else:
        doc["value"] = encode_value(value) if isinstance(value, dict | list) else value
    sub = inst.get("sub")
    if sub:
        doc["sub"] = {encode_key(k): _encode_instance(v) for k, v in sub.items()}
    return doc


def _decode_instance(doc: dict[str, Any]) -> Instance:
    inst = dict(doc)
    if "geo" in inst:
        inst["value"] = inst.pop("geo")
    else:
        value = inst["value"]
        if isinstance(value, dict | list):
            inst["value"] = decode_value(value)
    sub = inst.get("sub")
    if sub:
        inst["sub"] = {decode_key(k): _decode_instance(v) for k, v in sub.items()}
    return inst


def to_document(entity: Entity, rev: int) -> dict[str, Any]:
    attrs = entity["attrs"]
    doc: dict[str, Any] = {
        "_id": entity["id"],
        "type": entity["type"],
        "createdAt": entity["createdAt"],
        "modifiedAt": entity["modifiedAt"],
        "rev": rev,
        "attrNames": list(attrs),
        "attrs": {
            encode_key(iri): {
                dataset_key(i.get("datasetId")): _encode_instance(i) for i in instances
            }
            for iri, instances in attrs.items()
        },
    }
    if "scope" in entity:
        doc["scope"] = entity["scope"]
    return doc


def from_document(doc: dict[str, Any]) -> Entity:
    entity: Entity = {
        "id": doc["_id"],
        "type": doc["type"],
        "createdAt": doc["createdAt"],
        "modifiedAt": doc["modifiedAt"],
        "attrs": {
            decode_key(key): [_decode_instance(i) for i in instances.values()]
            for key, instances in doc.get("attrs", {}).items()
            if instances
        },
    }
    if "scope" in doc:
        entity["scope"] = doc["scope"]
    return entity
