"""The gateway example (examples/gateway): its payloads fit the data models, it feeds a real
broker, and it retries (or not) as a gateway should."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from subprocess import PIPE
from typing import Any

import orjson
import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from broker.api import create_app
from broker.datamodels import ModelRegistry
from broker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # examples/ is not installed: import it from the checkout
    sys.path.insert(0, str(ROOT))

from examples.gateway.gateway import Options, parse_args, run  # noqa: E402
from examples.gateway.sender import UPSERT_PATH, BatchSender, RetryPolicy, Stats  # noqa: E402
from examples.gateway.simulation import City  # noqa: E402

SDM = "https://smartdatamodels.org/"
VEHICLE = SDM + "dataModel.Transportation/Vehicle"
PARKING_SPOT = SDM + "dataModel.Parking/ParkingSpot"
AIR_QUALITY = SDM + "dataModel.Environment/AirQualityObserved"
SPEED = SDM + "dataModel.Transportation/speed"
NO2 = SDM + "dataModel.Environment/no2"
NOW = "2026-11-27T00:00:00.000Z"
FAST = RetryPolicy(max_retries=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return ModelRegistry.default()


Answer = Callable[[], web.Response]


async def _fake_broker(*answers: Answer) -> tuple[TestServer, list[web.Request], list[Any]]:
    """A server answering the upserts with answers in turn (the last one repeats); each
    answer makes a new response (a response object can be sent only once)."""
    requests: list[web.Request] = []
    bodies: list[Any] = []

    async def upsert(request: web.Request) -> web.StreamResponse:
        requests.append(request)
        bodies.append(orjson.loads(await request.read()))
        return answers[min(len(requests), len(answers)) - 1]()

    app = web.Application()
    app.router.add_post(UPSERT_PATH, upsert)
    server = TestServer(app)
    await server.start_server()
    return server, requests, bodies


def _status(status: int, **headers: str) -> Answer:
    return lambda: web.Response(status=status, headers=headers)


def _problem(status: int, name: str, detail: str) -> Answer:
    body = {
        "type": f"https://uri.etsi.org/ngsi-ld/errors/{name}",
        "title": name,
        "status": status,
        "detail": detail,
    }
    return lambda: web.json_response(body, status=status)


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as s:
        yield s


# What it sends


def test_every_reading_fits_its_model(registry: ModelRegistry) -> None:
    """Hours of simulated readings (buses moving and standing at stops, spots changing, more
    stations than the city has) all validate against models/."""
    city = City(vehicles=7, spots=20, stations=7, seed=3, spot_change_probability=0.3)
    readings = city.snapshot(NOW)
    for _ in range(400):
        readings += city.step(7.0, NOW)
    kinds = {(e["type"], e["vehicleRunningStatus"]["value"]) for e in readings if "speed" in e}
    assert kinds == {("Vehicle", "running"), ("Vehicle", "stopped")}
    for entity in readings:
        report = registry.validate(entity)
        assert report["valid"], (entity["id"], report["errors"])
        assert entity["@context"][0].startswith("https://uri.etsi.org/ngsi-ld/v1/")
    standing = [e for e in readings if e.get("speed", {}).get("value") == 0]
    assert standing and all(e["heading"]["value"] == -1 for e in standing)


def test_buses_follow_their_routes() -> None:
    city = City(vehicles=3, spots=0, stations=0, seed=1)
    first = {e["id"]: e for e in city.snapshot(NOW)}
    assert [e["routeShortName"]["value"] for e in first.values()] == [
        "市内循環",
        "平城宮跡",
        "西ノ京",
    ]
    later = {e["id"]: e for e in city.step(10.0, NOW)}
    for entity_id, entity in later.items():
        lon, lat = entity["location"]["value"]["coordinates"]
        assert 135.77 < lon < 135.85 and 34.66 < lat < 34.70  # in central Nara
        assert entity["location"] != first[entity_id]["location"]  # 10 s at 8-45 km/h


def test_command_line() -> None:
    options, level = parse_args(
        ["--url", "http://broker:1026", "--rate", "5", "--vehicles", "2", "--ticks", "3"]
    )
    assert options.url == "http://broker:1026" and options.rate == 5.0
    assert options.vehicles == 2 and options.ticks == 3 and level == "INFO"
    with pytest.raises(SystemExit):
        parse_args(["--rate", "0"])


# Against the real broker


async def test_gateway_feeds_the_broker(
    settings: Settings, mongo_uri: str, tmp_path: Path, registry: ModelRegistry
) -> None:
    """A few ticks against the broker started in-process: every entity is there, the
    vehicles moved, some parking spots and every station's readings changed."""
    options = Options(
        vehicles=3,
        spots=6,
        stations=2,
        ticks=4,
        rate=20.0,
        seed=11,
        time_scale=20.0,
        spot_change_probability=0.5,
        batch_size=4,
        tenant="nara",
        dump=tmp_path / "sent",
    )
    initial = {e["id"]: e for e in City(vehicles=3, spots=6, stations=2, seed=11).snapshot(NOW)}
    async with TestServer(create_app(settings, mongo_uri)) as server:
        url = str(server.make_url("/")).rstrip("/")
        stats = await run(replace(options, url=url))
        assert stats.rejected == stats.retries == stats.gave_up == stats.undelivered == 0
        assert stats.created == 11 and stats.delivered >= 3 * 4 + 6 + 2 * 4
        assert stats.requests == stats.batches >= 4 + 2  # the first tick took 3 batches
        async with ClientSession() as http:
            stored: dict[str, dict[str, Any]] = {}
            for entity_type, count in ((VEHICLE, 3), (PARKING_SPOT, 6), (AIR_QUALITY, 2)):
                response = await http.get(
                    f"{url}/ngsi-ld/v1/entities",
                    params={"type": entity_type, "count": "true"},
                    headers={"NGSILD-Tenant": "nara"},
                )
                assert response.status == 200
                assert response.headers["NGSILD-Results-Count"] == str(count)
                stored |= {e["id"]: e for e in await response.json()}
    assert stored.keys() == initial.keys()
    for entity_id, entity in stored.items():
        first = initial[entity_id]
        if entity_id.startswith("urn:ngsi-ld:Vehicle:"):
            assert entity["location"]["value"] != first["location"]["value"]
            assert entity["location"]["observedAt"] > NOW
            assert entity[SPEED]["unitCode"] == "KMH" and entity[SPEED]["value"] > 0
        if entity_id.startswith("urn:ngsi-ld:AirQualityObserved:"):
            assert entity[NO2]["value"] != first["no2"]["value"]
            assert entity[NO2]["observedAt"] > NOW
    spots = [i for i in stored if i.startswith("urn:ngsi-ld:ParkingSpot:")]
    changed = [i for i in spots if stored[i]["status"]["value"] != initial[i]["status"]["value"]]
    assert changed, "no parking spot changed status in 3 steps at p=0.5"
    # What was sent validates with the command line, as the README says.
    files = sorted(str(p) for p in (tmp_path / "sent").glob("*.json"))
    assert len(files) == 11
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "broker", "validate", *files, stdout=PIPE, stderr=PIPE
    )
    out, err = await cli.communicate()
    assert cli.returncode == 0, out + err
    assert all(orjson.loads(line)["valid"] for line in out.splitlines())


