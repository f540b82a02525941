"""The @context hosting API (clause 5.13, /ngsi-ld/v1/jsonldContexts).

Lets a city publish its vocabulary through the broker itself: clients then point their
Link headers at the broker, and no request depends on a third-party web server.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from ..ngsild.context import ContextError, build_context, missing_urls
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import BadRequestData, ResourceNotFound
from ..store import Store
from .keys import CONTEXTS, SETTINGS, STORE
from .ldcontext import HOSTED_PATH, ContextResolver
from .negotiation import JSON
from .requests import read_body

__all__ = ["routes"]

BASE = HOSTED_PATH.rstrip("/")
routes = web.RouteTableDef()


def _public_base(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return configured.rstrip("/") if configured else str(request.url.origin())


def _details(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "URL": record["url"],
        "localId": record["_id"],
        "kind": record.get("kind", "Hosted"),
        "createdAt": record["createdAt"],
        "lastUsage": record.get("lastUsage"),
        "numberOfHits": record.get("numberOfHits", 0),
    }


@routes.post(BASE)
async def add_context(request: web.Request) -> web.Response:
    """Add @context (clause 6.29.3.1): the body is a JSON-LD context document."""
    body = await _context_document(request)
    store: Store = request.app[STORE]
    context_id = f"urn:kaido:context:{uuid.uuid4()}"
    url = f"{_public_base(request)}{BASE}/{context_id}"
    await store.contexts.add(
        {
            "_id": context_id,
            "url": url,
            "kind": "Hosted",
            "body": body,
            "createdAt": now_iso(),
            "numberOfHits": 0,
        }
    )
    return web.Response(status=201, headers={"Location": f"{BASE}/{context_id}"})


async def _context_document(request: web.Request) -> object:
    try:
        data = (await read_body(request)).data
    except BadRequestData:
        raise
    if not isinstance(data, dict) or "@context" not in data:
        raise BadRequestData('The body must be a JSON-LD context document: {"@context": ...}')
    value = data["@context"]
    if not isinstance(value, dict | list | str):
        raise BadRequestData("'@context' must be an object, an array or a URL")
    if isinstance(value, dict) and not missing_urls(value, {}):
        try:
            build_context(value, {})
        except ContextError as err:
            raise BadRequestData(f"Invalid @context: {err}") from None
    return value


@routes.get(BASE)
async def list_contexts(request: web.Request) -> web.Response:
    """List @contexts (clause 6.29.3.2): URLs, or their details with details=true."""
    store: Store = request.app[STORE]
    kind = request.query.get("kind")
    if kind is not None and kind not in ("Hosted", "Cached", "ImplicitlyCreated"):
        raise BadRequestData("kind must be Hosted, Cached or ImplicitlyCreated")
    records = await store.contexts.list(kind)
    if request.query.get("details") == "true":
        return web.json_response([_details(r) for r in records])
    return web.json_response([r["url"] for r in records])


@routes.get(BASE + "/{contextId}")
async def serve_context(request: web.Request) -> web.Response:
    """Serve @context (clause 6.29.3.3): the document itself, or its details."""
    store: Store = request.app[STORE]
    context_id = request.match_info["contextId"]
    record = await store.contexts.get(context_id)
    if record is None:
        raise ResourceNotFound(f"No @context with id {context_id!r}")
    await store.contexts.touch(context_id, now_iso())
    if request.query.get("details") == "true":
        return web.json_response(_details(record))
    return web.json_response({"@context": record["body"]}, content_type=JSON)


@routes.delete(BASE + "/{contextId}")
async def delete_context(request: web.Request) -> web.Response:
    """Delete @context (clause 6.29.3.4)."""
    store: Store = request.app[STORE]
    context_id = request.match_info["contextId"]
    record = await store.contexts.get(context_id)
    if record is None or not await store.contexts.delete(context_id):
        raise ResourceNotFound(f"No @context with id {context_id!r}")
    resolver: ContextResolver = request.app[CONTEXTS]
    resolver.forget(record["url"])
    return web.Response(status=204)
