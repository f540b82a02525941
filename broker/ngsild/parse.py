"""Turn a client's entity or attribute payload (normalized or concise) into the model.

All checks happen here, before anything touches the store, so that a bad request is
refused whole and nothing is half-written. Names are expanded with the request's
@context; values are left as sent (NGSI-LD does not expand property values, except the
IRIs of a VocabProperty).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import orjson

from .context import Context
from .datetimes import is_datetime
from .errors import BadRequestData
from .geojson import looks_like_geometry, validate_geometry
from .model import ATTRIBUTE_KINDS, MAIN_MEMBER, META_MEMBERS, NULL_URI, Attrs, Entity, Instance
from .uris import check_uri, is_uri

__all__ = [
    "DELETE_KIND",
    "ENTITY_MEMBERS",
    "GEO_ATTRIBUTES",
    "TermExpander",
    "check_attribute_name",
    "deletion",
    "is_deletion",
    "parse_attribute",
    "parse_entity",
    "parse_fragment",
    "parse_scope",
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
#: The kind of a marker instance: "delete this instance" (NGSI-LD Null in a merge).
DELETE_KIND = "__delete__"

_MAIN_MEMBERS = frozenset(MAIN_MEMBER.values())
_PREVIOUS = frozenset(m for m in META_MEMBERS if m.startswith("previous"))
# A name is a term (a letter, then letters, digits, _ or -) or an IRI / compact IRI.
_TERM = re.compile(r"[^\W\d][\w\-]*\Z")
_SCOPE = re.compile(r"/[^\W\d]\w*(?:/[^\W\d]\w*)*\Z")
_LANG_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")


def deletion(dataset_id: str | None = None) -> Instance:
    inst: Instance = {"type": DELETE_KIND}
    if dataset_id is not None:
        inst["datasetId"] = dataset_id
    return inst


def is_deletion(inst: Instance) -> bool:
    return bool(inst["type"] == DELETE_KIND)


_VALID_NAMES: set[str] = set()
_VALID_IRIS: set[str] = set()
_VALID_TIMES: set[str] = set()
_MEMO_LIMIT = 65536
#: Per Context (immutable, so safe to key by): attribute name -> its checked, expanded IRI.
#: Bounded twice (the memo keeps its contexts alive, and names come from clients).
_ATTR_IRIS: dict[Context, dict[str, str]] = {}
_CONTEXTS_LIMIT = 32
_NAMES_LIMIT = 4096


def _remember(memo: set[str], value: str) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()  # names come from clients: keep the memo bounded
    memo.add(value)


def _attr_iris(ctx: TermExpander) -> dict[str, str]:
    """The memo of names already checked and expanded with ctx (a batch repeats the same
    few names thousands of times); a throwaway dict for an expander that may change."""
    if type(ctx) is not Context:
        return {}
    memo = _ATTR_IRIS.get(ctx)
    if memo is None:
        if len(_ATTR_IRIS) >= _CONTEXTS_LIMIT:
            _ATTR_IRIS.clear()
        memo = _ATTR_IRIS[ctx] = {}
    elif len(memo) >= _NAMES_LIMIT:
        memo.clear()
    return memo


def check_attribute_name(name: str, what: str = "attribute name") -> None:
    if not isinstance(name, str) or not name:  # first: a list or a dict is unhashable
        raise BadRequestData(f"An {what} must be a non-empty string")
    if name in _VALID_NAMES:
        return
    if _TERM.match(name) or is_uri(name):
        _remember(_VALID_NAMES, name)
        return
    raise BadRequestData(
        f"Invalid {what} {name!r}: use a term (a letter, then letters, digits, '_' or '-') "
        "or an IRI"
    )


def _expand_name(name: str, ctx: TermExpander, what: str) -> str:
    iri = ctx.expand(name)
    if iri in _VALID_IRIS:
        return iri
    if iri.startswith("@") or not is_uri(iri):
        raise BadRequestData(
            f"The {what} {name!r} does not expand to an IRI with the given @context "
            f"(it became {iri!r})"
        )
    _remember(_VALID_IRIS, iri)
    return iri


def parse_types(value: object, ctx: TermExpander) -> list[str]:
    """Entity type(s): a name or a non-empty array of names, expanded."""
    names = value if isinstance(value, list) else [value]
    if not names:
        raise BadRequestData("The entity 'type' must not be an empty array")
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name:
            raise BadRequestData(f"An entity type must be a non-empty string, got {name!r}")
        check_attribute_name(name, "entity type")
        iri = _expand_name(name, ctx, "entity type")
        if iri not in out:
            out.append(iri)
    return out


def parse_scope(value: object) -> list[str]:
    """Scopes (clause 4.18): paths of levels like /Madrid/Gardens/ParqueNorte."""
    scopes = value if isinstance(value, list) else [value]
    if not scopes:
        raise BadRequestData("'scope' must not be an empty array")
    for s in scopes:
        if not isinstance(s, str) or not _SCOPE.match(s):
            raise BadRequestData(
                f"Invalid scope {s!r}: a scope is a path of levels, each a letter followed by "
                "letters, digits or '_', like /Madrid/Gardens/ParqueNorte"
            )
    return list(dict.fromkeys(scopes))


def _kind_of(attr: dict[str, Any]) -> str | None:
    """The kind of a concise attribute object, told by its main member (clause 4.5.21)."""
    present = [m for m in _MAIN_MEMBERS if m in attr]
    if len(present) > 1:
        raise BadRequestData(
            f"An attribute cannot have both {present[0]!r} and {present[1]!r}: give it a 'type'"
        )
    if not present:
        return None
    member = present[0]
    if member == "value":
        value = attr["value"]
        geo = looks_like_geometry(value) or (isinstance(value, str) and _geometry_text(value))
        return "GeoProperty" if geo else "Property"
    return {
        "object": "Relationship",
        "languageMap": "LanguageProperty",
        "vocab": "VocabProperty",
        "json": "JsonProperty",
        "valueList": "ListProperty",
        "objectList": "ListRelationship",
    }[member]


def _geometry_text(value: str) -> bool:
    return value.lstrip().startswith("{") and '"coordinates"' in value


def _contains_null(value: Any) -> bool:
    if value == NULL_URI:
        return True
    if isinstance(value, dict):
        return any(_contains_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_null(v) for v in value)
    return False


def _check_uri_list(value: object, what: str) -> None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise BadRequestData(f"{what} must not be an empty array")
    for item in items:
        check_uri(item, what)


def _geometry(raw: Any, where: str) -> Any:
    if isinstance(raw, str):
        # Some gateways send the geometry as a JSON string; store it as the object it is.
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise BadRequestData(f"{where}: the value is not a GeoJSON geometry") from None
    validate_geometry(raw, where)
    if raw["type"] == "GeometryCollection":
        raise BadRequestData(f"{where}: GeometryCollection is not supported by NGSI-LD")
    # Self-crossing rings and the like: MongoDB's 2dsphere index would refuse the write.
    from .geoquery import check_simple_geometry  # geoquery imports this module

    check_simple_geometry(raw, where)
    return raw


def _language_map(raw: Any, where: str) -> Any:
    if not isinstance(raw, dict) or not raw:
        raise BadRequestData(f"{where}: 'languageMap' must be a non-empty object")
    for lang, text in raw.items():
        if lang != "@none" and not _LANG_TAG.match(lang):
            raise BadRequestData(f"{where}: {lang!r} is not a language tag (like en or ja-JP)")
        texts = text if isinstance(text, list) else [text]
        if not texts or not all(isinstance(t, str) for t in texts):
            raise BadRequestData(
                f"{where}: languageMap[{lang!r}] must be a string or an array of strings"
            )
    return raw


def _main_value(kind: str, raw: Any, where: str, ctx: TermExpander) -> Any:
    """Check a kind's main member and return what is stored for it."""
    if kind == "GeoProperty":
        return _geometry(raw, where)
    if raw is None:
        raise BadRequestData(f"{where}: the {MAIN_MEMBER[kind]!r} of a {kind} must not be null")
    if _contains_null(raw):
        raise BadRequestData(
            f"{where}: {NULL_URI!r} is only meaningful in an update, to delete something"
        )
    if kind == "Property":
        return raw
    if kind == "Relationship":
        _check_uri_list(raw, f"{where}: the Relationship 'object'")
        return raw
    if kind == "LanguageProperty":
        return _language_map(raw, where)
    if kind == "VocabProperty":
        terms = raw if isinstance(raw, list) else [raw]
        if not terms or not all(isinstance(t, str) and t for t in terms):
            raise BadRequestData(f"{where}: 'vocab' must be a term or an array of terms")
        expanded = [ctx.expand(t) for t in terms]
        return expanded if isinstance(raw, list) else expanded[0]
    if kind == "JsonProperty":
        if not isinstance(raw, dict | list):
            raise BadRequestData(f"{where}: 'json' must be a JSON object or array")
        return raw
    if kind == "ListProperty":
        if not isinstance(raw, list):
            raise BadRequestData(f"{where}: 'valueList' must be an array")
        return raw
    # ListRelationship: stored (and served) as [{"object": uri}, ...]
    if not isinstance(raw, list):
        raise BadRequestData(f"{where}: 'objectList' must be an array")
    out = []
    for item in raw:
        target = item.get("object") if isinstance(item, dict) else item
        check_uri(target, f"{where}: an 'objectList' item")
        out.append({"object": target})
    return out


