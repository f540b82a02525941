"""The Context Information Subscription routes (clauses 5.8 and 6.10-6.11), and the
notifier's lifetime (it starts after the store and stops before it).

Subscriptions are stored in the tenant's database; after each write the handler makes
this process's notifier use the new version at once (other processes pick it up within
SUBSCRIPTION_POLL seconds).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ..ngsild.datetimes import now_iso
from ..ngsild.errors import InternalError, ResourceNotFound
from ..ngsild.subscription import (
    REPORT_MEMBERS,
    SUBSCRIPTION_PREFIX,
    merge_subscription,
    parse_subscription,
    render_subscription,
)
from ..ngsild.uris import check_uri
from ..notify.notifier import Notifier
from ..store.subscriptions import NotifierBackend, SubscriptionStore, subscription_store
from .keys import CHANGES, CONTEXTS, STORE
from .negotiation import JSONLD, response_media_type
from .requests import check_params, paging, read_body, request_context, tenant
from .responses import context_value, payload_response

__all__ = ["NOTIFIER", "notifier_lifetime", "routes"]

BASE = "/ngsi-ld/v1/subscriptions"
ONE = BASE + "/{subscriptionId:[^/]+}"
NOTIFIER = web.AppKey("notifier", Notifier)
routes = web.RouteTableDef()


async def notifier_lifetime(app: web.Application) -> AsyncIterator[None]:
    """Start the notifier on the app's store and make it hear every write."""
    notifier = Notifier(NotifierBackend(app[STORE]), app[CONTEXTS].resolve)
    await notifier.start()
    app[NOTIFIER] = notifier
    app[CHANGES] = notifier
    yield
    await notifier.stop()


def _subscription_id(request: web.Request) -> str:
    sub_id = request.match_info["subscriptionId"]
    check_uri(sub_id, "The subscription id in the URL")
    return sub_id


async def _refresh(request: web.Request, sub_id: str) -> None:
    notifier = request.app.get(NOTIFIER)
    if notifier is not None:
        await notifier.refresh(tenant(request), sub_id)


async def _store(request: web.Request, *, create: bool = False) -> SubscriptionStore:
    return await subscription_store(request.app[STORE], tenant(request), create=create)


def _model(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], **doc["sub"]}


async def _check_jsonld_context(request: web.Request, sub: dict[str, Any]) -> None:
    """jsonldContext (clause 5.2.12) must resolve now: 400 if invalid, 503 if unreachable."""
    if "jsonldContext" in sub:
        await request.app[CONTEXTS].resolve(sub["jsonldContext"], tenant(request))


@routes.post(BASE)
@routes.post(BASE + "/")
async def create_subscription(request: web.Request) -> web.Response:
    """Create Subscription (clause 6.10.3.1): 201 with the subscription's URL in Location."""
    check_params(request, frozenset())
    body = await read_body(request)
    now = now_iso()
    sub = parse_subscription(body.data, body.context, now, SUBSCRIPTION_PREFIX + str(uuid.uuid4()))
    await _check_jsonld_context(request, sub)
    store = await _store(request, create=True)
    await store.create(sub, body.context_source, now)
    await _refresh(request, sub["id"])
    return web.Response(status=201, headers={"Location": f"{BASE}/{sub['id']}"})


def _rendered(
    doc: dict[str, Any], ctx: Any, source: object, media_type: str, now: str
) -> dict[str, Any]:
    report: dict[str, Any] = {k: doc[k] for k in REPORT_MEMBERS if k in doc}
    out = render_subscription(_model(doc), ctx, report, now)
    if media_type == JSONLD:
        out["@context"] = context_value(source)
    return out


@routes.get(BASE)
@routes.get(BASE + "/")
async def query_subscriptions(request: web.Request) -> web.Response:
    """Query Subscriptions (clause 6.10.3.2): pages by limit/offset, count=true."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset({"limit", "offset", "count"}))
    limit, offset, count = paging(request)
    ctx, source = await request_context(request)
    store = await _store(request)
    docs = await store.page(limit, offset)
    total = await store.count()
    now = now_iso()
    out = [_rendered(doc, ctx, source, media_type, now) for doc in docs]
    headers = {"NGSILD-Results-Count": str(total)} if count else None
    response = payload_response(out, media_type, source, headers=headers)
    if limit and offset > 0:
        prev = max(0, offset - limit)
        response.headers.add("Link", _page_link(limit, prev, "prev"))
    if limit and offset + limit < total:
        response.headers.add("Link", _page_link(limit, offset + limit, "next"))
    return response


def _page_link(limit: int, offset: int, rel: str) -> str:
    return f'<{BASE}?limit={limit}&offset={offset}>;rel="{rel}";type="{JSONLD}"'


@routes.get(ONE)
async def retrieve_subscription(request: web.Request) -> web.Response:
    """Retrieve Subscription (clause 6.11.3.1), with its delivery status (clause 5.2.14)."""
    media_type = response_media_type(request, geojson=False)
    check_params(request, frozenset())
    sub_id = _subscription_id(request)
    ctx, source = await request_context(request)
    doc = await (await _store(request)).get(sub_id)
    if doc is None:
        raise ResourceNotFound(f"Subscription {sub_id!r} does not exist")
    return payload_response(_rendered(doc, ctx, source, media_type, now_iso()), media_type, source)


@routes.patch(ONE)
async def update_subscription(request: web.Request) -> web.Response:
    """Update Subscription (clause 6.11.3.2): members replaced, null removes one."""
    check_params(request, frozenset())
    sub_id = _subscription_id(request)
    body = await read_body(request, merge_patch=True)
    store = await _store(request)
    for _ in range(10):
        doc = await store.get(sub_id)
        if doc is None:
            raise ResourceNotFound(f"Subscription {sub_id!r} does not exist")
        now = now_iso()
        sub = merge_subscription(_model(doc), body.data, body.context, now)
        await _check_jsonld_context(request, sub)
        if await store.replace(sub, doc["rev"], now):
            await _refresh(request, sub_id)
            return web.Response(status=204)
    raise InternalError(f"Subscription {sub_id!r} is being changed too often to update it now")


@routes.delete(ONE)
async def delete_subscription(request: web.Request) -> web.Response:
    """Delete Subscription (clause 6.11.3.3): its pending notifications go with it."""
    check_params(request, frozenset())
    sub_id = _subscription_id(request)
    await (await _store(request)).delete(sub_id, now_iso())
    await _refresh(request, sub_id)
    return web.Response(status=204)
