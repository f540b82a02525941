"""The data-model API (outside the NGSI-LD namespace, which has no such API).

GET /models, GET /models/{type}, POST /models/{type}/validate, POST /models/validate,
PUT and DELETE /models/{type} (a tenant's own models), and GET/PUT
/config/model-enforcement (off, warn or enforce for the tenant).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..datamodels import ModelError, ModelRegistry
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, NonexistentTenant, ResourceNotFound
from .keys import MODELS, STORE
from .negotiation import JSON, body_media_type
from .requests import check_params, read_json, tenant
from .responses import payload_response

__all__ = ["routes"]

routes = web.RouteTableDef()
_MODES = ("off", "warn", "enforce")


async def _registry(request: web.Request) -> ModelRegistry:
    try:
        return (await request.app[MODELS].tenant(tenant(request))).registry
    except NonexistentTenant:
        return request.app[MODELS].base


def _json(data: Any, status: int = 200) -> web.Response:
    return payload_response(data, JSON, None, status=status, link=False)


@routes.get("/models")
async def list_models(request: web.Request) -> web.Response:
    check_params(request, frozenset())
    registry = await _registry(request)
    return _json([info.as_dict() for info in registry.models()])


@routes.get("/models/{type}")
async def get_model(request: web.Request) -> web.Response:
    check_params(request, frozenset())
    name = request.match_info["type"]
    schema = (await _registry(request)).schema(name)
    if schema is None:
        raise ResourceNotFound(f"No data model for type {name!r}")
    return _json(schema)


def _reports(registry: ModelRegistry, data: Any, name: str | None) -> Any:
    entities = data if isinstance(data, list) else [data]
    out = []
    for entity in entities:
        if name is not None and isinstance(entity, dict):
            info = registry.get(name)
            if info is None:
                raise ResourceNotFound(f"No data model for type {name!r}")
            entity = {**entity, "type": entity.get("type", name)}
        try:
            out.append(registry.validate(entity))
        except ModelError as err:
            raise BadRequestData(f"The data model cannot be used: {err}") from None
    return out if isinstance(data, list) else out[0]


@routes.post("/models/validate")
async def validate_any(request: web.Request) -> web.Response:
    """Validate an entity (or an array of them) against the model of its type."""
    check_params(request, frozenset())
    body_media_type(request)
    return _json(_reports(await _registry(request), await read_json(request), None))


@routes.post("/models/{type}/validate")
async def validate_as(request: web.Request) -> web.Response:
    """Validate an entity (or an array) against the model of the given type."""
    check_params(request, frozenset())
    body_media_type(request)
    registry = await _registry(request)
    name = request.match_info["type"]
    if registry.get(name) is None:
        raise ResourceNotFound(f"No data model for type {name!r}")
    return _json(_reports(registry, await read_json(request), name))


@routes.put("/models/{type}")
async def put_model(request: web.Request) -> web.Response:
    """Register (or replace) a model for the tenant: the body is a JSON Schema."""
    check_params(request, frozenset())
    body_media_type(request)
    name = request.match_info["type"]
    schema = await read_json(request)
    if not isinstance(schema, dict):
        raise BadRequestData("A data model is a JSON Schema object")
    try:
        request.app[MODELS].base.copy().register(name, schema)  # refuse a bad schema now
    except ModelError as err:
        raise BadRequestData(f"Not a usable JSON Schema: {err}") from None
    models = await request.app[STORE].models(tenant(request), create=True)
    created = await models.put(name, schema, now_iso())
    request.app[MODELS].forget(tenant(request))
    if created:
        return web.Response(status=201, headers={"Location": f"/models/{name}"})
    return web.Response(status=204)


@routes.delete("/models/{type}")
async def delete_model(request: web.Request) -> web.Response:
    """Remove a model the tenant registered (packaged models cannot be removed)."""
    check_params(request, frozenset())
    name = request.match_info["type"]
    models = await request.app[STORE].models(tenant(request))
    if not await models.delete(name):
        raise ResourceNotFound(f"The tenant registered no data model {name!r}")
    request.app[MODELS].forget(tenant(request))
    return web.Response(status=204)


@routes.get("/config/model-enforcement")
async def get_enforcement(request: web.Request) -> web.Response:
    check_params(request, frozenset())
    try:
        mode = (await request.app[MODELS].tenant(tenant(request))).mode
    except NonexistentTenant:
        mode = request.app[MODELS].default_mode
    return _json({"mode": mode})


@routes.put("/config/model-enforcement")
async def put_enforcement(request: web.Request) -> web.Response:
    """Set the tenant's mode: {"mode": "off" | "warn" | "enforce"}."""
    check_params(request, frozenset())
    body_media_type(request)
    data = await read_json(request)
    mode = data.get("mode") if isinstance(data, dict) else None
    if mode not in _MODES:
        raise BadRequestData(f'The body must be {{"mode": one of {", ".join(_MODES)}}}')
    models = await request.app[STORE].models(tenant(request), create=True)
    await models.set_enforcement(mode)
    request.app[MODELS].forget(tenant(request))
    return web.Response(status=204)
