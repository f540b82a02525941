"""The Context Information Provision and Consumption routes for entities (clause 6.4-6.7)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, ResourceNotFound
from ..ngsild.model import Entity
from ..ngsild.operations import (
    UpdateResult,
    append_attrs,
    delete_attr,
    merge_entity,
    partial_update_attr,
    replace_attr,
    replace_entity,
    update_attrs,
)
from ..ngsild.parse import (
    check_attribute_name,
    parse_entity,
    parse_fragment,
    parse_types,
)
from ..ngsild.render import RenderOptions, render_entity
from ..ngsild.uris import check_uri
from ..store import EntityQuery, Store
from .geojson import feature, feature_collection
from .negotiation import GEOJSON, JSONLD, response_media_type
from .requests import Body, options, read_body, request_context, tenant, want_format
from .responses import context_value, payload_response
from .keys import SETTINGS, STORE

__all__ = ["routes"]

BASE = "/ngsi-ld/v1/entities"
routes = web.RouteTableDef()


def _store(request: web.Request) -> Store:
    store: Store = request.app[STORE]
    return store


def _entity_id(request: web.Request) -> str:
    entity_id = request.match_info["entityId"]
    check_uri(entity_id, "The entity id in the URL")
    return entity_id


def _attr_name(request: web.Request) -> str:
    name = request.match_info["attrId"]
    check_attribute_name(name)
    return name


def _object_body(body: Body, what: str) -> dict[str, Any]:
    if not isinstance(body.data, dict):
        raise BadRequestData(f"{what} must be a JSON object")
    data: dict[str, Any] = body.data
    return data


def _attrs_param(request: web.Request, ctx: Context) -> list[str] | None:
    raw = request.query.getall("attrs", [])
    if not raw:
        return None
    names = [n.strip() for chunk in raw for n in chunk.split(",") if n.strip()]
    for name in names:
        check_attribute_name(name)
    return [ctx.expand(n) for n in names]


def _render_options(request: web.Request, ctx: Context, opts: set[str]) -> RenderOptions:
    return RenderOptions(
        format=want_format(request, opts),
        sys_attrs="sysAttrs" in opts,
        attrs=_attrs_param(request, ctx),
        lang=request.query.get("lang"),
    )


def _update_result_response(result: UpdateResult, ctx: Context) -> web.Response:
    if not result.not_updated:
        return web.Response(status=204)
    body = {
        "updated": [ctx.compact(iri) for iri in result.updated],
        "notUpdated": [
            {"attributeName": ctx.compact(iri), "reason": reason}
            for iri, reason in result.not_updated
        ],
    }
    return payload_response(body, "application/json", None, status=207)


# -- create, retrieve, query --------------------------------------------------------------


@routes.post(BASE)
@routes.post(BASE + "/")
async def create_entity(request: web.Request) -> web.Response:
    """Create Entity (clause 6.4.3.1): 201 with the entity's URL in Location."""
    body = await read_body(request)
    entity = parse_entity(body.data, body.context, now_iso())
    store = await _store(request).entities(tenant(request), create=True)
    await store.create(entity)
    location = f"{BASE}/{entity['id']}"
    return web.Response(status=201, headers={"Location": location})


def _with_context(data: dict[str, Any], source: object) -> dict[str, Any]:
    data["@context"] = context_value(source)
    return data


@routes.get(BASE + "/{entityId}")
async def retrieve_entity(request: web.Request) -> web.Response:
    """Retrieve Entity (clause 6.5.3.1)."""
    entity_id = _entity_id(request)
    media_type = response_media_type(request)
    ctx, source = await request_context(request)
    opts = options(request, frozenset({"keyValues", "concise", "normalized", "sysAttrs"}))
    render = _render_options(request, ctx, opts)
    store = await _store(request).entities(tenant(request))
    entity = await store.get(entity_id)
    if entity is None:
        raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
    wanted_types = request.query.get("type")
    if wanted_types:
        types = parse_types([t for t in wanted_types.split(",") if t], ctx)
        if not set(types) & set(entity["type"]):
            raise ResourceNotFound(f"Entity {entity_id!r} is not of type {wanted_types}")
    if media_type == GEOJSON:
        geo = ctx.expand(request.query.get("geometryProperty", "location"))
        out = feature(entity, ctx, render, geo)
    else:
        out = render_entity(entity, ctx, render)
    if media_type != "application/json":
        _with_context(out, source)
    return payload_response(out, media_type, source)


_QUERY_PARAMS = frozenset(
    {
        "type",
        "id",
        "idPattern",
        "attrs",
        "q",
        "georel",
        "geometry",
        "coordinates",
        "geoproperty",
        "geometryProperty",
        "limit",
        "offset",
        "count",
        "options",
        "format",
        "lang",
        "local",
        "csf",
        "scopeQ",
        "pick",
        "omit",
        "datasetId",
        "expandValues",
        "containedBy",
        "join",
        "joinLevel",
        "entityMap",
    }
)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise BadRequestData(f"{name} must be a non-negative integer, got {raw!r}")
    return int(raw)


