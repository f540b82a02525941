"""Turn a client's entity or attribute payload (normalized or concise) into the model.

All checks happen here, before anything touches the store, so that a bad request is
refused whole and nothing is half-written. Names are expanded with the request's
@context; values are left as sent (NGSI-LD does not expand property values, except the
IRIs of a VocabProperty).
"""

from __future__ import annotations

from typing import Any, Protocol

from .datetimes import canonical_datetime
from .errors import BadRequestData
from .geojson import looks_like_geometry, validate_geometry
from .model import ATTRIBUTE_KINDS, META_MEMBERS, NULL_URI, Attrs, Entity, Instance
from .uris import check_uri, is_uri

__all__ = [
    "DELETE",
    "ENTITY_MEMBERS",
    "GEO_ATTRIBUTES",
    "TermExpander",
    "check_attribute_name",
    "parse_attribute",
    "parse_entity",
    "parse_fragment",
    "parse_types",
]


class TermExpander(Protocol):
    def expand(self, term: str) -> str: ...


#: Entity members that are not attributes (clause 4.5.1).
ENTITY_MEMBERS = frozenset(
    {"id", "type", "@id", "@type", "@context", "scope", "createdAt", "modifiedAt", "deletedAt"}
)
#: Attributes that the core @context defines as GeoProperties.
GEO_ATTRIBUTES = frozenset(
    {
        "https://uri.etsi.org/ngsi-ld/location",
        "https://uri.etsi.org/ngsi-ld/observationSpace",
        "https://uri.etsi.org/ngsi-ld/operationSpace",
    }
)
#: Marker for an attribute that a merge deletes ("urn:ngsi-ld:null" or null).
DELETE: Instance = {"type": "__delete__"}

# Characters that may not appear in attribute or type names: they would break the query
# language (clause 4.9) or the HTTP paths that carry these names (Orion-LD refuses them too).
_FORBIDDEN_NAME_CHARS = frozenset('<>"\'=;()&?/# \t\r\n\\')


def check_attribute_name(name: str) -> None:
    if not name:
        raise BadRequestData("An attribute name must not be empty")
    if name.startswith("@"):
        raise BadRequestData(f"{name!r} is a JSON-LD keyword, not an attribute name")
    if any(c in _FORBIDDEN_NAME_CHARS for c in name) and not is_uri(name):
        raise BadRequestData(
            f"Invalid attribute name {name!r}: names may not contain spaces or any of "
            "< > \" ' = ; ( ) & ? / # \\"
        )


def parse_types(value: object, ctx: TermExpander) -> list[str]:
    """Entity type(s): a name or a non-empty array of names, expanded."""
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadRequestData("The entity 'type' must not be an empty array")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name:
            raise BadRequestData(f"An entity type must be a non-empty string, got {name!r}")
        check_attribute_name(name)
        iri = ctx.expand(name)
        if iri not in out:
            out.append(iri)
    return out


def _parse_scope(value: object) -> list[str]:
    scopes = value if isinstance(value, list) else [value]
    for s in scopes:
        if not isinstance(s, str) or not s.startswith("/") or s.endswith("/") and s != "/":
            raise BadRequestData(f"Invalid scope {s!r}: a scope is a path like /Madrid/Gardens")
    return list(scopes)


def _kind_of(attr: dict[str, Any]) -> str | None:
    """The kind of a concise attribute object, told by its main member (clause 4.5.21)."""
    if "value" in attr:
        return "GeoProperty" if looks_like_geometry(attr["value"]) else "Property"
    if "object" in attr:
        return "Relationship"
    if "languageMap" in attr:
        return "LanguageProperty"
    if "vocab" in attr:
        return "VocabProperty"
    if "json" in attr:
        return "JsonProperty"
    if "valueList" in attr:
        return "ListProperty"
    if "objectList" in attr:
        return "ListRelationship"
    return None


def _check_uri_list(value: object, what: str) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise BadRequestData(f"{what} must not be an empty array")
    for item in items:
        check_uri(item, what)


