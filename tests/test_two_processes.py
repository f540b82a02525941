"""Two real broker processes on one database, as in a scaled-out deployment.

The README ("Several broker processes on one database") promises that a subscription made
through one process is used by every process within about one ``SUBSCRIPTION_POLL``, that
each notification is sent by one process only (outbox items are claimed with a lease), and
that a periodic subscription fires once per interval in total, not once per process. The
notifier tests (tests/notify) check this with several notifiers in one event loop; this
test checks it end to end with two ``python -m broker run`` processes, over HTTP, on one
store (the suite's dev store, or the MongoDB of ``MONGO_URI``), with a receiver on loopback.

It proves what can be proved on one machine without MongoDB: the coordination through the
database between processes (polling, leases, atomic claims). It does not prove anything
about replication, failover or a sharded cluster (see examples/deploy/README.md).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parents[1]
ENTITIES = "/ngsi-ld/v1/entities"
SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
JSON = {"Content-Type": "application/json"}

#: SUBSCRIPTION_POLL and NOTIFY_POLL of both processes, in seconds.
POLL = 0.2
#: The periodic subscription's timeInterval, in seconds, and how long its firings are counted.
INTERVAL = 1.0
WINDOW = 5.5

CHANGES_SUB = "urn:ngsi-ld:Subscription:two-processes-changes"
PERIODIC_SUB = "urn:ngsi-ld:Subscription:two-processes-periodic"
VEHICLES = [f"urn:ngsi-ld:Vehicle:two-processes-{n}" for n in range(1, 5)]
#: Updates per vehicle in the burst (speeds 2..BURST+1, speed 1 is the first update).
BURST = 10


# -- the broker processes ------------------------------------------------------------------


@dataclass
class Broker:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _stop(broker: Broker) -> None:
    """SIGTERM (aiohttp stops cleanly and the notifier hands back its leases), then kill."""
    if broker.process.poll() is None:
        broker.process.terminate()
        try:
            broker.process.wait(10)
        except subprocess.TimeoutExpired:
            broker.process.kill()
            broker.process.wait(10)


@pytest.fixture
def brokers(mongo_uri: str, db_prefix: str, tmp_path: Path) -> Iterator[tuple[Broker, Broker]]:
    """Processes A and B: same store, same MONGO_DB, short polls; stopped in any case."""
    started: list[Broker] = []
    try:
        for name, port in zip("AB", _free_ports(2), strict=True):
            env = {
                **os.environ,
                "MONGO_URI": mongo_uri,
                "MONGO_DB": db_prefix,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "text",
                "SUBSCRIPTION_POLL": str(POLL),
                "NOTIFY_POLL": str(POLL),
                "NOTIFY_BACKOFF_BASE": "0.1",
                "NOTIFY_BACKOFF_MAX": "0.4",
                "NOTIFY_TIMEOUT": "2",
                "NOTIFY_LEASE": "5",
            }
            log = tmp_path / f"broker-{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "broker", "run"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Broker(name, port, process, log))
        yield started[0], started[1]
    finally:
        for broker in started:
            _stop(broker)
        for broker in started:  # shown by pytest when the test failed
            print(f"--- log of broker {broker.name} ---\n{broker.log_tail()}")


async def _wait_healthy(http: aiohttp.ClientSession, broker: Broker, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        if broker.process.poll() is not None:
            raise AssertionError(
                f"broker {broker.name} exited with {broker.process.returncode}:\n"
                + broker.log_tail()
            )
        try:
            async with http.get(broker.url + "/health") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"broker {broker.name} not healthy within {within} s")
        await asyncio.sleep(0.1)


# -- the receiver --------------------------------------------------------------------------


@dataclass
class Receiver:
    """Records every notification POSTed to /notify, with its arrival time (monotonic)."""

    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    def of(self, sub_id: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, body) for t, body in self.received if body["subscriptionId"] == sub_id]

    async def _notify(self, request: web.Request) -> web.Response:
        self.received.append((time.monotonic(), orjson.loads(await request.read())))
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify", self._notify)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, sub_id: str, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while len(self.of(sub_id)) < count:
            if time.monotonic() > deadline:
                got = len(self.of(sub_id))
                raise AssertionError(f"{got} notifications of {sub_id}, expected {count}")
            await asyncio.sleep(0.02)


# -- HTTP helpers --------------------------------------------------------------------------


async def _send(
    http: aiohttp.ClientSession, method: str, url: str, body: Any, expected: int
) -> None:
    data = None if body is None else orjson.dumps(body)
    headers = None if body is None else JSON
    async with http.request(method, url, data=data, headers=headers) as r:
        assert r.status == expected, f"{method} {url}: {r.status} {await r.text()}"


async def _set_speed(http: aiohttp.ClientSession, broker: Broker, entity: str, speed: int) -> None:
    body = {"speed": {"type": "Property", "value": speed}}
    await _send(http, "PATCH", f"{broker.url}{ENTITIES}/{entity}/attrs", body, 204)


def _speeds(bodies: list[dict[str, Any]], entity: str) -> list[int]:
    """Speeds notified about one entity, in the order they arrived."""
    return [d["speed"] for b in bodies for d in b["data"] if d["id"] == entity]


# -- the test ------------------------------------------------------------------------------


async def test_two_broker_processes_share_subscriptions_and_notify_once(
    brokers: tuple[Broker, Broker], mongo_uri: str, db_prefix: str
) -> None:
    a, b = brokers
    receiver = Receiver()
    await receiver.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            await asyncio.gather(_wait_healthy(http, a, 30), _wait_healthy(http, b, 30))

            # The vehicles exist before any subscription (their creation notifies nothing).
            for entity in VEHICLES:
                body = {"id": entity, "type": "Vehicle", "speed": {"type": "Property", "value": 0}}
                await _send(http, "POST", b.url + ENTITIES, body, 201)

            # 1. A subscription created through A is used by B after B's next poll.
            subscription = {
                "id": CHANGES_SUB,
                "type": "Subscription",
                "entities": [{"type": "Vehicle"}],
                "watchedAttributes": ["speed"],
                "notification": {
                    "format": "keyValues",
                    "attributes": ["speed"],
                    "endpoint": {"uri": receiver.url},
                },
            }
            await _send(http, "POST", a.url + SUBSCRIPTIONS, subscription, 201)
            await asyncio.sleep(5 * POLL)
            # Only the process that handles a write matches it against its subscriptions:
            # a notification of this write means that B knows the subscription made via A.
            await _set_speed(http, b, VEHICLES[0], 1)
            await receiver.wait_for(CHANGES_SUB, 1, within=5)
            assert _speeds([body for _, body in receiver.of(CHANGES_SUB)], VEHICLES[0]) == [1]

            # 2. A burst of updates through A and B in turn: the four vehicles in parallel,
            # each vehicle's updates one after the other (so their order is defined).
            async def updates(index: int, entity: str) -> None:
                for i, speed in enumerate(range(2, BURST + 2)):
                    await _set_speed(http, (a, b)[(index + i) % 2], entity, speed)

            await asyncio.gather(*(updates(n, e) for n, e in enumerate(VEHICLES)))
            expected = 1 + BURST * len(VEHICLES)
            await receiver.wait_for(CHANGES_SUB, expected, within=15)
            # Long enough for a duplicate to show up: several outbox polls of each process.
            await asyncio.sleep(5 * POLL)
            bodies = [body for _, body in receiver.of(CHANGES_SUB)]
            ids = Counter(body["id"] for body in bodies)
            assert len(bodies) == expected, f"{len(bodies)} notifications, expected {expected}"
            assert [i for i, n in ids.items() if n > 1] == [], "duplicate notification ids"
            assert all(body["triggerReason"] == "attributeUpdated" for body in bodies)
            assert _speeds(bodies, VEHICLES[0]) == list(range(1, BURST + 2))
            for entity in VEHICLES[1:]:
                assert _speeds(bodies, entity) == list(range(2, BURST + 2)), entity

            # Nothing left behind in the outbox (pending or dead).
            store: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
            try:
                left = await store[db_prefix]["notificationOutbox"].count_documents({})
            finally:
                await store.close()
            assert left == 0, f"{left} notifications left in the outbox"

            # 3. A periodic subscription, made through B: both processes look at it every
            # NOTIFY_POLL, but one firing per interval is claimed in total.
            periodic = {
                "id": PERIODIC_SUB,
                "type": "Subscription",
                "entities": [{"type": "Vehicle", "id": VEHICLES[0]}],
                "timeInterval": INTERVAL,
                "notification": {"format": "keyValues", "endpoint": {"uri": receiver.url}},
            }
            await _send(http, "POST", b.url + SUBSCRIPTIONS, periodic, 201)
            await receiver.wait_for(PERIODIC_SUB, 1, within=5)
            first = receiver.of(PERIODIC_SUB)[0][0]
            await asyncio.sleep(max(0.0, first + WINDOW - time.monotonic()))
            times = [t for t, _ in receiver.of(PERIODIC_SUB) if t <= first + WINDOW]
            # Once per interval: 5 or 6 firings in 5.5 s (an interval is 1 s plus up to one
            # scheduler tick); once per process would be about twice that, in pairs a tick
            # apart. Gaps are arrival times, so a slow delivery followed by a prompt one can
            # be well under 1 s on a loaded machine: hence the margin.
            assert 4 <= len(times) <= 7, f"{len(times)} periodic notifications in {WINDOW} s"
            gaps = [later - earlier for earlier, later in pairwise(times)]
            assert min(gaps) > INTERVAL / 4, f"two firings within one interval: {gaps}"
            assert all(
                body["triggerReason"] == "timeInterval"
                and [d["id"] for d in body["data"]] == [VEHICLES[0]]
                for _, body in receiver.of(PERIODIC_SUB)
            )

            # Deleted through A, it stops everywhere: B can no longer claim a firing.
            await _send(http, "DELETE", f"{a.url}{SUBSCRIPTIONS}/{PERIODIC_SUB}", None, 204)
            deleted = time.monotonic()
            await asyncio.sleep(INTERVAL + 5 * POLL)
            late = [t - deleted for t, _ in receiver.of(PERIODIC_SUB) if t > deleted + 0.5]
            assert late == [], f"periodic notifications after the deletion: {late}"
            print(  # shown with -s: what was measured
                f"changes: {len(bodies)} notifications, {len(ids)} distinct ids; "
                f"periodic: {len(times)} in {WINDOW} s, gaps {[round(g, 2) for g in gaps]}"
            )
    finally:
        await receiver.stop()
