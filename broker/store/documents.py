"""Map model entities to MongoDB documents and back.

One document per entity::

    {"_id": entity id, "type": [...], "scope"?: [...], "createdAt", "modifiedAt",
     "rev": n, "attrNames": [expanded names],
     "attrs": {encoded name: {dataset key: instance, ...}}}

The instances of an attribute are keyed by their datasetId ("@none" for the default
instance), so that one instance can be written in place, in one round trip, without
reading the entity first (see updates.py); BSON keeps their order.
``rev`` increases with every write (optimistic concurrency, see entities.py).
``batchToken`` (optional) names the batch that last replaced the document, so that a
batch can tell its own guarded writes from another writer's (see batch.py); like any
other top-level field not listed here, reading ignores it.
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
    "READ_PROJECTION",
    "attr_path",
    "dataset_key",
    "encode_instance",
    "from_document",
    "from_owned_document",
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


#: Value types that _encode_instance stores as they are.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_document(entity: Entity, rev: int) -> dict[str, Any]:
    attrs = entity["attrs"]
    encoded: dict[str, dict[str, Any]] = {}
    for iri, instances in attrs.items():
        slots: dict[str, Any] = {}
        for inst in instances:
            value = inst["value"]
            if type(value) in _SCALARS and inst["type"] != "GeoProperty" and "sub" not in inst:
                # What _encode_instance makes of the common instance, without a call per
                # instance (batches write thousands): the value moves to the end.
                body = inst.copy()
                del body["value"]
                body["value"] = value
            else:
                body = _encode_instance(inst)
            dataset = inst.get("datasetId")  # dataset_key, inlined for the same reason
            slots[DEFAULT_DATASET if dataset is None else encode_key(dataset)] = body
        encoded[encode_key(iri)] = slots
    doc: dict[str, Any] = {
        "_id": entity["id"],
        "type": entity["type"],
        "createdAt": entity["createdAt"],
        "modifiedAt": entity["modifiedAt"],
        "rev": rev,
        "attrNames": list(attrs),
        "attrs": encoded,
    }
    if "scope" in entity:
        doc["scope"] = entity["scope"]
    return doc


def from_document(doc: dict[str, Any]) -> Entity:
    return _entity(
        doc,
        {
            decode_key(key): [_decode_instance(i) for i in instances.values()]
            for key, instances in doc.get("attrs", {}).items()
            if instances
        },
    )


def _entity(doc: dict[str, Any], attrs: dict[str, list[Instance]]) -> Entity:
    """The entity of a stored document, given its decoded attributes."""
    entity: Entity = {
        "id": doc["_id"],
        "type": doc["type"],
        "createdAt": doc["createdAt"],
        "modifiedAt": doc["modifiedAt"],
        "attrs": attrs,
    }
    if "scope" in doc:
        entity["scope"] = doc["scope"]
    return entity


_CONTAINERS = (dict, list)  # a tuple: isinstance is faster with it than with dict | list

#: READ_PROJECTION leaves out what only writers need (less BSON to decode per read).
READ_PROJECTION: dict[str, Any] = {"rev": 0, "attrNames": 0}


def _adopt_instance(inst: dict[str, Any]) -> Instance:
    """_decode_instance, in place: the stored dict becomes the instance (no copy)."""
    if "geo" in inst:
        inst["value"] = inst.pop("geo")
    else:
        value = inst["value"]
        if isinstance(value, _CONTAINERS):
            inst["value"] = decode_value(value)
    sub = inst.get("sub")
    if sub:
        inst["sub"] = {decode_key(k): _adopt_instance(v) for k, v in sub.items()}
    return inst


def from_owned_document(doc: dict[str, Any]) -> Entity:
    """from_document for a document nobody else holds (fresh from the driver): its dicts
    are reused rather than copied, which is most of the cost of reading many entities.
    The document must not be used afterwards. Equal to from_document's result."""
    attrs: dict[str, list[Instance]] = {}
    stored = doc.get("attrs")
    if stored:
        # _adopt_instance inlined: this loop runs for every attribute of every entity read.
        for key, instances in stored.items():
            if not instances:
                continue
            out = []
            for inst in instances.values():
                if "geo" in inst:
                    inst["value"] = inst.pop("geo")
                elif isinstance(inst["value"], _CONTAINERS):
                    inst["value"] = decode_value(inst["value"])
                if "sub" in inst:
                    sub = inst["sub"]
                    if sub:
                        inst["sub"] = {decode_key(k): _adopt_instance(v) for k, v in sub.items()}
                out.append(inst)
            attrs[decode_key(key)] = out
    return _entity(doc, attrs)
