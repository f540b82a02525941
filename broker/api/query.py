"""Query Entities, by GET /entities (clause 6.4.3.2) and POST /entityOperations/query
(clause 6.23.3.1): both become one EntityQuery that the store turns into one filter."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.errors import BadRequestData, OperationNotSupported
from ..ngsild.geoquery import parse_geoquery
from ..ngsild.q import parse_q, parse_type_expression
from ..ngsild.render import RenderOptions, render_entities
from ..ngsild.uris import check_uri
from ..store import EntityQuery, Selector
from .geojson import feature_collection
from .keys import STORE
from .negotiation import GEOJSON, JSONLD, response_media_type
from .rendering import Projection, not_yet, prefer_json, projection, render_options, with_context
from .requests import (
    check_params,
    options,
    paging,
    read_body,
    read_json,
    request_context,
    tenant,
    want_format,
)
from .responses import context_value, payload_response

__all__ = ["query_entities", "routes"]

routes = web.RouteTableDef()

_OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized", "sysAttrs"})
_GET_PARAMS = frozenset(
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
        "join",
        "joinLevel",
        "entityMap",
        "orderBy",
        "orderFrom",
        "collation",
    }
)
_GET_NOT_YET = ("csf", "join", "datasetId", "orderBy")
_POST_PARAMS = frozenset({"options", "format", "local", "limit", "offset", "count", "lang"})
_BODY_MEMBERS = frozenset(
    {"type", "entities", "attrs", "q", "geoQ", "scopeQ", "lang", "csf", "@context", "local"}
)


def _check_pattern(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as err:
        raise BadRequestData(f"idPattern is not a valid regular expression: {err}") from None


@routes.get("/ngsi-ld/v1/entities")
@routes.get("/ngsi-ld/v1/entities/")
async def query_entities(request: web.Request) -> web.Response:
    """Query Entities (clause 5.7.2): the whole query language, geo-queries and paging."""
    media_type = response_media_type(request)
    check_params(request, _GET_PARAMS)
    opts = options(request, _OPTIONS)
    ctx, source = await request_context(request)
    render = render_options(request, ctx, opts)
    if "geometryProperty" in request.query and media_type != GEOJSON:
        raise BadRequestData("geometryProperty applies only to Accept: application/geo+json")
    query = request.query
    type_text = query.get("type")
    types = parse_type_expression(type_text, ctx) if type_text and type_text != "*" else None
    ids = [i.strip() for i in query["id"].split(",") if i.strip()] if "id" in query else None
    for i in ids or ():
        check_uri(i, "An entity id in 'id'")
    pattern = query.get("idPattern")
    if pattern is not None:
        _check_pattern(pattern)
    q = parse_q(query["q"], ctx) if "q" in query else None
    geo = parse_geoquery(
        query.get("georel"),
        query.get("geometry"),
        query.get("coordinates"),
        query.get("geoproperty"),
        ctx.expand,
    )
    local = query.get("local") == "true"
    if not (type_text or render.attrs or q or geo or local or "scopeQ" in query):
        raise BadRequestData(
            "Query Entities needs at least one of type, attrs, q or georel (clause 5.7.2), "
            "or local=true"
        )
    not_yet(request, _GET_NOT_YET)
    limit, offset, count = paging(request)
    selector = Selector(types, ids, pattern)
    scope_q = query.get("scopeQ")
    shape = projection(request, ctx)
    spec = EntityQuery(
        selectors=(selector,),
        attrs=render.attrs,
        q=q,
        geo=geo,
        scope_q=scope_q,
        limit=limit,
        offset=offset,
        count=count,
    )
    return await _answer(request, spec, ctx, source, render, media_type, shape)


@routes.post("/ngsi-ld/v1/entityOperations/query")
async def query_by_post(request: web.Request) -> web.Response:
    """Query Entities by POST (clause 5.7.2, 6.23.3.1): a Query (clause 5.2.23) in the body."""
    media_type = response_media_type(request)
    check_params(request, _POST_PARAMS)
    opts = options(request, _OPTIONS)
    body = await _query_body(request)
    data = body[0]
    ctx: Context = body[1]
    source = body[2]
    unknown = set(data) - _BODY_MEMBERS
    if unknown:
        raise BadRequestData(
            f"A Query has no member {sorted(unknown)[0]!r} (clause 5.2.23); "
            "temporalQ belongs to temporal queries"
        )
    if data.get("type") != "Query":
        raise BadRequestData('A query body needs "type": "Query" (clause 5.2.23)')
    selectors = _selectors(data.get("entities"), ctx)
    attrs = _string_list(data, "attrs")
    q_text = data.get("q")
    if q_text is not None and not isinstance(q_text, str):
        raise BadRequestData("'q' must be a string in the query language of clause 4.9")
    q = parse_q(q_text, ctx) if q_text else None
    geo = None
    if "geoQ" in data:
        raw = data["geoQ"]
        if not isinstance(raw, dict):
            raise BadRequestData("'geoQ' must be an object with geometry, coordinates, georel")
        geo = parse_geoquery(
            raw.get("georel"),
            raw.get("geometry"),
            raw.get("coordinates"),
            raw.get("geoproperty"),
            ctx.expand,
        )
        if geo is None:
            raise BadRequestData("'geoQ' needs georel, geometry and coordinates")
    if not (selectors or attrs or q or geo or "scopeQ" in data):
        raise BadRequestData("A Query needs at least one of entities, attrs, q, geoQ or scopeQ")
    if "csf" in data:
        raise OperationNotSupported("csf is not supported by this broker yet")
    lang = data.get("lang")
    render = RenderOptions(
        format=want_format(request, opts),
        sys_attrs="sysAttrs" in opts,
        attrs=[ctx.expand(a) for a in attrs] if attrs else None,
        lang=lang if isinstance(lang, str) else request.query.get("lang"),
    )
    limit, offset, count = paging(request)
    scope_q = data.get("scopeQ")
    if scope_q is not None and not isinstance(scope_q, str):
        raise BadRequestData("'scopeQ' must be a string (clause 4.19)")
    spec = EntityQuery(
        selectors=selectors,
        attrs=render.attrs,
        q=q,
        geo=geo,
        scope_q=scope_q,
        limit=limit,
        offset=offset,
        count=count,
    )
    return await _answer(request, spec, ctx, source, render, media_type)


async def _query_body(request: web.Request) -> tuple[dict[str, Any], Context, object]:
    """The Query and its @context. ld+json without a body @context falls back to the Link
    header here (a query writes nothing, and clients do send that)."""
    if request.content_type == JSONLD:
        data = await read_json(request)  # aiohttp keeps the body: read_body reads it again
        if isinstance(data, dict) and "@context" not in data:
            ctx, source = await request_context(request)
            return data, ctx, source
    body = await read_body(request)
    if not isinstance(body.data, dict):
        raise BadRequestData("A query body must be a JSON object")
    return body.data, body.context, body.context_source


def _string_list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadRequestData(f"'{name}' must be a non-empty array of strings")
    return value


def _selectors(raw: object, ctx: Context) -> tuple[Selector, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise BadRequestData("'entities' must be a non-empty array of EntitySelectors")
    out: list[Selector] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise BadRequestData("Each EntitySelector needs a 'type' (clause 5.2.33)")
        ids_raw = item.get("id")
        ids: list[str] | None = None
        if ids_raw is not None:
            ids = ids_raw if isinstance(ids_raw, list) else [ids_raw]
            if not ids:
                raise BadRequestData("An EntitySelector's 'id' must not be an empty array")
            for i in ids:
                check_uri(i, "An EntitySelector 'id'")
        pattern = item.get("idPattern")
        if pattern is not None:
            if not isinstance(pattern, str):
                raise BadRequestData("'idPattern' must be a string")
            _check_pattern(pattern)
        out.append(Selector(parse_type_expression(item["type"], ctx), ids, pattern))
    return tuple(out)


async def _answer(
    request: web.Request,
    spec: EntityQuery,
    ctx: Context,
    source: object,
    render: RenderOptions,
    media_type: str,
    shape: Projection | None = None,
) -> web.Response:
    shape = shape or Projection()
    store = await request.app[STORE].entities(tenant(request))
    entities, total = await store.query(spec)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else None
    if media_type == GEOJSON:
        geo = ctx.expand(request.query.get("geometryProperty", "location"))
        collection = feature_collection(entities, ctx, render, geo)
        if prefer_json(request):
            return payload_response(collection, GEOJSON, source, headers=headers, link=True)
        collection["@context"] = context_value(source)
        return payload_response(collection, GEOJSON, source, headers=headers)
    out = render_entities(entities, ctx, render)
    if media_type == JSONLD:
        for item in out:
            with_context(item, source)
    if shape.selects:
        out = [shape.apply(item) for item in out]
    return payload_response(out, media_type, source, headers=headers)
