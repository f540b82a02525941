"""The subscriber example (examples/subscriber): it subscribes to a real broker, loads the
city, follows the notifications, streams them to its page, and unsubscribes when it stops;
and its page, in a real headless Chromium, moves a bus and recolours a parking spot as the
broker notifies the changes.

The browser test needs Debian's chromium (/usr/bin/chromium; `make test` installs it when
it can) and the playwright package (the test extras); it is skipped without them. It never
downloads a browser: Playwright drives the system's Chromium.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse, ClientSession, web
from aiohttp.test_utils import TestServer

from broker.api import create_app as create_broker
from broker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # examples/ is not installed: import it from the checkout
    sys.path.insert(0, str(ROOT))

from examples.gateway.gateway import utc_now  # noqa: E402
from examples.gateway.simulation import City  # noqa: E402
from examples.subscriber.app import SUBSCRIBER, Options, Subscriber, background  # noqa: E402
from examples.subscriber.app import create_app as create_subscriber  # noqa: E402
from examples.subscriber.cli import parse_args  # noqa: E402
from examples.subscriber.state import NULL, CityState  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UPSERT = "/ngsi-ld/v1/entityOperations/upsert?options=update"
SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
BUS = "urn:ngsi-ld:Vehicle:nara-bus-001"
SPOT = "urn:ngsi-ld:ParkingSpot:nara-station-west-001"
#: Where the test moves the bus: from near JR Nara station to the Todaiji stop.
TODAIJI = (135.8400, 34.6862)


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


# The broker, the city and the subscriber, in this process


@pytest.fixture
async def broker(settings: Settings, mongo_uri: str) -> AsyncIterator[TestServer]:
    server = TestServer(create_broker(settings, mongo_uri), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def _url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


async def _upsert(session: ClientSession, url: str, entities: list[dict[str, Any]]) -> None:
    async with session.post(
        url + UPSERT,
        data=orjson.dumps(entities),
        headers={"Content-Type": "application/ld+json"},
    ) as response:
        assert response.status in (201, 204), await response.text()


async def _seed_city(url: str) -> City:
    """The gateway's city as its first cycle sends it (buses, spots, air quality), with the
    test's parking spot free."""
    city = City(vehicles=6, spots=12, stations=3, seed=7)
    next(s for s in city.spots if s.entity_id == SPOT).occupied = False
    async with ClientSession() as session:
        await _upsert(session, url, city.snapshot(utc_now()))
    return city