@routes.get(BASE)
@routes.get(BASE + "/")
async def query_entities(request: web.Request) -> web.Response:
    """Query Entities (clause 6.4.3.2): type, id, idPattern, attrs, pagination and count."""
    media_type = response_media_type(request)
    ctx, source = await request_context(request)
    for name in request.query:
        if name not in _QUERY_PARAMS:
            raise BadRequestData(f"Unknown query parameter {name!r}")
    for name in ("q", "georel", "scopeQ", "csf", "pick", "omit", "join", "containedBy"):
        if name in request.query:
            raise web.HTTPNotImplemented(
                text=f"The query parameter {name!r} is not implemented yet in this broker"
            )
    opts = options(request, frozenset({"keyValues", "concise", "normalized", "sysAttrs"}))
    render = _render_options(request, ctx, opts)
    types_raw = request.query.get("type")
    types = parse_types([t for t in types_raw.split(",") if t], ctx) if types_raw else None
    ids_raw = request.query.get("id")
    ids = [i.strip() for i in ids_raw.split(",") if i.strip()] if ids_raw else None
    for i in ids or ():
        check_uri(i, "An entity id in 'id'")
    pattern = request.query.get("idPattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as err:
            raise BadRequestData(f"idPattern is not a valid regular expression: {err}") from None
    if not (types or ids or pattern or render.attrs or request.query.get("local") == "true"):
        raise BadRequestData(
            "Query Entities needs at least one of type, id, idPattern, attrs, q or georel "
            "(clause 5.7.2), or local=true"
        )
    settings = request.app[SETTINGS]
    limit = _int_param(request, "limit", 20)
    if limit > settings.max_limit:
        raise BadRequestData(f"limit {limit} is over the maximum of {settings.max_limit}")
    count = request.query.get("count")
    if count not in (None, "true", "false"):
        raise BadRequestData(f"count must be true or false, got {count!r}")
    query = EntityQuery(
        types=types,
        ids=ids,
        id_pattern=pattern,
        attrs=render.attrs,
        limit=limit,
        offset=_int_param(request, "offset", 0),
        count=count == "true",
    )
    store = await _store(request).entities(tenant(request))
    entities, total = await store.query(query)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else None
    if media_type == GEOJSON:
        geo = ctx.expand(request.query.get("geometryProperty", "location"))
        collection = feature_collection(entities, ctx, render, geo)
        if source is not None:
            collection["@context"] = context_value(source)
        return payload_response(collection, media_type, source, headers=headers)
    out: list[dict[str, Any]] = [render_entity(e, ctx, render) for e in entities]
    if media_type == JSONLD:
        for item in out:
            _with_context(item, source)
    return payload_response(out, media_type, source, headers=headers)


# -- whole-entity updates -----------------------------------------------------------------


@routes.delete(BASE + "/{entityId}")
async def delete_entity(request: web.Request) -> web.Response:
    """Delete Entity (clause 6.5.3.2)."""
    entity_id = _entity_id(request)
    store = await _store(request).entities(tenant(request))
    await store.delete(entity_id)
    return web.Response(status=204)


def _check_body_id(data: dict[str, Any], entity_id: str) -> None:
    body_id = data.get("id", data.get("@id"))
    if body_id is not None and body_id != entity_id:
        raise BadRequestData(
            f"The body's id {body_id!r} does not match the entity id in the URL {entity_id!r}"
        )


@routes.put(BASE + "/{entityId}")
async def replace_whole_entity(request: web.Request) -> web.Response:
    """Replace Entity (clause 6.5.3.3): new types and attributes, same id."""
    entity_id = _entity_id(request)
    body = await read_body(request)
    data = _object_body(body, "The replacement entity")
    _check_body_id(data, entity_id)
    now = now_iso()
    replacement = parse_entity({**data, "id": entity_id}, body.context, now, require_type=False)
    store = await _store(request).entities(tenant(request), create=True)
    await store.modify(entity_id, lambda old: (replace_entity(old, replacement, now), None))
    return web.Response(status=204)


@routes.patch(BASE + "/{entityId}")
async def merge_whole_entity(request: web.Request) -> web.Response:
    """Merge Entity (clause 6.5.3.4)."""
    entity_id = _entity_id(request)
    body = await read_body(request, merge_patch=True)
    data = _object_body(body, "The merge payload")
    _check_body_id(data, entity_id)
    now = now_iso()
    types = parse_types(data["type"], body.context) if "type" in data else []
    attrs = parse_fragment(data, body.context, now, partial=True)
    if not attrs and not types:
        raise BadRequestData("The merge payload has no attributes")
    store = await _store(request).entities(tenant(request), create=True)
    await store.modify(entity_id, lambda old: (merge_entity(old, types, attrs, now), None))
    return web.Response(status=204)


# -- attributes ----------------------------------------------------------------------------


def _fragment(body: Body, now: str) -> dict[str, Any]:
    data = _object_body(body, "The attributes payload")
    attrs = parse_fragment(data, body.context, now)
    if not attrs:
        raise BadRequestData("The payload has no attributes")
    return attrs


@routes.post(BASE + "/{entityId}/attrs")
@routes.post(BASE + "/{entityId}/attrs/")
async def append_entity_attrs(request: web.Request) -> web.Response:
    """Append Entity Attributes (clause 6.6.3.1): 204, or 207 with what was not appended."""
    entity_id = _entity_id(request)
    opts = options(request, frozenset({"noOverwrite"}))
    body = await read_body(request)
    now = now_iso()
    data = _object_body(body, "The attributes payload")
    attrs = parse_fragment(data, body.context, now)
    types = parse_types(data["type"], body.context) if "type" in data else []
    if not attrs and not types:
        raise BadRequestData("The payload has no attributes")

    def change(old: Entity) -> tuple[Entity, UpdateResult]:
        new, result = append_attrs(old, attrs, now, no_overwrite="noOverwrite" in opts)
        missing = [t for t in types if t not in new["type"]]
        if missing:
            new = {**new, "type": [*new["type"], *missing], "modifiedAt": now}
        return new, result

    store = await _store(request).entities(tenant(request), create=True)
    _, _, result = await store.modify(entity_id, change)
    return _update_result_response(result, body.context)


@routes.patch(BASE + "/{entityId}/attrs")
@routes.patch(BASE + "/{entityId}/attrs/")
async def update_entity_attrs(request: web.Request) -> web.Response:
    """Update Entity Attributes (clause 6.6.3.2): only existing attributes change."""
    entity_id = _entity_id(request)
    body = await read_body(request)
    now = now_iso()
    attrs = _fragment(body, now)
    store = await _store(request).entities(tenant(request), create=True)
    _, _, result = await store.modify(entity_id, lambda old: update_attrs(old, attrs, now))
    return _update_result_response(result, body.context)


def _single_attribute(body: Body, name: str, now: str) -> tuple[str, list[dict[str, Any]]]:
    data = _object_body(body, f"The payload for attribute {name!r}")
    if not data:
        raise BadRequestData(f"The payload for attribute {name!r} is empty")
    iri = body.context.expand(name)
    attrs = parse_fragment({name: data}, body.context, now)
    return iri, attrs[iri]


@routes.patch(BASE + "/{entityId}/attrs/{attrId}")
async def partial_attr_update(request: web.Request) -> web.Response:
    """Partial Attribute Update (clause 6.7.3.1)."""
    entity_id = _entity_id(request)
    name = _attr_name(request)
    body = await read_body(request)
    now = now_iso()
    data = _object_body(body, f"The payload for attribute {name!r}")
    iri = body.context.expand(name)
    if not data:
        raise BadRequestData(f"The payload for attribute {name!r} is empty")
    patch = parse_fragment({name: data}, body.context, now, partial=True)[iri]
    store = await _store(request).entities(tenant(request), create=True)
    await store.modify(
        entity_id, lambda old: (partial_update_attr(old, iri, name, patch, now), None)
    )
    return web.Response(status=204)


@routes.put(BASE + "/{entityId}/attrs/{attrId}")
async def replace_attribute(request: web.Request) -> web.Response:
    """Replace Attribute (clause 6.7.3.3)."""
    entity_id = _entity_id(request)
    name = _attr_name(request)
    body = await read_body(request)
    now = now_iso()
    iri, instances = _single_attribute(body, name, now)
    store = await _store(request).entities(tenant(request), create=True)
    await store.modify(entity_id, lambda old: (replace_attr(old, iri, name, instances, now), None))
    return web.Response(status=204)


@routes.delete(BASE + "/{entityId}/attrs/{attrId}")
async def delete_attribute(request: web.Request) -> web.Response:
    """Delete Entity Attribute (clause 6.7.3.2): datasetId and deleteAll select instances."""
    entity_id = _entity_id(request)
    name = _attr_name(request)
    ctx, _ = await request_context(request)
    dataset_id = request.query.get("datasetId")
    if dataset_id is not None:
        check_uri(dataset_id, "datasetId")
    delete_all = request.query.get("deleteAll", "false")
    if delete_all not in ("true", "false"):
        raise BadRequestData(f"deleteAll must be true or false, got {delete_all!r}")
    iri = ctx.expand(name)
    now = now_iso()
    store = await _store(request).entities(tenant(request))
    await store.modify(
        entity_id,
        lambda old: (
            delete_attr(
                old, iri, name, now, dataset_id=dataset_id, delete_all=delete_all == "true"
            ),
            None,
        ),
    )
    return web.Response(status=204)
