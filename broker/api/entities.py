"""The Context Information Provision and Consumption routes for entities (clause 6.4-6.7).

Every handler checks, in the order the conformance suite expects: media types, query
parameters, the ids in the URL, then the tenant and the body, and only then the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..ngsild.changes import EntityChange
from ..ngsild.context import Context
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, ResourceNotFound
from ..ngsild.model import Entity, Instance
from ..ngsild.operations import (
    UpdateResult,
    append_attrs,
    delete_attr,
    delete_scope,
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
    parse_scope,
    parse_types,
)
from ..ngsild.render import RenderOptions, render_entity
from ..ngsild.uris import check_uri
from ..store import EntityStore, Store
from ..store.updates import FastUpdate, partial_update, replace_instances
from .geojson import feature
from .keys import CHANGES, MODELS, STORE
from .negotiation import GEOJSON, JSON, JSONLD, response_media_type
from .query import query_entities
from .rendering import Projection, prefer_json, projection, render_options, with_context
from .requests import (
    Body,
    check_params,
    options,
    read_body,
    request_context,
    tenant,
)
from .responses import payload_response

__all__ = ["routes"]

BASE = "/ngsi-ld/v1/entities"
# Ids may be empty in the URL (/entities//attrs): that must be a 400, not a 404.
ENTITY = BASE + "/{entityId:[^/]*}"
ATTR = ENTITY + "/attrs/{attrId:[^/]+}"
routes = web.RouteTableDef()

_RETRIEVE_PARAMS = frozenset(
    {"attrs", "options", "format", "lang", "type", "geometryProperty", "local", "pick", "omit"}
)
_RETRIEVE_OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized", "sysAttrs"})
#: What render_options and projection give for a request without query parameters.
_DEFAULT_RENDER = RenderOptions()
_WHOLE = Projection()


def _store(request: web.Request) -> Store:
    return request.app[STORE]


def _entity_id(request: web.Request) -> str:
    entity_id = request.match_info["entityId"]
    if not entity_id:
        raise BadRequestData("The entity id in the URL is empty")
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


def _type_selector(request: web.Request, ctx: Context) -> list[str] | None:
    """The optional ?type= of single-entity operations: the entity must have one of them."""
    raw = request.query.get("type")
    if raw is None:
        return None
    return parse_types([t for t in raw.split(",") if t], ctx)


def _checked(
    entity_id: str, types: list[str] | None, change: Callable[[Entity], Any]
) -> Callable[[Entity], Any]:
    if types is None:
        return change

    def guarded(old: Entity) -> Any:
        if not set(types) & set(old["type"]):
            raise ResourceNotFound(f"Entity {entity_id!r} is not of the type asked for")
        return change(old)

    return guarded


def _update_result_response(result: UpdateResult) -> web.Response:
    """204 when all went in, else 207 with an UpdateResult (clause 5.2.18).

    Attribute names are given expanded, as the conformance suite reads them.
    """
    if not result.not_updated:
        return web.Response(status=204)
    body = {
        "updated": list(result.updated),
        "notUpdated": [
            {"attributeName": iri, "reason": reason} for iri, reason in result.not_updated
        ],
    }
    return payload_response(body, JSON, None, status=207)


# -- create, retrieve, query --------------------------------------------------------------


@routes.post(BASE)
@routes.post(BASE + "/")
async def create_entity(request: web.Request) -> web.Response:
    """Create Entity (clause 6.4.3.1): 201 with the entity's URL in Location."""
    check_params(request, frozenset({"local"}))
    body = await read_body(request)
    entity = parse_entity(body.data, body.context, now_iso())
    store = await _store(request).entities(tenant(request), create=True)
    checker = await request.app[MODELS].checker(request, tenant(request))
    if checker is not None:
        checker.check(entity, body.context)
    await store.create(entity)
    await _changed(request, entity["id"], None, entity)
    return web.Response(status=201, headers={"Location": f"{BASE}/{entity['id']}"})