def _deletes(raw: dict[str, Any]) -> bool:
    """An attribute fragment that says "delete" (NGSI-LD Null, clause 4.5.0)."""
    for member in ("value", "object", "vocab", "json"):
        if member in raw and raw[member] in (None, NULL_URI):
            return True
    lang = raw.get("languageMap")
    return isinstance(lang, dict) and lang.get("@none") == NULL_URI


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

    partial: a fragment for an update or merge. It may leave out the main member (to
    change only observedAt or a sub-attribute: it then has no "value" and a "type" of
    None), and NGSI-LD Null makes it a deletion marker.
    """
    where = f"Attribute {name!r}"
    if not isinstance(raw, dict):
        # Concise: a bare value is a Property (an array too: use valueList for lists).
        if partial and raw in (None, NULL_URI):
            return deletion()
        if raw is None:
            raise BadRequestData(f"{where}: null is not a value")
        if iri in GEO_ATTRIBUTES:
            if isinstance(raw, str) and _geometry_text(raw):
                return _instance("GeoProperty", _geometry(raw, where), now)
            raise BadRequestData(f"{where} must be a GeoProperty with a GeoJSON geometry")
        if _contains_null(raw):
            raise BadRequestData(f"{where}: {NULL_URI!r} cannot be stored as a value")
        return _instance("Property", raw, now)
    if "@context" in raw:
        raise BadRequestData(f"{where}: an attribute cannot have its own '@context'")
    if partial and _deletes(raw):
        dataset = raw.get("datasetId")
        if dataset is not None and dataset != "@none":
            check_uri(dataset, f"{where}: 'datasetId'")
            return deletion(dataset)
        return deletion()
    kind = raw.get("type")
    if kind is not None and not isinstance(kind, str):
        raise BadRequestData(
            f"{where}: the attribute type must be a string, got {kind!r} "
            f"(expected one of {', '.join(sorted(ATTRIBUTE_KINDS))})"
        )
    if kind is None or kind not in ATTRIBUTE_KINDS:
        if looks_like_geometry(raw):
            return _instance("GeoProperty", _geometry(raw, where), now)
        if kind is not None:
            raise BadRequestData(
                f"{where}: unknown attribute type {kind!r} "
                f"(expected one of {', '.join(sorted(ATTRIBUTE_KINDS))})"
            )
        kind = _kind_of(raw)
        if kind is None and partial and raw:
            return _members({"type": None, "modifiedAt": now}, raw, name, ctx, now, depth, True)
        if kind is None:
            raise BadRequestData(
                f"{where}: cannot tell what kind of attribute this is: give it a 'type' "
                "(Property, Relationship, ...) or a 'value', 'object', 'languageMap', 'vocab', "
                "'json', 'valueList' or 'objectList' member"
            )
    member = MAIN_MEMBER[kind]
    if member not in raw:
        if partial and iri is not None and depth == 0:
            return _members({"type": kind, "modifiedAt": now}, raw, name, ctx, now, depth, True)
        raise BadRequestData(f"{where}: a {kind} must have a '{member}' member")
    if iri in GEO_ATTRIBUTES and kind != "GeoProperty":
        raise BadRequestData(f"{where} must be a GeoProperty, not a {kind}")
    inst = _instance(kind, _main_value(kind, raw[member], where, ctx), now)
    return _members(inst, raw, name, ctx, now, depth, partial)


#: Members of the shapes _plain_instance handles, by kind: no sub-attributes, no @context.
_PLAIN_MEMBERS = {
    "Property": frozenset({"type", "value", "datasetId", "observedAt", "unitCode"}),
    "Relationship": frozenset({"type", "object", "datasetId", "observedAt", "objectType"}),
}


def _plain_instance(raw: dict[str, Any], now: str) -> Instance | None:
    """Fast path for the shapes nearly every payload sends: a normalized Property or
    Relationship without sub-attributes. Returns what parse_attribute returns for it at
    the top level (not for a GeoProperty name), or None when anything is unusual, so that
    the general path decides, and words any error, exactly as it always has."""
    kind = raw.get("type")
    if type(kind) is not str:
        return None
    allowed = _PLAIN_MEMBERS.get(kind)
    if allowed is None or not raw.keys() <= allowed:
        return None
    if kind == "Property":
        if "value" not in raw:
            return None
        value = raw["value"]
        cls = type(value)
        if cls is str:
            if value == NULL_URI:
                return None
        elif (cls is not int and cls is not float and cls is not bool) and (
            value is None or _contains_null(value)
        ):
            return None
    else:
        value = raw.get("object")
        if type(value) is not str or value == NULL_URI or not is_uri(value):
            return None
    inst = _instance(kind, value, now)
    if len(raw) > 2:
        if "datasetId" in raw:
            dataset = raw["datasetId"]
            if dataset != "@none":
                if not is_uri(dataset):
                    return None
                inst["datasetId"] = dataset
        if "observedAt" in raw:
            at = raw["observedAt"]
            if type(at) is not str:
                return None
            if at not in _VALID_TIMES:
                if not is_datetime(at):
                    return None
                _remember(_VALID_TIMES, at)
            inst["observedAt"] = at
        if "unitCode" in raw:
            unit = raw["unitCode"]
            if not isinstance(unit, str):
                return None
            inst["unitCode"] = unit
        if "objectType" in raw:
            object_type = raw["objectType"]
            if type(object_type) is not str or not object_type:
                return None
            inst["objectType"] = object_type
    return inst


def _instance(kind: str, value: Any, now: str) -> Instance:
    return {"type": kind, "value": value, "createdAt": now, "modifiedAt": now}


def _members(
    inst: Instance,
    raw: dict[str, Any],
    name: str,
    ctx: TermExpander,
    now: str,
    depth: int,
    partial: bool,
) -> Instance:
    """The members any kind may have: datasetId, observedAt, ..., and sub-attributes."""
    where = f"Attribute {name!r}"
    kind = inst["type"]
    own = MAIN_MEMBER.get(kind) if kind else None
    sub: dict[str, Instance] = {}
    for key, value in raw.items():
        if key in META_MEMBERS:
            if key in _PREVIOUS:
                raise BadRequestData(f"{where}: {key!r} is set by the broker, not by clients")
            if key in _MAIN_MEMBERS and kind is not None and key != own:
                raise BadRequestData(f"{where}: a {kind} cannot have a {key!r} member")
            continue
        if depth >= 8:
            raise BadRequestData(f"{where}: sub-attributes are nested too deeply")
        check_attribute_name(key)
        sub_iri = _expand_name(key, ctx, "attribute name")
        sub[sub_iri] = parse_attribute(
            key, value, ctx, now, iri=sub_iri, depth=depth + 1, partial=partial
        )
    if "datasetId" in raw and raw["datasetId"] != "@none":
        if depth:
            raise BadRequestData(f"{where}: sub-attributes cannot have a datasetId")
        check_uri(raw["datasetId"], f"{where}: 'datasetId'")
        inst["datasetId"] = raw["datasetId"]
    if "observedAt" in raw:
        if not is_datetime(raw["observedAt"]):
            raise BadRequestData(
                f"{where}: 'observedAt' must be a UTC date-time like 2026-11-27T09:00:00Z, "
                f"got {raw['observedAt']!r}"
            )
        inst["observedAt"] = raw["observedAt"]
    if "unitCode" in raw:
        if kind not in ("Property", None) or not isinstance(raw["unitCode"], str):
            raise BadRequestData(f"{where}: only a Property can have a 'unitCode' (a string)")
        inst["unitCode"] = raw["unitCode"]
    if "objectType" in raw:
        if kind not in ("Relationship", "ListRelationship", None):
            raise BadRequestData(f"{where}: only a Relationship can have an 'objectType'")
        if not _type_names(raw["objectType"]):
            raise BadRequestData(
                f"{where}: 'objectType' must be a type name or an array of type names, "
                f"got {raw['objectType']!r}"
            )
        inst["objectType"] = raw["objectType"]
    if sub:
        inst["sub"] = sub
    return inst


def _type_names(value: object) -> bool:
    """A non-empty string or a non-empty array of them (objectType, clause 4.5.3)."""
    names = value if isinstance(value, list) else [value]
    return bool(names) and all(isinstance(n, str) and n for n in names)


def _parse_instances(
    name: str, iri: str, raw: object, ctx: TermExpander, now: str, partial: bool
) -> list[Instance]:
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


def parse_fragment(
    body: dict[str, Any], ctx: TermExpander, now: str, *, partial: bool = False
) -> Attrs:
    """The attributes of an entity or entity fragment, by expanded name.

    partial (updates, merges): NGSI-LD Null means "delete", and an attribute may leave
    out its main member.
    """
    attrs: Attrs = {}
    known = _attr_iris(ctx)
    for name, raw in body.items():
        iri = known.get(name)
        if iri is None:
            if name in ENTITY_MEMBERS:
                continue
            if name in META_MEMBERS:
                raise BadRequestData(f"{name!r} is a reserved member, not an attribute name")
            check_attribute_name(name)
            iri = known[name] = _expand_name(name, ctx, "attribute name")
        if iri in attrs:
            raise BadRequestData(f"Attribute {name!r} appears twice (after @context expansion)")
        if type(raw) is dict and iri not in GEO_ATTRIBUTES:  # the usual shapes, quickly
            inst = _plain_instance(raw, now)
            if inst is not None:
                attrs[iri] = [inst]
                continue
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
    if entity_id == NULL_URI:
        raise BadRequestData(f"{NULL_URI!r} cannot be an entity id")
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
        entity["scope"] = parse_scope(body["scope"])
    return entity
