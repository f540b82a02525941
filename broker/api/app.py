"""The aiohttp application: routes, middleware, and the store's lifetime."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from ..metrics import Metrics
from ..ngsild.changes import NullListener
from ..ngsild.datetimes import now_iso
from ..ngsild.errors import NonexistentTenant
from ..settings import Settings
from ..store import Store, connect
from . import (
    batch,
    discovery,
    entities,
    jsonld_contexts,
    metrics,
    models,
    openapi,
    query,
    subscriptions,
    system,
)
from .enforcement import ModelService, packaged_models
from .keys import CHANGES, CONTEXTS, MODELS, SETTINGS, STARTED, STARTED_AT, STORE
from .ldcontext import ContextResolver
from .metrics import METRICS, metrics_middleware
from .middleware import protocol_middleware
from .problems import problem_middleware
from .request_ids import add_request_id_header, request_id_middleware

__all__ = ["create_app"]


def create_app(settings: Settings, mongo_uri: str) -> web.Application:
    """The broker as an aiohttp app, connected to the MongoDB at mongo_uri."""
    app = web.Application(
        # Outermost first: the request id is bound before anything else runs (so every log
        # line and error response has it), and the metrics see every response.
        middlewares=[
            request_id_middleware,
            metrics_middleware,
            protocol_middleware,
            problem_middleware,
        ],
        client_max_size=settings.max_body_bytes,
        handler_args={"max_line_size": settings.max_url_bytes},
    )
    app[SETTINGS] = settings
    app[STARTED] = time.monotonic()
    app[STARTED_AT] = now_iso()
    app[CHANGES] = NullListener()
    app[METRICS] = Metrics()
    app.on_response_prepare.append(add_request_id_header)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        store = Store(
            connect(mongo_uri, event_listeners=[app[METRICS].store_listener]), settings.mongo_db
        )
        await store.tenants.database(None, create=True)
        app[STORE] = store

        async def hosted(tenant: str | None, context_id: str) -> object | None:
            try:
                record = await (await store.contexts(tenant)).get(context_id)
            except NonexistentTenant:
                return None
            return None if record is None else record["body"]

        app[CONTEXTS] = ContextResolver(
            hosted,
            timeout=settings.context_fetch_timeout,
            cache_seconds=settings.context_cache_seconds,
        )
        app[MODELS] = ModelService(store, packaged_models(), settings.model_enforcement)
        yield
        await app[CONTEXTS].close()
        await store.close()

    app.cleanup_ctx.append(lifetime)
    # Subscriptions: the notifier starts after the store and stops before it.
    app.cleanup_ctx.append(subscriptions.notifier_lifetime)
    app.add_routes(system.routes)
    app.add_routes(entities.routes)
    app.add_routes(query.routes)
    app.add_routes(batch.routes)
    app.add_routes(discovery.routes)
    app.add_routes(jsonld_contexts.routes)
    app.add_routes(subscriptions.routes)
    app.add_routes(models.routes)
    app.add_routes(openapi.routes)
    app.add_routes(metrics.routes)
    return app