async def _patch(url: str, entity_id: str, attrs: dict[str, Any]) -> None:
    """PATCH .../attrs; location and status are core terms: no @context needed."""
    async with (
        ClientSession() as session,
        session.patch(
            f"{url}/ngsi-ld/v1/entities/{entity_id}/attrs",
            data=orjson.dumps(attrs),
            headers={"Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 204, await response.text()


def _location(lon: float, lat: float) -> dict[str, Any]:
    point = {"type": "Point", "coordinates": [lon, lat]}
    return {"location": {"type": "GeoProperty", "value": point}}


async def _subscriptions(url: str) -> list[dict[str, Any]]:
    async with ClientSession() as session, session.get(url + SUBSCRIPTIONS) as response:
        assert response.status == 200, await response.text()
        subs: list[dict[str, Any]] = await response.json()
        return subs


def _bound_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def _subscriber(
    broker_url: str, public_url: str | None = None, sock: socket.socket | None = None
) -> AsyncIterator[Subscriber]:
    """Run the subscriber app on sock (default: a free port); the socket is bound first, so
    the notify URL it gives the broker is right from the start. Stopping it deletes its
    subscription."""
    sock = sock or _bound_socket()
    port = sock.getsockname()[1]
    options = Options(broker=broker_url, host="127.0.0.1", port=port, public_url=public_url)
    app = create_subscriber(options)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield app[SUBSCRIBER]
    finally:
        await runner.cleanup()
        sock.close()


async def _ready(subscriber: Subscriber) -> None:
    await asyncio.wait_for(subscriber.ready.wait(), 10)


async def _events(response: ClientResponse) -> AsyncIterator[tuple[str, Any]]:
    """The (event, data) pairs of a Server-Sent Events stream."""
    event, data = "message", ""
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if not line:
            if data:
                yield event, orjson.loads(data)
            event, data = "message", ""
        elif line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data += line[len("data: ") :]


async def _next_event(events: AsyncIterator[tuple[str, Any]], name: str) -> Any:
    async def find() -> Any:
        async for event, data in events:
            if event == name:
                return data
        raise AssertionError(f"the stream ended before a {name!r} event")

    return await asyncio.wait_for(find(), 10)


# The state, on its own


def test_state_merges_notifications_in_order() -> None:
    state = CityState()
    state.replace(
        [
            {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 20, "occupancy": 0.5},
            {"id": "urn:ngsi-ld:AirQualityObserved:1", "type": "AirQualityObserved"},
        ]
    )
    assert list(state.entities) == ["urn:ngsi-ld:Vehicle:1"]  # other types are left out
    changes = state.apply(
        [
            {
                "id": "urn:ngsi-ld:Vehicle:1",
                "type": "Vehicle",
                "location": {"type": "Point", "coordinates": [135.82, 34.68]},
                "occupancy": NULL,  # deleted since
            },
            {"id": "urn:ngsi-ld:ParkingSpot:1", "type": "ParkingSpot", "status": "free"},
        ]
    )
    assert [v["id"] for v in changes.updated] == [
        "urn:ngsi-ld:Vehicle:1",
        "urn:ngsi-ld:ParkingSpot:1",
    ]
    bus = changes.updated[0]
    assert (bus["lon"], bus["lat"], bus["speed"], bus["occupancy"]) == (135.82, 34.68, 20, None)
    assert changes.updated[1]["lon"] is None  # no location: counted, not drawn
    gone = state.apply(
        [{"id": "urn:ngsi-ld:ParkingSpot:1", "type": "ParkingSpot", "deletedAt": "x"}]
    )
    assert gone.removed == ["urn:ngsi-ld:ParkingSpot:1"] and not gone.updated
    assert state.counts() == {"vehicles": 1, "running": 0, "spots": 0, "free": 0, "occupied": 0}
    assert not state.seen("urn:ngsi-ld:Notification:1")
    assert state.seen("urn:ngsi-ld:Notification:1")  # a repeated delivery


def test_command_line() -> None:
    options, level = parse_args(
        ["--broker", "http://broker:1026/", "--port", "9000", "--public-url", "http://me:9000"]
    )
    assert options.broker == "http://broker:1026"
    assert options.notify_url == "http://me:9000/notify"
    assert options.context_url == "http://me:9000/context.jsonld"
    assert level == "INFO"
    assert Options(port=8081).notify_url == "http://127.0.0.1:8081/notify"
    with pytest.raises(SystemExit):
        parse_args(["--broker", "localhost:1026"])


def test_background_has_the_gateway_routes() -> None:
    kinds = [f["properties"]["kind"] for f in background()["features"]]
    assert kinds.count("route") == 3 and kinds.count("site") == 3 and "stop" in kinds


# Against a real broker (in this process)


async def test_subscribes_loads_streams_and_unsubscribes(broker: TestServer) -> None:
    url = _url(broker)
    await _seed_city(url)
    async with _subscriber(url) as subscriber:
        await _ready(subscriber)
        (sub,) = await _subscriptions(url)
        assert sub["id"] == subscriber.subscription_id
        assert sub["notification"]["format"] == "keyValues"
        assert sub["notification"]["endpoint"]["uri"] == subscriber.options.notify_url
        assert sorted(e["type"] for e in sub["entities"]) == [
            "https://smartdatamodels.org/dataModel.Parking/ParkingSpot",
            "https://smartdatamodels.org/dataModel.Transportation/Vehicle",
        ]  # stored expanded: the gateway's types, not the core context's default vocabulary
        counts = subscriber.state.counts()
        assert (counts["vehicles"], counts["spots"]) == (6, 12)  # not the air-quality stations
        assert counts["free"] + counts["occupied"] == 12 and counts["free"] >= 1

        base = subscriber.options.base_url
        async with ClientSession() as session:
            async with session.get(base + "/api/state") as response:
                state = await response.json()
            assert state["status"] == "live" and len(state["entities"]) == 18
            async with session.get(base + "/events") as response:
                assert response.headers["Content-Type"].startswith("text/event-stream")
                events = _events(response)
                snapshot = await _next_event(events, "snapshot")
                assert snapshot["counts"] == counts
                bus = next(v for v in snapshot["entities"] if v["id"] == BUS)
                assert bus["kind"] == "vehicle" and bus["group"] == "市内循環"

                await _patch(url, BUS, _location(*TODAIJI))
                update = await _next_event(events, "update")
                (moved,) = update["entities"]
                assert moved["id"] == BUS
                assert (moved["lon"], moved["lat"]) == TODAIJI
                assert moved["group"] == "市内循環"  # the rest of the entity is still known

                async with session.delete(f"{url}/ngsi-ld/v1/entities/{SPOT}") as deleted:
                    assert deleted.status == 204
                update = await _next_event(events, "update")
                assert update["removed"] == [SPOT] and update["entities"] == []
        assert subscriber.state.counts()["spots"] == 11
    assert await _subscriptions(url) == []  # deleted on stop


async def test_a_leftover_subscription_is_replaced(broker: TestServer) -> None:
    """A run that crashed left its subscription (same notify URL): the next run deletes it."""
    url = _url(broker)
    sock = _bound_socket()
    public = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with ClientSession() as session:
        leftover = {
            "type": "Subscription",
            "subscriptionName": "kaido-subscriber",
            "entities": [{"type": "Vehicle"}],
            "notification": {"endpoint": {"uri": public + "/notify"}},
        }
        async with session.post(
            url + SUBSCRIPTIONS,
            data=orjson.dumps(leftover),
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 201
            old_id = response.headers["Location"].rsplit("/", 1)[1]
        async with _subscriber(url, public_url=public, sock=sock) as subscriber:
            await _ready(subscriber)
            assert [s["id"] for s in await _subscriptions(url)] == [subscriber.subscription_id]
            assert subscriber.subscription_id != old_id
            # Notifications of other subscriptions are refused; so is what is not one.
            notify = subscriber.options.base_url + "/notify"
            foreign = {"id": "n1", "type": "Notification", "subscriptionId": old_id, "data": []}
            async with session.post(notify, data=orjson.dumps(foreign)) as response:
                assert response.status == 404
            async with session.post(notify, data=b"{") as response:
                assert response.status == 400


async def test_says_when_the_broker_cannot_reach_it(broker: TestServer) -> None:
    """A --public-url the broker cannot reach shows at once: the broker cannot fetch the
    app's @context for the initial query (503), and the app says to set --public-url."""
    url = _url(broker)
    async with _subscriber(url, public_url="http://127.0.0.1:9") as subscriber:
        for _ in range(100):
            if subscriber.status == "error":
                break
            await asyncio.sleep(0.05)
        assert subscriber.status == "error"
        assert "--public-url" in subscriber.detail
        assert "LdContextNotAvailable" in subscriber.detail
    assert await _subscriptions(url) == []


# In a real browser


async def test_the_page_follows_the_city_in_chromium(broker: TestServer, tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it as root: apt-get)")
    async_api = pytest.importorskip(
        "playwright.async_api", reason="the playwright package is not installed (test extras)"
    )
    url = _url(broker)
    city = await _seed_city(url)
    bus = next(b for b in city.buses if b.entity_id == BUS)
    start = bus.path.at(bus.s)[0]
    async with _subscriber(url) as subscriber, async_api.async_playwright() as playwright:
        await _ready(subscriber)
        browser = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = browser.pages[0] if browser.pages else await browser.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda err: errors.append(str(err)))
            await page.goto(subscriber.options.base_url + "/")

            # The markers are there: 6 buses, 12 parking spots (not the air-quality stations).
            await page.wait_for_function(
                "kaido.status === 'live' && kaido.vehicles.size === 6 && kaido.spots.size === 12"
            )
            bus_selector = f'.bus-marker[data-id="{BUS}"]'
            spot_selector = f'.spot-marker[data-id="{SPOT}"]'
            assert await page.locator(".bus-marker").count() == 6
            assert await page.locator(".spot-marker").count() == 12
            assert "spot-free" in (await page.get_attribute(spot_selector, "class") or "")
            free_before = int(await page.inner_text("#free-count"))
            assert await page.inner_text("#bus-count") == "6"
            before = await page.evaluate(f"kaido.position({BUS!r})")
            assert before is not None
            lat, lon = before
            assert abs(lon - start[0]) < 0.01 and abs(lat - start[1]) < 0.01
            box_before = await page.locator(bus_selector).bounding_box()
            assert box_before is not None

            # The bus moves east and north, to Todaiji, through the broker.
            await _patch(url, BUS, _location(*TODAIJI))
            await page.wait_for_function(
                f"""() => {{
                    const p = kaido.position({BUS!r});
                    return p && Math.abs(p[0] - {TODAIJI[1]}) < 1e-9
                             && Math.abs(p[1] - {TODAIJI[0]}) < 1e-9;
                }}"""
            )
            # ... and so does its element, to where the map puts that point (the marker
            # glides there in 0.8 s).
            await page.wait_for_function(
                f"""() => {{
                    const el = document.querySelector('{bus_selector}');
                    const map = kaido.map.getContainer().getBoundingClientRect();
                    const want = kaido.map.latLngToContainerPoint([{TODAIJI[1]},
                                                                   {TODAIJI[0]}]);
                    const r = el.getBoundingClientRect();
                    const x = r.left + r.width / 2 - map.left, y = r.top + r.height / 2 - map.top;
                    return Math.abs(x - want.x) < 2 && Math.abs(y - want.y) < 2;
                }}"""
            )
            box_after = await page.locator(bus_selector).bounding_box()
            assert box_after is not None
            assert box_after["x"] > box_before["x"] + 20  # east: right
            assert box_after["y"] < box_before["y"]  # north: up

            # The parking spot turns red when it is taken, and the count goes down.
            await _patch(url, SPOT, {"status": {"type": "Property", "value": "occupied"}})
            await page.wait_for_function(
                f"document.querySelector('{spot_selector}').classList.contains('spot-occupied')"
            )
            color = await page.eval_on_selector(
                spot_selector, "el => getComputedStyle(el).backgroundColor"
            )
            assert color == "rgb(224, 49, 49)"
            assert int(await page.inner_text("#free-count")) == free_before - 1
            assert await page.get_attribute(spot_selector, "data-status") == "occupied"

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "subscriber.png"))
            assert errors == []
        finally:
            await browser.close()
    assert await _subscriptions(url) == []
