"""The subscriber's web app: the page, its event stream, and the notification endpoint.

On start (in the background, so that the page is served at once) it:

1. deletes the subscriptions an earlier run left behind (same notify URL, e.g. after a
   crash: nothing else would ever delete them);
2. creates its subscription: Vehicle and ParkingSpot entities, keyValues, notified to
   ``<public URL>/notify``, with an id it chose, so it knows its notifications from the
   first one on;
3. reads the current state with one query (``GET /ngsi-ld/v1/entities?type=Vehicle,
   ParkingSpot``, page after page), then applies the notifications that came during the
   query, in order, and from then on every notification as it arrives.

Subscribing before reading means no change is missed: a notification that arrives before
the query is sent is about a write the query sees anyway (so it is dropped), one that
arrives during the query is applied after it (notifications of one entity come in order,
so the last one applied is the latest state). If the broker cannot be reached, it tries
again with backoff, and says so on the page.

The query names its @context in a Link header, and a Link header holds a URL, so the app
serves its @context at ``/context.jsonld``: the broker fetches it from there once (and
caches it). This also shows at once whether the broker can reach the app: if it cannot,
the query fails with 503 LdContextNotAvailable and the app says to set --public-url. The
subscription carries the same @context in its body.

On stop it deletes its subscription.

Routes: ``GET /`` the page, ``GET /static/...`` its files (Leaflet, vendored),
``GET /events`` the Server-Sent Events stream, ``POST /notify`` the notifications,
``GET /api/state`` the state as JSON, ``GET /context.jsonld``, ``GET /background.geojson``
(the gateway's bus routes and car parks, drawn under the markers: there are no map tiles).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import aiohttp
import orjson
from aiohttp import web

from examples.gateway.city import PARKING_SITES, ROUTES

from .live import EventHub, encode_event, stream
from .ngsi import CONTEXT, ENTITY_TYPES, BrokerClient, BrokerError, subscription_body
from .state import CityState

__all__ = ["SUBSCRIBER", "Options", "Subscriber", "background", "create_app"]

log = logging.getLogger("kaido.subscriber")

STATIC: Final = Path(__file__).resolve().parent / "static"
NOTIFY_PATH: Final = "/notify"
CONTEXT_PATH: Final = "/context.jsonld"
#: Line colours of the gateway's routes (by route key); other lines get grey.
ROUTE_COLORS: Final = {"city-loop": "#d9480f", "heijo": "#1971c2", "nishinokyo": "#2b8a3e"}
#: Retry delays when the broker cannot be reached: doubling from FIRST to MAX seconds.
RETRY_FIRST: Final = 1.0
RETRY_MAX: Final = 30.0

Status = Literal["starting", "live", "error"]


@dataclass(frozen=True, slots=True)
class Options:
    """Where the broker is, and where the app listens (the command-line options)."""

    broker: str = "http://localhost:1026"
    host: str = "0.0.0.0"
    port: int = 8081
    #: The app's URL as the broker reaches it (default http://127.0.0.1:<port>).
    public_url: str | None = None
    tenant: str | None = None
    #: A @context URL to use instead of the app's own (served at /context.jsonld).
    context: str | None = None
    timeout: float = 10.0  # seconds per request to the broker

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    @property
    def notify_url(self) -> str:
        return self.base_url + NOTIFY_PATH

    @property
    def context_url(self) -> str:
        return self.context or self.base_url + CONTEXT_PATH


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Subscriber:
    """The subscription's lifetime, the state, and the pages' event hub."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.state = CityState()
        self.hub = EventHub()
        self.subscription_id = f"urn:ngsi-ld:Subscription:kaido-subscriber-{uuid.uuid4()}"
        self.status: Status = "starting"
        self.detail = f"connecting to {options.broker}"
        #: Set once the state is loaded and notifications are being applied.
        self.ready = asyncio.Event()
        self.subscribed = False
        self.notifications = 0
        self.last_update: str | None = None
        self._loading = True
        self._pending: list[list[dict[str, Any]]] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    # Lifetime

    async def lifetime(self, _: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: subscribe in the background; unsubscribe on stop."""
        timeout = aiohttp.ClientTimeout(total=self.options.timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._task = asyncio.create_task(self._connect())
        try:
            yield
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._unsubscribe()
            await self._session.close()

    @property
    def broker(self) -> BrokerClient:
        assert self._session is not None
        return BrokerClient(self._session, self.options.broker, self.options.tenant)

    async def _connect(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                await self._subscribe()
                await self._load()
                return
            except (BrokerError, aiohttp.ClientError, TimeoutError) as err:
                detail = _explain(err, self.options)
                self._set_status("error", f"{detail} (trying again in {delay:g} s)")
                log.error("%s; trying again in %g s", detail, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _subscribe(self) -> None:
        if self.subscribed:
            return
        broker, notify_url = self.broker, self.options.notify_url
        for sub in await broker.subscriptions():
            endpoint = sub.get("notification", {}).get("endpoint", {})
            if endpoint.get("uri") == notify_url and sub.get("subscriptionName") == (
                "kaido-subscriber"
            ):
                await broker.delete_subscription(sub["id"])
                log.info("deleted %s, left behind by an earlier run", sub["id"])
        context: object = self.options.context or CONTEXT
        description = f"Live map of the city (examples/subscriber) at {self.options.base_url}/"
        body = subscription_body(self.subscription_id, notify_url, context, description)
        await broker.create_subscription(body)
        self.subscribed = True
        log.info("subscribed: %s -> %s", self.subscription_id, notify_url)

    async def _load(self) -> None:
        self._loading = True
        self._pending.clear()  # those are about writes the query sees
        entities = await self.broker.entities(",".join(ENTITY_TYPES), self.options.context_url)
        self.state.replace(entities)
        pending, self._pending = self._pending, []
        for data in pending:
            self.state.apply(data)
        self._loading = False
        self.last_update = _now()
        counts = self.state.counts()
        log.info(
            "loaded %d vehicles and %d parking spots (%d free) from %s; "
            "applied %d notifications that came meanwhile",
            counts["vehicles"],
            counts["spots"],
            counts["free"],
            self.options.broker,
            len(pending),
        )
        self._set_status("live", f"following {self.options.broker}")
        self.hub.publish("snapshot", self.snapshot())
        self.ready.set()

    async def _unsubscribe(self) -> None:
        if not self.subscribed:
            return
        self.subscribed = False
        try:
            deleted = await self.broker.delete_subscription(self.subscription_id)
        except (BrokerError, aiohttp.ClientError, TimeoutError) as err:
            log.warning("could not delete subscription %s: %s", self.subscription_id, err)
        else:
            log.info(
                "%s subscription %s",
                "deleted" if deleted else "the broker no longer had",
                self.subscription_id,
            )

    # Notifications and pages

    def _set_status(self, status: Status, detail: str) -> None:
        self.status, self.detail = status, detail
        self.hub.publish("status", {"status": status, "detail": detail})

    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "broker": self.options.broker,
            "subscription": self.subscription_id,
            "lastUpdate": self.last_update,
            "notifications": self.notifications,
            "counts": self.state.counts(),
            "entities": self.state.views(),
        }

    def notify(self, notification: dict[str, Any]) -> None:
        """Apply one notification (or keep it until the state is loaded)."""
        data = notification["data"]
        if self.state.seen(notification.get("id")):
            log.debug("notification %s again: dropped", notification.get("id"))
            return
        self.notifications += 1
        if self._loading:
            self._pending.append(data)
            return
        changes = self.state.apply(data)
        if changes:
            self.last_update = _now()
            self.hub.publish(
                "update",
                {
                    **changes.json(),
                    "lastUpdate": self.last_update,
                    "notifications": self.notifications,
                },
            )


SUBSCRIBER: Final = web.AppKey("subscriber", Subscriber)


def _explain(err: Exception, options: Options) -> str:
    if isinstance(err, BrokerError) and err.problem == "LdContextNotAvailable":
        return (
            f"the broker cannot fetch {options.context_url} ({err}): it cannot reach this app "
            f"at {options.base_url}, so it could not send notifications either; "
            "start the app with --public-url set to an address the broker can reach"
        )
    if isinstance(err, BrokerError):
        return f"the broker refused a request: {err}"
    if isinstance(err, TimeoutError):
        return f"the broker at {options.broker} did not answer in time"
    return f"cannot reach the broker at {options.broker}: {type(err).__name__}: {err}"


# Routes


async def index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def events(request: web.Request) -> web.StreamResponse:
    subscriber = request.app[SUBSCRIBER]
    return await stream(request, subscriber.hub, encode_event("snapshot", subscriber.snapshot()))


async def notify(request: web.Request) -> web.Response:
    """An NGSI-LD notification (clause 5.3.1), as application/json or application/ld+json."""
    subscriber = request.app[SUBSCRIBER]
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise web.HTTPBadRequest(text="not a Notification: no data array")
    if body.get("subscriptionId") != subscriber.subscription_id:
        # Not ours (another app's, or a previous run's): refused, so that it shows as failing.
        raise web.HTTPNotFound(text=f"unknown subscription {body.get('subscriptionId')!r}")
    subscriber.notify(body)
    return web.Response(status=204)


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[SUBSCRIBER].snapshot(), dumps=_dumps)


async def context(_: web.Request) -> web.Response:
    return web.json_response({"@context": CONTEXT}, content_type="application/ld+json")


def background() -> dict[str, Any]:
    """The gateway's bus routes (lines and stops) and car parks, as a FeatureCollection."""
    features: list[dict[str, Any]] = []
    for route in ROUTES:
        line = [list(p.position) for p in route.points]
        if route.loop:
            line.append(line[0])
        features.append(
            _feature(
                {"type": "LineString", "coordinates": line},
                kind="route",
                name=route.short_name,
                description=route.long_name,
                color=ROUTE_COLORS.get(route.key, "#868e96"),
            )
        )
        for point in route.points:
            if point.name:
                position = {"type": "Point", "coordinates": list(point.position)}
                features.append(_feature(position, kind="stop", name=point.name))
    for site in PARKING_SITES:
        position = {"type": "Point", "coordinates": list(site.position)}
        features.append(_feature(position, kind="site", id=site.id, name=site.name))
    return {"type": "FeatureCollection", "features": features}


def _feature(geometry: dict[str, Any], **properties: str) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


async def background_geojson(_: web.Request) -> web.Response:
    return web.json_response(background(), content_type="application/geo+json", dumps=_dumps)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def create_app(options: Options) -> web.Application:
    """The app; it subscribes when it starts and unsubscribes when it stops."""
    app = web.Application()
    subscriber = Subscriber(options)
    app[SUBSCRIBER] = subscriber
    app.cleanup_ctx.append(subscriber.lifetime)
    app.on_shutdown.append(subscriber.hub.close)
    app.router.add_get("/", index)
    app.router.add_get("/events", events)
    app.router.add_post(NOTIFY_PATH, notify)
    app.router.add_get("/api/state", state)
    app.router.add_get(CONTEXT_PATH, context)
    app.router.add_get("/background.geojson", background_geojson)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return app
