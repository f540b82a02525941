"""GET /metrics (Prometheus text format), and the middleware that measures every request.

Requests are labelled with the route's pattern (``/ngsi-ld/v1/entities/{entityId}``),
never the raw path, so the number of series stays bounded whatever clients ask for;
requests that match no route are labelled ``unmatched``.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from ..metrics import CONTENT_TYPE, Metrics
from .problems import Handler

__all__ = ["METRICS", "UNMATCHED", "metrics_middleware", "route_of", "routes"]

#: The application's instruments and their registry.
METRICS = web.AppKey("metrics", Metrics)

UNMATCHED = "unmatched"

#: Not an HTTP status: the client went away before the answer (nginx's convention).
_CLIENT_CLOSED = 499

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Every series of this broker, for Prometheus to scrape."""
    return web.Response(body=request.app[METRICS].render(), headers={"Content-Type": CONTENT_TYPE})


def route_of(request: web.Request) -> str:
    """The pattern of the route that matched the request, or ``unmatched`` (404, 405)."""
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects; errors are answered inside
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = _CLIENT_CLOSED
        raise
    finally:
        request.app[METRICS].observe_request(
            request.method, route_of(request), status, time.perf_counter() - started
        )