def _main_value(kind: str, raw: Any, name: str, ctx: TermExpander) -> Any:
    """Check a kind's main member and return what is stored for it."""
    where = f"Attribute {name!r}"
    if kind == "Property":
        if raw is None:
            raise BadRequestData(f"{where}: a Property value must not be null")
        if isinstance(raw, dict) and ("@value" in raw or "@type" in raw):
            return raw
        return raw
    if kind == "GeoProperty":
        validate_geometry(raw, where)
        return raw
    if kind == "Relationship":
        _check_uri_list(raw, f"{where}: the Relationship 'object'")
        return raw
    if kind == "LanguageProperty":
        if not isinstance(raw, dict) or not raw:
            raise BadRequestData(f"{where}: 'languageMap' must be a non-empty object")
        for lang, text in raw.items():
            texts = text if isinstance(text, list) else [text]
            if not all(isinstance(t, str) for t in texts):
                raise BadRequestData(f"{where}: languageMap[{lang!r}] must be a string")
        return raw
    if kind == "VocabProperty":
        terms = raw if isinstance(raw, list) else [raw]
        if not terms or not all(isinstance(t, str) and t for t in terms):
            raise BadRequestData(f"{where}: 'vocab' must be a term or an array of terms")
        expanded = [ctx.expand(t) for t in terms]
        return expanded if isinstance(raw, list) else expanded[0]
    if kind == "JsonProperty":
        if raw is None:
            raise BadRequestData(f"{where}: 'json' must not be null")
        return raw
    if kind == "ListProperty":
        if not isinstance(raw, list):
            raise BadRequestData(f"{where}: 'valueList' must be an array")
        return raw
    # ListRelationship
    if not isinstance(raw, list):
        raise BadRequestData(f"{where}: 'objectList' must be an array")
    for item in raw:
        target = item.get("object") if isinstance(item, dict) else item
        check_uri(target, f"{where}: an 'objectList' item")
    return raw


def parse_attribute(
    name: str,
    raw: object,
    ctx: TermExpander,
    now: str,
    *,
    iri: str | None = None,
    depth: int = 0,
    partial: bool = False,
) -> Instance:
    """One attribute instance from its normalized or concise form.

    partial: a fragment for a merge or partial update, which may leave out the main
    member (to change only observedAt or a sub-attribute); it then has no "value" and a
    "type" of None.
    """
    where = f"Attribute {name!r}"
    if not isinstance(raw, dict):
        # Concise: a bare value is a Property (an array too: use valueList for lists).
        if raw is None:
            raise BadRequestData(f"{where}: null is not a value (to delete, use the API)")
        if iri in GEO_ATTRIBUTES:
            raise BadRequestData(f"{where} must be a GeoProperty with a GeoJSON geometry")
        return {"type": "Property", "value": raw, "createdAt": now, "modifiedAt": now}
    kind = raw.get("type")
    if kind is None or kind not in ATTRIBUTE_KINDS:
        if looks_like_geometry(raw):
            validate_geometry(raw, where)
            return {"type": "GeoProperty", "value": raw, "createdAt": now, "modifiedAt": now}
        if kind is not None:
            raise BadRequestData(
                f"{where}: unknown attribute type {kind!r} "
                f"(expected one of {', '.join(sorted(ATTRIBUTE_KINDS))})"
            )
        kind = _kind_of(raw)
        if kind is None and partial and raw:
            return _members(
                {"type": None, "modifiedAt": now}, raw, name, ctx, now, depth, partial
            )
        if kind is None:
            raise BadRequestData(
                f"{where}: cannot tell what kind of attribute this is: give it a 'type' "
                "(Property, Relationship, ...) or a 'value', 'object', 'languageMap', 'vocab', "
                "'json', 'valueList' or 'objectList' member"
            )
    member = {
        "Property": "value",
        "GeoProperty": "value",
        "Relationship": "object",
        "LanguageProperty": "languageMap",
        "VocabProperty": "vocab",
        "JsonProperty": "json",
        "ListProperty": "valueList",
        "ListRelationship": "objectList",
    }[kind]
    if member not in raw:
        raise BadRequestData(f"{where}: a {kind} must have a '{member}' member")
    if iri in GEO_ATTRIBUTES and kind != "GeoProperty":
        raise BadRequestData(f"{where} must be a GeoProperty, not a {kind}")
    inst: Instance = {
        "type": kind,
        "value": _main_value(kind, raw[member], name, ctx),
        "createdAt": now,
        "modifiedAt": now,
    }
    return _members(inst, raw, name, ctx, now, depth, partial)