# Retries


async def test_retries_on_503_then_delivers(session: ClientSession) -> None:
    server, requests, bodies = await _fake_broker(
        _problem(503, "LdContextNotAvailable", "busy"),
        _status(503, **{"Retry-After": "0"}),
        _status(204),
    )
    try:
        stats = Stats()
        sender = BatchSender(
            session, str(server.make_url("/")), tenant="nara", policy=FAST, stats=stats
        )
        entity = City(vehicles=1, spots=0, stations=0, seed=1).snapshot(NOW)[0]
        outcome = await sender.send([entity])
    finally:
        await server.close()
    assert outcome.delivered == [entity["id"]] and not outcome.retry_later
    assert len(requests) == 3 and stats.retries == 2 and stats.requests == 3
    assert stats.delivered == 1 and stats.gave_up == 0
    request = requests[-1]
    assert request.query["options"] == "update"
    assert request.content_type == "application/ld+json"
    assert request.headers["NGSILD-Tenant"] == "nara"
    assert bodies[0] == bodies[2] == [entity]


async def test_4xx_is_reported_not_retried(
    session: ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    server, requests, _ = await _fake_broker(
        _problem(400, "BadRequestData", "The entity 'id' must be a URI")
    )
    try:
        stats = Stats()
        sender = BatchSender(session, str(server.make_url("/")), policy=FAST, stats=stats)
        with caplog.at_level(logging.ERROR, logger="kaido.gateway"):
            outcome = await sender.send([{"id": "x", "type": "Vehicle"}])
    finally:
        await server.close()
    assert len(requests) == 1 and stats.retries == 0
    assert outcome.rejected == ["x"] and stats.rejected == 1
    assert "400 Bad Request: BadRequestData: The entity 'id' must be a URI" in caplog.text


async def test_207_keeps_only_what_may_succeed_later(session: ClientSession) -> None:
    result = {
        "success": ["urn:a:1"],
        "errors": [
            {"entityId": "urn:a:2", "error": {"type": "x/BadRequestData", "status": 400}},
            {"entityId": "urn:a:3", "error": {"type": "x/InternalError", "status": 500}},
        ],
    }
    server, _, _ = await _fake_broker(lambda: web.json_response(result, status=207))
    try:
        sender = BatchSender(session, str(server.make_url("/")), policy=FAST)
        outcome = await sender.send([{"id": f"urn:a:{i}"} for i in (1, 2, 3)])
    finally:
        await server.close()
    assert outcome.delivered == ["urn:a:1"]
    assert outcome.rejected == ["urn:a:2"] and outcome.retry_later == ["urn:a:3"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_errors_are_retried_then_kept(session: ClientSession) -> None:
    stats = Stats()
    sender = BatchSender(session, f"http://127.0.0.1:{_closed_port()}", policy=FAST, stats=stats)
    outcome = await sender.send([{"id": "urn:a:1"}])
    assert outcome.retry_later == ["urn:a:1"]
    assert stats.requests == 4 and stats.retries == 3 and stats.gave_up == 1


def test_backoff_grows_with_jitter() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=6.0)
    rng = random.Random(0)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 6.0), (5, 6.0)):
        delays = {policy.delay(retry, rng) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1
    assert policy.delay(1, rng, retry_after=3.0) == 3.0


async def test_gateway_sends_again_what_the_broker_could_not_take() -> None:
    """The broker fails the first cycle: the next one sends the latest state of everything."""
    server, requests, bodies = await _fake_broker(_status(502), _status(204))
    try:
        options = Options(
            url=str(server.make_url("/")),
            vehicles=1,
            spots=2,
            stations=1,
            ticks=2,
            rate=50.0,
            seed=5,
            spot_change_probability=0.0,
            max_retries=0,
        )
        stats = await run(options)
    finally:
        await server.close()
    assert len(requests) == 2 and stats.gave_up == 1 and stats.undelivered == 0
    first, second = ({e["id"] for e in body} for body in bodies)
    assert first == second and len(first) == 4  # the spots did not change: sent from tick 1
    assert bodies[1][0]["location"]["observedAt"] > bodies[0][0]["location"]["observedAt"]


async def test_stops_on_request() -> None:
    server, requests, _ = await _fake_broker(_status(204))
    try:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run(Options(url=str(server.make_url("/")), rate=50.0, vehicles=1), stop)
        )
        await asyncio.sleep(0.1)
        stop.set()
        stats = await asyncio.wait_for(task, 5)
    finally:
        await server.close()
    assert stats.batches == len(requests) >= 2
