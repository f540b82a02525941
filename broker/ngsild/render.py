"""Render model entities in the three NGSI-LD representations (clause 4.5).

normalized: every attribute with its type and members; concise: the same without
redundant members (clause 4.5.21); keyValues (simplified): attribute name -> value.
Names and types are compacted with the request's @context.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .model import MAIN_MEMBER, Entity, Instance

__all__ = ["Format", "RenderOptions", "TermCompactor", "render_entity"]

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


def _compact_vocab(value: Any, ctx: TermCompactor) -> Any:
    if isinstance(value, list):
        return [ctx.compact(v) for v in value]
    return ctx.compact(value)


def _key_value(inst: Instance, ctx: TermCompactor, opts: RenderOptions) -> Any:
    """The simplified value (clause 4.5.3): kinds other than Property and Relationship keep
    their main member's name so that a client can tell what it is reading."""
    kind = inst["type"]
    value = inst["value"]
    if kind == "VocabProperty":
        return {"vocab": _compact_vocab(value, ctx)}
    if kind == "LanguageProperty":
        if opts.lang is not None:
            picked = _pick_language(value, opts.lang)
            return picked[1] if picked else None
        return {"languageMap": value}
    if kind == "JsonProperty":
        return {"json": value}
    if kind == "ListRelationship":
        return [v.get("object") if isinstance(v, dict) else v for v in value]
    return value


def _instance(inst: Instance, ctx: TermCompactor, opts: RenderOptions) -> Any:
    kind = inst["type"]
    concise = opts.format == "concise"
    out: dict[str, Any] = {} if concise else {"type": kind}
    value = inst["value"]
    if kind == "VocabProperty":
        out["vocab"] = _compact_vocab(value, ctx)
    elif kind == "LanguageProperty" and opts.lang is not None:
        # clause 4.15: a LanguageProperty asked for in one language becomes a Property.
        picked = _pick_language(value, opts.lang)
        if not concise:
            out["type"] = "Property"
        out["value"] = picked[1] if picked else None
        if picked:
            out["lang"] = picked[0]
    else:
        out[MAIN_MEMBER[kind]] = value
    for member in ("datasetId", "observedAt", "unitCode", "objectType"):
        if member in inst:
            out[member] = inst[member]
    if opts.sys_attrs:
        out["createdAt"] = inst["createdAt"]
        out["modifiedAt"] = inst["modifiedAt"]
    sub = inst.get("sub")
    if sub:
        for iri, sub_inst in sub.items():
            out[ctx.compact(iri)] = _instance(sub_inst, ctx, opts)
    if concise and len(out) == 1:
        # Only the main member is left: a bare value where that is unambiguous.
        if "value" in out and not isinstance(out["value"], dict):
            return out["value"]
        if kind == "GeoProperty":
            return out["value"]
    return out


def render_entity(entity: Entity, ctx: TermCompactor, opts: RenderOptions) -> dict[str, Any]:
    types = [ctx.compact(t) for t in entity["type"]]
    out: dict[str, Any] = {"id": entity["id"], "type": types[0] if len(types) == 1 else types}
    if "scope" in entity:
        scope = entity["scope"]
        out["scope"] = scope[0] if len(scope) == 1 else scope
    key_values = opts.format == "keyValues"
    if opts.sys_attrs and not key_values:
        out["createdAt"] = entity["createdAt"]
        out["modifiedAt"] = entity["modifiedAt"]
    wanted = opts.attrs
    for iri, instances in entity["attrs"].items():
        if wanted is not None and iri not in wanted:
            continue
        name = ctx.compact(iri)
        if key_values:
            if len(instances) == 1:
                out[name] = _key_value(instances[0], ctx, opts)
            else:
                out[name] = {
                    "dataset": {
                        i.get("datasetId", "@none"): _key_value(i, ctx, opts) for i in instances
                    }
                }
        else:
            rendered = [_instance(i, ctx, opts) for i in instances]
            out[name] = rendered[0] if len(rendered) == 1 else rendered
    return out