@routes.get(ENTITY)
async def retrieve_entity(request: web.Request) -> web.StreamResponse:
    """Retrieve Entity (clause 6.5.3.1)."""
    if not request.match_info["entityId"]:
        return await query_entities(request)  # GET /entities/ is the query, not an id
    media_type = response_media_type(request)
    query = request.query
    # Without a query string (the usual read) every parameter has its default: the checks
    # below could not fail, and what they would build is the same as these constants.
    check_params(request, _RETRIEVE_PARAMS)
    opts = options(request, _RETRIEVE_OPTIONS) if query else set()
    entity_id = _entity_id(request)
    ctx, source = await request_context(request)
    if query:
        render = render_options(request, ctx, opts)
        if "geometryProperty" in query and media_type != GEOJSON:
            raise BadRequestData("geometryProperty applies only to Accept: application/geo+json")
        types = _type_selector(request, ctx)
        shape = projection(request, ctx)
    else:
        render, types, shape = _DEFAULT_RENDER, None, _WHOLE
    store = await _store(request).entities(tenant(request))
    entity = await store.get(entity_id)
    if entity is None:
        raise ResourceNotFound(f"Entity {entity_id!r} does not exist")
    if types is not None and not set(types) & set(entity["type"]):
        raise ResourceNotFound(f"Entity {entity_id!r} is not of type {request.query['type']}")
    if render.attrs is not None and not set(render.attrs) & set(entity["attrs"]):
        raise ResourceNotFound(f"Entity {entity_id!r} has none of the attributes asked for")
    if media_type == GEOJSON:
        geo = ctx.expand(request.query.get("geometryProperty", "location"))
        out = feature(entity, ctx, render, geo)
        if prefer_json(request):
            return payload_response(out, GEOJSON, source, link=True)
        return payload_response(with_context(out, source), GEOJSON, source)
    out = render_entity(entity, ctx, render)
    if shape.selects:
        out = shape.apply(out)
        if shape.empty(out):
            raise ResourceNotFound(f"Nothing of entity {entity_id!r} is left after pick/omit")
    if media_type == JSONLD:
        with_context(out, source)
    return payload_response(out, media_type, source)


# -- whole-entity updates -----------------------------------------------------------------


@routes.delete(ENTITY)
async def delete_entity(request: web.Request) -> web.Response:
    """Delete Entity (clause 6.5.3.2)."""
    check_params(request, frozenset({"type", "local"}))
    entity_id = _entity_id(request)
    ctx, _ = await request_context(request)
    types = _type_selector(request, ctx)
    store = await _store(request).entities(tenant(request))
    if types is not None:
        entity = await store.get(entity_id)
        if entity is None or not set(types) & set(entity["type"]):
            raise ResourceNotFound(f"No entity {entity_id!r} of type {request.query['type']}")
    old = await store.delete(entity_id)
    await _changed(request, entity_id, old, None)
    return web.Response(status=204)


def _check_body_id(data: dict[str, Any], entity_id: str) -> None:
    body_id = data.get("id", data.get("@id"))
    if body_id is not None and body_id != entity_id:
        raise BadRequestData(
            f"The body's id {body_id!r} does not match the entity id in the URL {entity_id!r}"
        )


async def _modify(
    request: web.Request,
    entity_id: str,
    ctx: Context,
    change: Callable[[Entity], Any],
    fast: FastUpdate | None = None,
) -> Any:
    """Apply change to the entity in the request's tenant; its result.

    With fast (the same change as a MongoDB update), it takes one round trip.
    """
    types = _type_selector(request, ctx)
    store: EntityStore = await _store(request).entities(tenant(request))
    guarded = _checked(entity_id, types, change)
    checker = await request.app[MODELS].checker(request, tenant(request))
    if checker is not None:
        # The check needs the resulting entity: read-modify-write, not the fast path.
        guarded, fast = checker.wrap(guarded, ctx), None
    if fast is not None:
        old, new, result = await store.modify_fast(entity_id, fast, guarded, types)
    else:
        old, new, result = await store.modify(entity_id, guarded)
    await _changed(request, entity_id, old, new)
    return result


async def _changed(
    request: web.Request, entity_id: str, old: Entity | None, new: Entity | None
) -> None:
    """Tell the notifier (subscriptions) what this write did."""
    change = EntityChange(tenant(request), entity_id, old, new)
    await request.app[CHANGES].entities_changed([change])


@routes.put(ENTITY)
async def replace_whole_entity(request: web.Request) -> web.Response:
    """Replace Entity (clause 6.5.3.3): new types and attributes, same id."""
    check_params(request, frozenset({"type", "local"}))
    entity_id = _entity_id(request)
    body = await read_body(request)
    data = _object_body(body, "The replacement entity")
    _check_body_id(data, entity_id)
    now = now_iso()
    replacement = parse_entity({**data, "id": entity_id}, body.context, now, require_type=False)
    await _modify(
        request, entity_id, body.context, lambda old: (replace_entity(old, replacement, now), None)
    )
    return web.Response(status=204)


@routes.patch(ENTITY)
async def merge_whole_entity(request: web.Request) -> web.Response:
    """Merge Entity (clause 6.5.3.4)."""
    check_params(request, frozenset({"type", "local", "options", "format"}))
    entity_id = _entity_id(request)
    body = await read_body(request, merge_patch=True)
    data = _object_body(body, "The merge payload")
    _check_body_id(data, entity_id)
    now = now_iso()
    types = parse_types(data["type"], body.context) if "type" in data else []
    scope = parse_scope(data["scope"]) if "scope" in data else None
    attrs = parse_fragment(data, body.context, now, partial=True)
    await _modify(
        request,
        entity_id,
        body.context,
        lambda old: (merge_entity(old, types, attrs, now, scope=scope), None),
    )
    return web.Response(status=204)


# -- attributes ----------------------------------------------------------------------------


