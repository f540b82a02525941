"""Render model entities in the three NGSI-LD representations (clause 4.5).

normalized: every attribute with its type and members; concise: the same without
redundant members (clause 4.5.21); keyValues (simplified): attribute name -> value.
Names and types are compacted with the request's @context.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from .model import MAIN_MEMBER, Entity, Instance

__all__ = ["Format", "RenderOptions", "TermCompactor", "render_entities", "render_entity"]

Format = Literal["normalized", "concise", "keyValues"]


class TermCompactor(Protocol):
    def compact(self, iri: str) -> str: ...


@dataclass(frozen=True, slots=True)
class RenderOptions:
    format: Format = "normalized"
    sys_attrs: bool = False
    #: Expanded names of the attributes to include (None: all).
    attrs: Collection[str] | None = None
    #: Preferred language for LanguageProperties (clause 4.15), None: the whole map.
    lang: str | None = None


def _pick_language(language_map: dict[str, Any], lang: str) -> tuple[str, Any] | None:
    """The best match for lang (a tag, or a list with q-weights as in Accept-Language):
    exact tag, then same primary language, then '@none', then any."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(lang.split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 1.0
        weighted.append((-q, position, fields[0].lower()))
    by_lower = {key.lower(): key for key in language_map}
    for _, _, tag in sorted(weighted):
        if tag == "*":
            break
        if tag in by_lower:
            key = by_lower[tag]
            return key, language_map[key]
        primary = tag.split("-")[0]
        for lower, key in by_lower.items():
            if lower.split("-")[0] == primary:
                return key, language_map[key]
    if "@none" in language_map:
        return "@none", language_map["@none"]
    for key, text in language_map.items():
        return key, text
    return None


#: Kinds whose simplified value is not just their value (see _key_value).
_KV_SPECIAL: Final = frozenset(
    {"VocabProperty", "LanguageProperty", "JsonProperty", "ListRelationship"}
)
#: Kinds that _instance may render with other than their main member.
_NOT_PLAIN: Final = frozenset({"VocabProperty", "LanguageProperty"})


def _compact_vocab(value: Any, compact: Callable[[str], str]) -> Any:
    if isinstance(value, list):
        return [compact(v) for v in value]
    return compact(value)


def _key_value(inst: Instance, compact: Callable[[str], str], lang: str | None) -> Any:
    """The simplified value (clause 4.5.3): kinds other than Property and Relationship keep
    their main member's name so that a client can tell what it is reading."""
    kind = inst["type"]
    value = inst["value"]
    if kind not in _KV_SPECIAL:
        return value
    if kind == "VocabProperty":
        return {"vocab": _compact_vocab(value, compact)}
    if kind == "LanguageProperty":
        if lang is not None:
            picked = _pick_language(value, lang)
            return picked[1] if picked else None
        return {"languageMap": value}
    if kind == "JsonProperty":
        return {"json": value}
    # ListRelationship
    return [v.get("object") if isinstance(v, dict) else v for v in value]


_OPTIONAL_MEMBERS = ("datasetId", "observedAt", "unitCode", "objectType")


def _add_members(out: dict[str, Any], inst: Instance, sys_attrs: bool) -> None:
    """An instance's optional members, in the order they are rendered."""
    for member in _OPTIONAL_MEMBERS:
        if member in inst:
            out[member] = inst[member]
    if sys_attrs:
        out["createdAt"] = inst["createdAt"]
        out["modifiedAt"] = inst["modifiedAt"]


def _instance(
    inst: Instance,
    compact: Callable[[str], str],
    concise: bool,
    sys_attrs: bool,
    lang: str | None,
) -> Any:
    kind = inst["type"]
    value = inst["value"]
    out: dict[str, Any]
    if kind == "VocabProperty":
        vocab = _compact_vocab(value, compact)
        out = {"vocab": vocab} if concise else {"type": kind, "vocab": vocab}
    elif kind == "LanguageProperty" and lang is not None:
        # clause 4.15: a LanguageProperty asked for in one language becomes a Property.
        picked = _pick_language(value, lang)
        out = {} if concise else {"type": "Property"}
        out["value"] = picked[1] if picked else None
        if picked:
            out["lang"] = picked[0]
    else:
        main = MAIN_MEMBER[kind]
        out = {main: value} if concise else {"type": kind, main: value}
    _add_members(out, inst, sys_attrs)
    sub = inst.get("sub")
    if sub:
        for iri, sub_inst in sub.items():
            out[compact(iri)] = _instance(sub_inst, compact, concise, sys_attrs, lang)
    if concise and len(out) == 1:
        # Only the main member is left: a bare value where that is unambiguous.
        if "value" in out and not isinstance(out["value"], dict):
            return out["value"]
        if kind == "GeoProperty":
            return out["value"]
    return out


def _render(
    entity: Entity,
    compact: Callable[[str], str],
    names: dict[str, str],
    opts: RenderOptions,
    key_values: bool,
    concise: bool,
) -> dict[str, Any]:
    """names caches compact for entity types and attribute names: a dict lookup is
    cheaper than a call, and the entities of a query share their names."""
    types = []
    for iri in entity["type"]:
        name = names.get(iri)
        if name is None:
            name = names[iri] = compact(iri)
        types.append(name)
    out: dict[str, Any] = {"id": entity["id"], "type": types[0] if len(types) == 1 else types}
    if "scope" in entity:
        scope = entity["scope"]
        out["scope"] = scope[0] if len(scope) == 1 else scope
    sys_attrs = opts.sys_attrs
    if sys_attrs and not key_values:
        out["createdAt"] = entity["createdAt"]
        out["modifiedAt"] = entity["modifiedAt"]
    wanted = opts.attrs
    lang = opts.lang
    for iri, instances in entity["attrs"].items():
        if wanted is not None and iri not in wanted:
            continue
        name = names.get(iri)
        if name is None:
            name = names[iri] = compact(iri)
        if key_values:
            if len(instances) == 1:
                inst = instances[0]
                # Property and Relationship, inlined: their simplified value is the value.
                if inst["type"] in _KV_SPECIAL:
                    out[name] = _key_value(inst, compact, lang)
                else:
                    out[name] = inst["value"]
            else:
                out[name] = {
                    "dataset": {
                        i.get("datasetId", "@none"): _key_value(i, compact, lang) for i in instances
                    }
                }
        elif len(instances) == 1:
            inst = instances[0]
            kind = inst["type"]
            if concise or kind in _NOT_PLAIN or "sub" in inst:
                out[name] = _instance(inst, compact, concise, sys_attrs, lang)
                continue
            # _instance for the usual normalized attribute, inlined.
            value = inst["value"]
            rendered = {"type": kind, MAIN_MEMBER[kind]: value}
            _add_members(rendered, inst, sys_attrs)
            out[name] = rendered
        else:
            out[name] = [_instance(i, compact, concise, sys_attrs, lang) for i in instances]
    return out


def render_entity(entity: Entity, ctx: TermCompactor, opts: RenderOptions) -> dict[str, Any]:
    fmt = opts.format
    return _render(entity, ctx.compact, {}, opts, fmt == "keyValues", fmt == "concise")


def render_entities(
    entities: list[Entity], ctx: TermCompactor, opts: RenderOptions
) -> list[dict[str, Any]]:
    """render_entity of each entity, with what depends only on the request worked out once."""
    fmt = opts.format
    key_values = fmt == "keyValues"
    concise = fmt == "concise"
    compact = ctx.compact
    names: dict[str, str] = {}
    return [_render(e, compact, names, opts, key_values, concise) for e in entities]
