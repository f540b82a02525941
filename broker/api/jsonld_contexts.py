"""The @context hosting API (clause 5.13, /ngsi-ld/v1/jsonldContexts).

Lets a city publish its vocabulary through the broker itself: clients point their Link
headers at the broker, and no request depends on a third-party web server. Three kinds
are listed: Hosted (added here, per tenant), Cached (remote contexts the broker fetched)
and the built-in core context.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from ..ngsild.context import (
    CORE_CONTEXT_URL,
    CORE_CONTEXT_URLS,
    ContextError,
    build_context,
    core_context_document,
    missing_urls,
)
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import (
    BadRequestData,
    InvalidRequest,
    NonexistentTenant,
    ResourceNotFound,
)
from ..store import ContextStore, Store
from .keys import CONTEXTS, SETTINGS, STARTED_AT, STORE
from .ldcontext import HOSTED_PATH, CachedContext
from .negotiation import JSON, body_media_type
from .requests import check_params, tenant
from .responses import payload_response

__all__ = ["routes"]

BASE = HOSTED_PATH.rstrip("/")
routes = web.RouteTableDef()

_KINDS = ("Hosted", "Cached", "ImplicitlyCreated")


def _public_base(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured.rstrip("/") if configured else str(request.url.origin())


def _store(request: web.Request) -> Store:
    return request.app[STORE]


def _cached_id(url: str) -> str:
    return "urn:kaido:cached:" + hashlib.sha256(url.encode()).hexdigest()[:24]


def _hosted_details(record: dict[str, Any], base: str) -> dict[str, Any]:
    details = {
        "URL": f"{base}{BASE}/{record['_id']}",
        "localId": record["_id"],
        "kind": record.get("kind", "Hosted"),
        "createdAt": record["createdAt"],
    }
    if record.get("lastUsage"):
        details["lastUsage"] = record["lastUsage"]
    return details


def _cached_details(cached: CachedContext) -> dict[str, Any]:
    return {
        "URL": cached.url,
        "localId": _cached_id(cached.url),
        "kind": "Cached",
        "createdAt": cached.created_at,
    }


def _core_details(request: web.Request) -> dict[str, Any]:
    return {
        "URL": CORE_CONTEXT_URL,
        "localId": "urn:kaido:core",
        "kind": "Cached",
        "createdAt": request.app[STARTED_AT],
    }


async def _tenant_contexts(request: web.Request, *, create: bool = False) -> ContextStore | None:
    try:
        return await _store(request).contexts(tenant(request), create=create)
    except NonexistentTenant:
        return None


@routes.post(BASE)
@routes.post(BASE + "/")
async def add_context(request: web.Request) -> web.Response:
    """Add @context (clause 6.29.3.1): the body is a JSON-LD context document."""
    check_params(request, frozenset())
    body_media_type(request)
    raw = await request.read()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise InvalidRequest(f"The request body is not valid JSON: {err}") from None
    if not isinstance(data, dict) or "@context" not in data:
        raise InvalidRequest('The body must be a JSON-LD context document: {"@context": ...}')
    value = data["@context"]
    _check_context_value(value)
    resolver = request.app[CONTEXTS]
    for url in missing_urls(value, {}):
        await resolver.fetch(url)  # referenced contexts become Cached ones (clause 5.13.2)
    contexts = await _store(request).contexts(tenant(request), create=True)
    context_id = f"urn:kaido:context:{uuid.uuid4()}"
    await contexts.add(
        {"_id": context_id, "kind": "Hosted", "body": value, "raw": raw, "createdAt": now_iso()}
    )
    return web.Response(status=201, headers={"Location": f"{BASE}/{context_id}"})


def _check_context_value(value: object) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict | str):
            raise BadRequestData(
                "'@context' must be an object, a URL, or an array of those; "
                f"got {orjson.dumps(item).decode()[:80]}"
            )
    if not missing_urls(value, {}):
        try:
            build_context(value, {})
        except ContextError as err:
            raise BadRequestData(f"Invalid @context: {err}") from None


@routes.get(BASE)
@routes.get(BASE + "/")
async def list_contexts(request: web.Request) -> web.Response:
    """List @contexts (clause 6.29.3.2): URLs, or their details with details=true."""
    check_params(request, frozenset({"details", "kind"}))
    kind = request.query.get("kind")
    if kind is not None and kind not in _KINDS:
        raise BadRequestData(f"kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    details = _bool_param(request, "details")
    entries: list[dict[str, Any]] = []
    base = _public_base(request)
    contexts = await _tenant_contexts(request)
    if contexts is not None and kind in (None, "Hosted"):
        entries += [_hosted_details(r, base) for r in await contexts.list("Hosted")]
    if kind in (None, "Cached"):
        entries.append(_core_details(request))
        cached = request.app[CONTEXTS].cached.values()
        entries += [_cached_details(c) for c in cached]
    out: list[Any] = entries if details else [e["URL"] for e in entries]
    return payload_response(out, JSON, None, link=False)


def _bool_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequestData(f"{name} must be true or false, got {value!r}")
    return value == "true"


async def _find(request: web.Request) -> tuple[str, dict[str, Any] | CachedContext | None]:
    """What {contextId} names: a local id, or (percent-encoded) the URL of a context."""
    raw_id = unquote(request.match_info["contextId"])
    if raw_id in CORE_CONTEXT_URLS or raw_id == "urn:kaido:core":
        return "core", None
    if HOSTED_PATH in raw_id:
        raw_id = raw_id.rsplit(HOSTED_PATH, 1)[1]
    resolver = request.app[CONTEXTS]
    for cached in resolver.cached.values():
        if raw_id in (cached.url, _cached_id(cached.url)):
            return "cached", cached
    contexts = await _tenant_contexts(request)
    record = await contexts.get(raw_id) if contexts is not None else None
    if record is not None:
        return "hosted", record
    return "unknown", None


@routes.get(BASE + "/{contextId}")
async def serve_context(request: web.Request) -> web.Response:
    """Serve @context (clause 6.29.3.3): the document itself, or its details."""
    check_params(request, frozenset({"details"}))
    details = _bool_param(request, "details")
    kind, found = await _find(request)
    if kind == "core":
        if details:
            return payload_response(_core_details(request), JSON, None, link=False)
        return payload_response(core_context_document(), JSON, None, link=False)
    if isinstance(found, CachedContext):
        if details:
            return payload_response(_cached_details(found), JSON, None, link=False)
        return payload_response(found.document, JSON, None, link=False)
    if found is None:
        raise ResourceNotFound(f"No @context {request.match_info['contextId']!r}")
    contexts = await _tenant_contexts(request)
    if contexts is not None:
        await contexts.touch(found["_id"], now_iso())
    if details:
        return payload_response(
            _hosted_details(found, _public_base(request)), JSON, None, link=False
        )
    # The document exactly as it was added.
    return web.Response(body=found["raw"], content_type=JSON)


@routes.delete(BASE + "/{contextId}")
async def delete_context(request: web.Request) -> web.Response:
    """Delete @context (clause 6.29.3.4); reload=true re-fetches a cached one instead."""
    check_params(request, frozenset({"reload"}))
    reload_value = request.query.get("reload", "false")
    if reload_value not in ("true", "false"):
        raise BadRequestData(f"reload must be true or false, got {reload_value!r}")
    reload = reload_value == "true"
    kind, found = await _find(request)
    resolver = request.app[CONTEXTS]
    if kind == "core":
        if not reload:
            raise BadRequestData("The core @context cannot be deleted (it can be reloaded)")
        return web.Response(status=204)
    if kind == "unknown":
        if reload:
            raise BadRequestData("Only a cached @context can be reloaded, and this one is unknown")
        raise ResourceNotFound(f"No @context {request.match_info['contextId']!r}")
    if isinstance(found, CachedContext):
        if reload:
            await resolver.fetch(found.url)  # on failure the cached copy stays
        else:
            resolver.forget(found.url)
        return web.Response(status=204)
    assert found is not None
    if reload:
        raise BadRequestData("A hosted @context cannot be reloaded: it has no source to reload")
    contexts = await _tenant_contexts(request)
    if contexts is None or not await contexts.delete(found["_id"]):
        raise ResourceNotFound(f"No @context {request.match_info['contextId']!r}")
    resolver.forget()
    return web.Response(status=204)