def _fragment_parts(
    body: Body, now: str, *, partial: bool
) -> tuple[dict[str, list[Instance]], list[str], list[str] | None]:
    data = _object_body(body, "The attributes payload")
    attrs = parse_fragment(data, body.context, now, partial=partial)
    types = parse_types(data["type"], body.context) if "type" in data else []
    scope = parse_scope(data["scope"]) if "scope" in data else None
    if not attrs and not types and scope is None:
        raise BadRequestData("The payload has no attributes")
    return attrs, types, scope


@routes.post(ENTITY + "/attrs")
@routes.post(ENTITY + "/attrs/")
async def append_entity_attrs(request: web.Request) -> web.Response:
    """Append Entity Attributes (clause 6.6.3.1): 204, or 207 with what was not appended."""
    check_params(request, frozenset({"options", "type", "local"}))
    opts = options(request, frozenset({"noOverwrite"}))
    entity_id = _entity_id(request)
    body = await read_body(request)
    now = now_iso()
    attrs, types, scope = _fragment_parts(body, now, partial=False)
    no_overwrite = "noOverwrite" in opts
    result = await _modify(
        request,
        entity_id,
        body.context,
        lambda old: append_attrs(
            old, attrs, now, no_overwrite=no_overwrite, types=types, scope=scope
        ),
    )
    return _update_result_response(result)


@routes.patch(ENTITY + "/attrs")
@routes.patch(ENTITY + "/attrs/")
async def update_entity_attrs(request: web.Request) -> web.Response:
    """Update Entity Attributes (clause 6.6.3.2)."""
    check_params(request, frozenset({"options", "type", "local"}))
    entity_id = _entity_id(request)
    body = await read_body(request, merge_patch=True)
    now = now_iso()
    attrs, types, scope = _fragment_parts(body, now, partial=True)
    fast = replace_instances(attrs, now) if not types and scope is None else None
    result = await _modify(
        request,
        entity_id,
        body.context,
        lambda old: update_attrs(old, attrs, now, types=types, scope=scope),
        fast,
    )
    return _update_result_response(result)


async def _attribute_request(
    request: web.Request, *, merge_patch: bool
) -> tuple[str, str, str, Body, str]:
    """Entity id, attribute name and IRI, and the attribute payload (without @context)."""
    check_params(request, frozenset({"type", "local"}))
    entity_id = _entity_id(request)
    name = _attr_name(request)
    if name == "scope":
        raise BadRequestData("'scope' is not an attribute: update it through PATCH .../attrs")
    body = await read_body(request, merge_patch=merge_patch)
    data = _object_body(body, f"The payload for attribute {name!r}")
    data = {k: v for k, v in data.items() if k != "@context"}
    if not data:
        raise BadRequestData(f"The payload for attribute {name!r} is empty")
    payload = Body(data, body.media_type, body.context, body.context_source)
    return entity_id, name, body.context.expand(name), payload, now_iso()


@routes.patch(ATTR)
async def partial_attr_update(request: web.Request) -> web.Response:
    """Partial Attribute Update (clause 6.7.3.1)."""
    entity_id, name, iri, body, now = await _attribute_request(request, merge_patch=True)
    patch = parse_fragment({name: body.data}, body.context, now, partial=True)[iri]
    fast = partial_update(iri, patch[0], now) if len(patch) == 1 else None
    await _modify(
        request,
        entity_id,
        body.context,
        lambda old: (partial_update_attr(old, iri, name, patch, now), None),
        fast,
    )
    return web.Response(status=204)


@routes.put(ATTR)
async def replace_attribute(request: web.Request) -> web.Response:
    """Replace Attribute (clause 6.7.3.3)."""
    entity_id, name, iri, body, now = await _attribute_request(request, merge_patch=False)
    instances = parse_fragment({name: body.data}, body.context, now)[iri]
    await _modify(
        request,
        entity_id,
        body.context,
        lambda old: (replace_attr(old, iri, name, instances, now), None),
    )
    return web.Response(status=204)


@routes.delete(ATTR)
async def delete_attribute(request: web.Request) -> web.Response:
    """Delete Entity Attribute (clause 6.7.3.2): datasetId and deleteAll select instances."""
    check_params(request, frozenset({"datasetId", "deleteAll", "type", "local"}))
    entity_id = _entity_id(request)
    name = _attr_name(request)
    ctx, _ = await request_context(request)
    dataset_id = request.query.get("datasetId")
    if dataset_id is not None:
        check_uri(dataset_id, "datasetId")
    delete_all = request.query.get("deleteAll", "false")
    if delete_all not in ("true", "false"):
        raise BadRequestData(f"deleteAll must be true or false, got {delete_all!r}")
    now = now_iso()
    if name == "scope":
        await _modify(request, entity_id, ctx, lambda old: (delete_scope(old, now), None))
        return web.Response(status=204)
    iri = ctx.expand(name)
    await _modify(
        request,
        entity_id,
        ctx,
        lambda old: (
            delete_attr(
                old, iri, name, now, dataset_id=dataset_id, delete_all=delete_all == "true"
            ),
            None,
        ),
    )
    return web.Response(status=204)
