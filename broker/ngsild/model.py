"""The broker's internal entity model, shared by the domain, the store and the API.

An entity is a plain dict (cheap to build from JSON and to hand to the driver)::

    {"id": "urn:...", "type": [expanded type IRIs], "scope": [...]?,
     "createdAt": ts, "modifiedAt": ts, "attrs": {expanded name: [instance, ...]}}

An attribute is a list of instances, one per datasetId (the default instance has none).
An instance is::

    {"type": kind, "value": main member, "datasetId"?, "observedAt"?, "unitCode"?,
     "objectType"?, "createdAt": ts, "modifiedAt": ts, "sub": {expanded name: instance}?}

"value" holds the kind's main member whatever its name on the wire (value, object,
languageMap, vocab, json, valueList, objectList): one place to query and compare.
Timestamps are canonical strings (see datetimes).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "ATTRIBUTE_KINDS",
    "MAIN_MEMBER",
    "META_MEMBERS",
    "NULL_URI",
    "Attrs",
    "Entity",
    "Instance",
]

Entity = dict[str, Any]
Instance = dict[str, Any]
Attrs = dict[str, list[Instance]]

#: The wire name of each attribute kind's main member (clause 4.5).
MAIN_MEMBER: Final[dict[str, str]] = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}
ATTRIBUTE_KINDS: Final = frozenset(MAIN_MEMBER)

#: Members of an attribute that are not sub-attributes.
META_MEMBERS: Final = frozenset(
    {
        "type",
        "value",
        "object",
        "languageMap",
        "vocab",
        "json",
        "valueList",
        "objectList",
        "datasetId",
        "observedAt",
        "unitCode",
        "objectType",
        "createdAt",
        "modifiedAt",
        "deletedAt",
        "instanceId",
        "lang",
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "previousVocab",
        "previousJson",
        "previousValueList",
        "previousObjectList",
        "@context",
    }
)

#: The value that deletes an attribute in a merge (clause 4.5.0, "NGSI-LD Null").
NULL_URI: Final = "urn:ngsi-ld:null"
