"""Discovery of entity types and attributes (clause 6.25-6.28: /types, /attributes)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ..ngsild.context import Context
from ..ngsild.errors import BadRequestData, ResourceNotFound
from ..ngsild.parse import check_attribute_name
from ..store.discovery import attribute_infos, type_infos
from .keys import STORE
from .negotiation import JSONLD, response_media_type
from .requests import check_params, request_context, tenant
from .responses import context_value, payload_response

__all__ = ["routes"]

routes = web.RouteTableDef()
TYPES = "/ngsi-ld/v1/types"
ATTRIBUTES = "/ngsi-ld/v1/attributes"


def _details(request: web.Request) -> bool:
    value = request.query.get("details", "false")
    if value not in ("true", "false"):
        raise BadRequestData(f"details must be true or false, got {value!r}")
    return value == "true"


def _respond(request: web.Request, data: Any, media_type: str, source: object) -> web.Response:
    if media_type == JSONLD:
        items = data if isinstance(data, list) else [data]
        for item in items:
            item["@context"] = context_value(source)
    return payload_response(data, media_type, source)


def _names(ctx: Context, iris: set[str]) -> list[str]:
    return sorted(ctx.compact(i) for i in iris)


async def _entities(request: web.Request) -> Any:
    return await request.app[STORE].entities(tenant(request))


@routes.get(TYPES)
@routes.get(TYPES + "/")
async def entity_types(request: web.Request) -> web.Response:
    """Retrieve Available Entity Types (clause 6.25.3.1): a list, or details of each."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset({"details", "local"}))
    details = _details(request)
    ctx, source = await request_context(request)
    infos = await type_infos(await _entities(request))
    if details:
        out: Any = [
            {
                "id": iri,
                "type": "EntityType",
                "typeName": ctx.compact(iri),
                "attributeNames": _names(ctx, info.attributes),
            }
            for iri, info in sorted(infos.items())
        ]
    else:
        out = {
            "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
            "type": "EntityTypeList",
            "typeList": _names(ctx, set(infos)),
        }
    return _respond(request, out, media_type, source)


@routes.get(TYPES + "/{type}")
async def entity_type_info(request: web.Request) -> web.Response:
    """Retrieve Entity Type Information (clause 6.26.3.1)."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset({"local"}))
    ctx, source = await request_context(request)
    name = request.match_info["type"]
    check_attribute_name(name, "entity type")
    iri = ctx.expand(name)
    store = await _entities(request)
    infos = await type_infos(store, iri)
    if iri not in infos:
        raise ResourceNotFound(f"No entity has the type {name!r}")
    attributes = await attribute_infos(store, of_type=iri)
    out = {
        "id": iri,
        "type": "EntityTypeInfo",
        "typeName": ctx.compact(iri),
        "entityCount": infos[iri].entity_count,
        "attributeDetails": [
            {
                "id": attr,
                "type": "Attribute",
                "attributeName": ctx.compact(attr),
                "attributeTypes": sorted(info.kinds),
            }
            for attr, info in sorted(attributes.items())
        ],
    }
    return _respond(request, out, media_type, source)


@routes.get(ATTRIBUTES)
@routes.get(ATTRIBUTES + "/")
async def attributes(request: web.Request) -> web.Response:
    """Retrieve Available Attributes (clause 6.27.3.1)."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset({"details", "local"}))
    details = _details(request)
    ctx, source = await request_context(request)
    infos = await attribute_infos(await _entities(request))
    if details:
        out: Any = [
            {
                "id": iri,
                "type": "Attribute",
                "attributeName": ctx.compact(iri),
                "typeNames": _names(ctx, info.types),
            }
            for iri, info in sorted(infos.items())
        ]
    else:
        out = {
            "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
            "type": "AttributeList",
            "attributeList": _names(ctx, set(infos)),
        }
    return _respond(request, out, media_type, source)


@routes.get(ATTRIBUTES + "/{attrId}")
async def attribute_info(request: web.Request) -> web.Response:
    """Retrieve Available Attribute Information (clause 6.28.3.1)."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset({"local"}))
    ctx, source = await request_context(request)
    name = request.match_info["attrId"]
    check_attribute_name(name)
    iri = ctx.expand(name)
    infos = await attribute_infos(await _entities(request), iri)
    info = infos.get(iri)
    if info is None:
        raise ResourceNotFound(f"No entity has the attribute {name!r}")
    out = {
        "id": iri,
        "type": "Attribute",
        "attributeName": ctx.compact(iri),
        "attributeCount": info.entity_count,
        "attributeTypes": sorted(info.kinds),
        "typeNames": _names(ctx, info.types),
    }
    return _respond(request, out, media_type, source)
