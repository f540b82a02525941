"""Operational routes outside the NGSI-LD namespace: /version and /health."""

from __future__ import annotations

import platform
import time

from aiohttp import web

from .. import __version__
from ..ngsild.context import CORE_CONTEXT_URL
from ..store import Store
from .keys import STARTED, STORE
from .negotiation import JSON
from .responses import payload_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/version")
async def version(request: web.Request) -> web.Response:
    """What is running, like Orion-LD's /version: name, versions, and the store in use."""
    store: Store = request.app[STORE]
    try:
        info = await store.server_info()
        store_info = {
            # The dev store says what it is in buildInfo; anything else is a MongoDB server.
            "kind": "kaido dev store (in memory)" if "kaidoDevstore" in info else "mongodb",
            "version": info.get("version"),
        }
    except Exception as err:  # the store being down must not hide the broker's version
        store_info = {"kind": "unreachable", "error": type(err).__name__}
    return payload_response(
        {
            "name": "kaido",
            "version": __version__,
            "ngsi-ld": "1.9.1",
            "coreContext": CORE_CONTEXT_URL,
            "python": platform.python_version(),
            "uptimeSeconds": round(time.monotonic() - request.app[STARTED], 1),
            "store": {**store_info, "database": store.tenants.prefix},
        },
        JSON,
        None,
        link=False,
    )


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Liveness and store reachability, for load balancers and orchestrators."""
    store: Store = request.app[STORE]
    try:
        await store.ping()
    except Exception as err:
        body = {"status": "unhealthy", "store": type(err).__name__}
        return payload_response(body, JSON, None, status=503, link=False)
    return payload_response({"status": "ok"}, JSON, None, link=False)
