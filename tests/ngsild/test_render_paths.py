"""The renderer against the straightforward one it replaced (kept here as the reference):
render_entity and render_entities must give the same members, in the same order, for
every format and option, on varied entities and contexts."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from broker.ngsild.context import CORE, build_context
from broker.ngsild.model import MAIN_MEMBER, Entity, Instance
from broker.ngsild.parse import parse_entity
from broker.ngsild.render import (
    RenderOptions,
    TermCompactor,
    _pick_language,
    render_entities,
    render_entity,
)

NOW = "2026-01-02T03:04:05.678Z"

# -- the reference: the renderer as it was before it was optimised -----------------------


def _ref_compact_vocab(value: Any, ctx: TermCompactor) -> Any:
    if isinstance(value, list):
        return [ctx.compact(v) for v in value]
    return ctx.compact(value)


def _ref_key_value(inst: Instance, ctx: TermCompactor, opts: RenderOptions) -> Any:
    """The simplified value (clause 4.5.3): kinds other than Property and Relationship keep
    their main member's name so that a client can tell what it is reading."""
    kind = inst["type"]
    value = inst["value"]
    if kind == "VocabProperty":
        return {"vocab": _ref_compact_vocab(value, ctx)}
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


def _ref_instance(inst: Instance, ctx: TermCompactor, opts: RenderOptions) -> Any:
    kind = inst["type"]
    concise = opts.format == "concise"
    out: dict[str, Any] = {} if concise else {"type": kind}
    value = inst["value"]
    if kind == "VocabProperty":
        out["vocab"] = _ref_compact_vocab(value, ctx)
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
            out[ctx.compact(iri)] = _ref_instance(sub_inst, ctx, opts)
    if concise and len(out) == 1:
        # Only the main member is left: a bare value where that is unambiguous.
        if "value" in out and not isinstance(out["value"], dict):
            return out["value"]
        if kind == "GeoProperty":
            return out["value"]
    return out


def reference_render(entity: Entity, ctx: TermCompactor, opts: RenderOptions) -> dict[str, Any]:
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
                out[name] = _ref_key_value(instances[0], ctx, opts)
            else:
                out[name] = {
                    "dataset": {
                        i.get("datasetId", "@none"): _ref_key_value(i, ctx, opts) for i in instances
                    }
                }
        else:
            rendered = [_ref_instance(i, ctx, opts) for i in instances]
            out[name] = rendered[0] if len(rendered) == 1 else rendered
    return out


# -- varied inputs ------------------------------------------------------------------------

USER = build_context(
    {
        "Shop": "https://schema.org/Store",
        "name": "https://schema.org/name",
        "ex": "https://ex.org/",
        "Retail": "https://ex.org/vocab/Retail",
        "@vocab": "https://vocab.ex.org/",
    },
    {},
)