def _members(
    inst: Instance,
    raw: dict[str, Any],
    name: str,
    ctx: TermExpander,
    now: str,
    depth: int,
    partial: bool,
) -> Instance:
    """The members every kind may have: datasetId, observedAt, ..., sub-attributes."""
    where = f"Attribute {name!r}"
    kind = inst["type"]
    if "datasetId" in raw:
        if depth:
            raise BadRequestData(f"{where}: sub-attributes cannot have a datasetId")
        check_uri(raw["datasetId"], f"{where}: 'datasetId'")
        inst["datasetId"] = raw["datasetId"]
    if "observedAt" in raw:
        observed = canonical_datetime(raw["observedAt"])
        if observed is None:
            raise BadRequestData(
                f"{where}: 'observedAt' must be an ISO 8601 date-time, got {raw['observedAt']!r}"
            )
        inst["observedAt"] = observed
    if "unitCode" in raw:
        if kind not in ("Property", None) or not isinstance(raw["unitCode"], str):
            raise BadRequestData(f"{where}: 'unitCode' must be a string on a Property")
        inst["unitCode"] = raw["unitCode"]
    if "objectType" in raw and kind in ("Relationship", "ListRelationship", None):
        inst["objectType"] = raw["objectType"]
    sub: dict[str, Instance] = {}
    for key, value in raw.items():
        if key in META_MEMBERS:
            continue
        if depth >= 8:
            raise BadRequestData(f"{where}: sub-attributes are nested too deeply")
        check_attribute_name(key)
        sub_iri = ctx.expand(key)
        if partial and (value is None or value == NULL_URI):
            sub[sub_iri] = DELETE
            continue
        sub[sub_iri] = parse_attribute(
            key, value, ctx, now, iri=sub_iri, depth=depth + 1, partial=partial
        )
    if sub:
        inst["sub"] = sub
    return inst


def _parse_instances(
    name: str, iri: str, raw: object, ctx: TermExpander, now: str, partial: bool
) -> list[Instance]:
    if partial and (raw is None or raw == NULL_URI or _is_null_attr(raw)):
        return [DELETE]
    if isinstance(raw, list) and raw and all(isinstance(r, dict) for r in raw):
        instances = [parse_attribute(name, r, ctx, now, iri=iri, partial=partial) for r in raw]
        seen: set[str | None] = set()
        for inst in instances:
            ds = inst.get("datasetId")
            if ds in seen:
                which = f"datasetId {ds!r}" if ds else "the default instance (no datasetId)"
                raise BadRequestData(f"Attribute {name!r}: {which} appears more than once")
            seen.add(ds)
        return instances
    return [parse_attribute(name, raw, ctx, now, iri=iri, partial=partial)]


def _is_null_attr(raw: object) -> bool:
    if not isinstance(raw, dict):
        return False
    for member in ("value", "object", "languageMap", "vocab", "json"):
        if member in raw and raw[member] in (None, NULL_URI):
            return True
    return False


def parse_fragment(
    body: dict[str, Any], ctx: TermExpander, now: str, *, partial: bool = False
) -> Attrs:
    """The attributes of an entity or entity fragment, by expanded name.

    partial (merge, partial update): null / "urn:ngsi-ld:null" mean "delete", and an
    attribute may leave out its main member.
    """
    attrs: Attrs = {}
    for name, raw in body.items():
        if name in ENTITY_MEMBERS:
            continue
        check_attribute_name(name)
        iri = ctx.expand(name)
        if iri in attrs:
            raise BadRequestData(f"Attribute {name!r} appears twice (after @context expansion)")
        attrs[iri] = _parse_instances(name, iri, raw, ctx, now, partial)
    return attrs


def parse_entity(body: object, ctx: TermExpander, now: str, *, require_type: bool = True) -> Entity:
    """A whole entity (create, replace, batch create/upsert)."""
    if not isinstance(body, dict):
        raise BadRequestData("An entity must be a JSON object")
    entity_id = body.get("id", body.get("@id"))
    if entity_id is None:
        raise BadRequestData("The entity has no 'id'")
    check_uri(entity_id, "The entity 'id'")
    types = body.get("type", body.get("@type"))
    if types is None:
        if require_type:
            raise BadRequestData(f"Entity {entity_id!r} has no 'type'")
        types_iris: list[str] = []
    else:
        types_iris = parse_types(types, ctx)
    entity: Entity = {
        "id": entity_id,
        "type": types_iris,
        "createdAt": now,
        "modifiedAt": now,
        "attrs": parse_fragment(body, ctx, now),
    }
    if "scope" in body:
        entity["scope"] = _parse_scope(body["scope"])
    return entity