BODIES: list[dict[str, Any]] = [
    {"id": "urn:a:empty", "type": "Shop"},
    {"id": "urn:a:scoped", "type": ["Shop", "https://ex.org/Other"], "scope": "/a/b"},
    {"id": "urn:a:scopes", "type": "Shop", "scope": ["/a", "/b"]},
    {
        "id": "urn:a:1",
        "type": "Shop",
        "name": {"type": "Property", "value": "Kaido", "observedAt": "2026-01-01T00:00:00Z"},
        "address": {"type": "Property", "value": {"city": "Nara"}},
        "temp": {"type": "Property", "value": 20, "unitCode": "CEL"},
        "flag": {"type": "Property", "value": False},
        "listy": {"type": "Property", "value": [1, 2]},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1", "objectType": "Person"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [135.8, 34.7]},
        },
        "label": {
            "type": "LanguageProperty",
            "languageMap": {"en": "shop", "ja": "店", "@none": "x"},
        },
        "label2": {"type": "LanguageProperty", "languageMap": {"fr-CH": "magasin"}},
        "category": {"type": "VocabProperty", "vocab": "Retail"},
        "categories": {"type": "VocabProperty", "vocab": ["Retail", "https://ex.org/vocab/Food"]},
        "data": {"type": "JsonProperty", "json": {"a": [1, {"b": None}]}},
        "tags": {"type": "ListProperty", "valueList": [1, "two"]},
        "friends": {
            "type": "ListRelationship",
            "objectList": [{"object": "urn:a:f1"}, {"object": "urn:a:f2"}],
        },
        "https://ex.org/deep": {
            "type": "Property",
            "value": 1,
            "ex:sub": {
                "type": "Property",
                "value": 2,
                "unitCode": "MTR",
                "name": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
            },
            "rel": {"type": "Relationship", "object": "urn:a:2"},
            "voc": {"type": "VocabProperty", "vocab": "Retail"},
        },
        "temperature": [
            {"type": "Property", "value": 20},
            {"type": "Property", "value": 21, "datasetId": "urn:ds:1"},
        ],
        "labels": [
            {"type": "LanguageProperty", "languageMap": {"en": "a"}},
            {"type": "LanguageProperty", "languageMap": {"ja": "b"}, "datasetId": "urn:ds:2"},
        ],
    },
]

OPTIONS = [
    RenderOptions(format=fmt, sys_attrs=sys_attrs, attrs=attrs, lang=lang)
    for fmt in ("normalized", "concise", "keyValues")
    for sys_attrs in (False, True)
    for attrs in (None, {"https://schema.org/name", "https://vocab.ex.org/temp", "x"}, set())
    for lang in (None, "ja", "fr,en;q=0.5", "de")
]


def _entities() -> list[Entity]:
    return [parse_entity(body, ctx, NOW) for body in BODIES for ctx in (CORE, USER)]


@pytest.mark.parametrize("opts", OPTIONS, ids=repr)
@pytest.mark.parametrize("ctx", [CORE, USER], ids=["core", "user"])
def test_same_output_as_the_reference(opts: RenderOptions, ctx: Any) -> None:
    entities = _entities()
    expected = [reference_render(e, ctx, opts) for e in entities]
    one_by_one = [render_entity(e, ctx, opts) for e in entities]
    together = render_entities(entities, ctx, opts)
    # Bytes, not ==: the order of the members is part of the payload.
    assert orjson.dumps(one_by_one) == orjson.dumps(expected)
    assert orjson.dumps(together) == orjson.dumps(expected)


def test_instances_of_every_kind_match_the_reference() -> None:
    """Instances built directly (not through parse), including the members parse adds."""
    meta = {"datasetId": "urn:ds:9", "observedAt": NOW, "unitCode": "C", "objectType": "P"}
    values: dict[str, Any] = {
        "Property": {"a": 1},
        "GeoProperty": {"type": "Point", "coordinates": [0, 0]},
        "Relationship": "urn:a:b",
        "LanguageProperty": {"en": "x"},
        "VocabProperty": "https://ex.org/vocab/Retail",
        "JsonProperty": [1],
        "ListProperty": [],
        "ListRelationship": ["urn:a:c", {"object": "urn:a:d"}],
    }
    for kind in MAIN_MEMBER:
        for extra in ({}, meta):
            inst: Instance = {
                "type": kind,
                "value": values[kind],
                "createdAt": NOW,
                "modifiedAt": NOW,
                **extra,
            }
            entity: Entity = {
                "id": "urn:a:k",
                "type": ["https://schema.org/Store"],
                "createdAt": NOW,
                "modifiedAt": NOW,
                "attrs": {"https://ex.org/x": [inst]},
            }
            for opts in OPTIONS:
                expected = orjson.dumps(reference_render(entity, USER, opts))
                assert orjson.dumps(render_entity(entity, USER, opts)) == expected
                assert orjson.dumps(render_entities([entity], USER, opts)[0]) == expected


def test_pick_language_is_shared() -> None:
    assert _pick_language({"en": "a"}, "en") == ("en", "a")
