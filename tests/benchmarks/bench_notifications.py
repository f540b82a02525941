"""Notification fan-out benchmark (`make bench`): writes in, notifications out, over HTTP.

Runs the dev store (or MONGO_URI) and the broker as their own processes, and in this
process a load generator and an aiohttp receiver on 127.0.0.1 that notes the arrival time
and id of every notification. Updates (PATCH /ngsi-ld/v1/entities/{id}/attrs) are sent at
a fixed rate (open loop: the next update does not wait for the previous answer) for a
bounded time, round-robin over a few Vehicle entities, each carrying its sequence number
as the value of `speed`; the script then waits (bounded) for every expected notification.

Scenarios (rates and durations are options; the defaults take about 2 minutes on 2 cores):

- a: 1 subscription, it matches every update (1 notification per update), 200 updates/s
  for 10 s;
- b: 100 subscriptions, they all match (100 notifications per update), 50 updates/s for
  2 s: 10,000 notifications offered at 5,000/s (well above the 2,000/s target, so that the
  rate delivered is the broker's, not the offer's);
- c-types: 10,000 subscriptions, 9,999 of them on other entity types (the index by type
  leaves them out) and the one of scenario a;
- c-ids: 10,000 subscriptions on 10,000 distinct Vehicle ids (all of the updated type),
  one per updated entity, so each update matches exactly one of them. The 9,999 of
  c-types are still there, on other types. 200 updates/s for 2 s.

Printed per scenario: updates/s sustained, notifications/s delivered (distinct
notifications received / time from the first update to the last arrival), p50/p99 latency
from the update's HTTP response to the notification's arrival at the receiver, lost
notifications (expected (subscription, update) pairs never received) and duplicates, and
the CPU time per update of the broker process, of the dev store process and of this
script (psutil; the broker's and the store's less what they burn idle in the same state).
For c: the broker's CPU per update against scenario a (the difference approximates the
matching of 10,000 subscriptions), the broker's RSS before/after creating them, and the
matching step alone timed in this process on the same subscriptions (the broker's own
code, without the HTTP and store work around it, so without their noise). The baseline is
this script POSTing a notification body captured in scenario a to the same receiver with
as many requests in flight as the broker uses per endpoint (8).

This is a script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp
import orjson
import psutil
from aiohttp import web
from harness import ROOT, free_port, start_broker, wait_until_up

sys.path.insert(0, ROOT)

from broker.devstore import start_subprocess

JSON = {"Content-Type": "application/json"}
ENTITIES = "/ngsi-ld/v1/entities"
SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
SUB_PREFIX = "urn:ngsi-ld:Subscription:bench-"
#: NOTIFY_PER_ENDPOINT's default: the broker's deliveries in flight to one receiver.
PER_ENDPOINT = 8


def vehicle_id(n: int) -> str:
    return f"urn:ngsi-ld:Vehicle:{n}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


# -- the receiver --------------------------------------------------------------------------


@dataclass
class Receiver:
    """Notes every notification: (subscription, update number) -> first arrival time."""

    #: (subscriptionId, update number) -> perf_counter() at the first arrival.
    first: dict[tuple[str, int], float] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    duplicates: int = 0
    received: int = 0
    last_arrival: float = 0.0
    #: One notification as it arrived (headers, body), for the baseline.
    sample: tuple[dict[str, str], bytes] | None = None
    #: Baseline mode: count the requests, look at nothing.
    sink: bool = False
    sunk: int = 0

    def reset(self) -> None:
        self.first.clear()
        self.ids.clear()
        self.duplicates = self.received = 0
        self.last_arrival = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        arrival = time.perf_counter()
        if self.sink:
            self.sunk += 1
            return web.Response(status=204)
        doc = orjson.loads(body)
        self.received += 1
        self.last_arrival = arrival
        if doc["id"] in self.ids:
            self.duplicates += 1
            return web.Response(status=204)
        self.ids.add(doc["id"])
        if self.sample is None:
            headers = {k: v for k, v in request.headers.items() if k in ("Content-Type", "Link")}
            self.sample = (headers, body)
        for entity in doc["data"]:
            key = (doc["subscriptionId"], int(entity["speed"]["value"]))
            if key in self.first:
                self.duplicates += 1  # the same change notified twice under two ids
            else:
                self.first[key] = arrival
        return web.Response(status=204)


# -- the broker, seen from outside -----------------------------------------------------------


@dataclass
class Broker:
    http: aiohttp.ClientSession
    base: str
    proc: psutil.Process
    #: The dev store's process (None with MONGO_URI), and this script's own.
    store: psutil.Process | None
    me: psutil.Process = field(default_factory=psutil.Process)
    #: Update numbers run on across scenarios, so that a late notification of one
    #: scenario is never taken for one of the next.
    next_seq: int = 0

    def rss_mib(self) -> float:
        return float(self.proc.memory_info().rss) / 2**20

    def store_cpu(self) -> float:
        return cpu_seconds(self.store) if self.store else 0.0

    async def idle_cpu(self, seconds: float) -> tuple[float, float]:
        """CPU seconds per second of the broker and of the dev store while no request is
        made (the broker's subscription and outbox polling, and what it costs the store)."""
        cpu0, store0 = cpu_seconds(self.proc), self.store_cpu()
        await asyncio.sleep(seconds)
        return (cpu_seconds(self.proc) - cpu0) / seconds, (self.store_cpu() - store0) / seconds

    async def post_subscription(self, body: dict[str, Any]) -> None:
        async with self.http.post(self.base + SUBSCRIPTIONS, json=body, headers=JSON) as r:
            assert r.status == 201, await r.text()

    async def delete_subscription(self, sub_id: str) -> None:
        async with self.http.delete(f"{self.base}{SUBSCRIPTIONS}/{sub_id}") as r:
            assert r.status == 204, await r.text()


async def bounded(jobs: Iterable[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    work = iter(jobs)

    async def worker() -> None:
        for job in work:
            await job()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def subscription(sub_id: str, selector: dict[str, str], uri: str) -> dict[str, Any]:
    return {
        "id": sub_id,
        "type": "Subscription",
        "entities": [selector],
        "watchedAttributes": ["speed"],
        "notification": {"attributes": ["speed"], "endpoint": {"uri": uri}},
    }


# -- one scenario -------------------------------------------------------------------------------


@dataclass
class Outcome:
    name: str
    subscriptions: int
    updates: int
    update_seconds: float
    update_failures: int
    expected: int
    delivered: int
    duplicates: int
    deliver_seconds: float
    latencies: list[float]
    cpu_per_update: float
    idle_cpu: float
    store_idle_cpu: float
    #: CPU seconds per update of the dev store (None: MONGO_URI) and of this script.
    store_cpu_per_update: float | None
    script_cpu_per_update: float

    @property
    def update_rate(self) -> float:
        return self.updates / self.update_seconds

    @property
    def notification_rate(self) -> float:
        return self.delivered / self.deliver_seconds if self.deliver_seconds else 0.0

    @property
    def lost(self) -> int:
        return self.expected - self.delivered


async def run_scenario(
    name: str,
    broker: Broker,
    receiver: Receiver,
    *,
    subscriptions: int,
    matching: Callable[[int], list[str]],
    entities: int,
    rate: float,
    seconds: float,
    wait: float,
    idle_seconds: float,
) -> Outcome:
    """Send rate x seconds updates at a fixed rate, wait for their notifications."""
    idle, store_idle = await broker.idle_cpu(idle_seconds)
    receiver.reset()
    count = max(1, round(rate * seconds))
    first_seq = broker.next_seq
    broker.next_seq += count
    answered: dict[int, float] = {}
    failures = 0

    async def update(seq: int) -> None:
        nonlocal failures
        url = f"{broker.base}{ENTITIES}/{vehicle_id(seq % entities)}/attrs"
        body = {"speed": {"type": "Property", "value": seq}}
        try:
            async with broker.http.patch(url, json=body, headers=JSON) as r:
                await r.read()
                if r.status == 204:
                    answered[seq] = time.perf_counter()
                else:
                    failures += 1
        except aiohttp.ClientError:
            failures += 1

    loop = asyncio.get_running_loop()
    store0 = broker.store_cpu()
    me0 = cpu_seconds(broker.me)
    cpu0 = cpu_seconds(broker.proc)
    t0 = time.perf_counter()
    start = loop.time()
    tasks: list[asyncio.Task[None]] = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(update(first_seq + i)))
    await asyncio.gather(*tasks)
    update_seconds = time.perf_counter() - t0

    expected = {(sub, seq) for seq in answered for sub in matching(seq % entities)}
    deadline = time.perf_counter() + wait
    while time.perf_counter() < deadline:
        if sum(1 for key in expected if key in receiver.first) == len(expected):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # late duplicates, if any
    cpu = cpu_seconds(broker.proc) - cpu0
    me_cpu = cpu_seconds(broker.me) - me0
    busy = time.perf_counter() - t0  # the window the CPU times were read over
    cpu = max(0.0, cpu - idle * busy)
    store_cpu = max(0.0, broker.store_cpu() - store0 - store_idle * busy) if broker.store else None
    got = [key for key in expected if key in receiver.first]
    latencies = [receiver.first[key] - answered[key[1]] for key in got]
    return Outcome(
        name=name,
        subscriptions=subscriptions,
        updates=len(answered),
        update_seconds=update_seconds,
        update_failures=failures,
        expected=len(expected),
        delivered=len(got),
        duplicates=receiver.duplicates,
        deliver_seconds=(receiver.last_arrival - t0) if got else 0.0,
        latencies=latencies,
        cpu_per_update=cpu / max(1, len(answered)),
        idle_cpu=idle,
        store_idle_cpu=store_idle,
        store_cpu_per_update=None if store_cpu is None else store_cpu / max(1, len(answered)),
        script_cpu_per_update=me_cpu / max(1, len(answered)),
    )


# -- the baseline -------------------------------------------------------------------------------


@dataclass
class Baseline:
    count: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds


async def direct_posts(
    http: aiohttp.ClientSession, receiver: Receiver, url: str, count: int
) -> Baseline:
    """The same notification POSTed by this script to the same receiver, 8 in flight."""
    assert receiver.sample is not None, "no notification arrived to copy"
    headers, body = receiver.sample
    latencies: list[float] = []

    async def post() -> None:
        t = time.perf_counter()
        async with http.post(url, data=body, headers=headers) as r:
            await r.read()
            assert r.status == 204
        latencies.append(time.perf_counter() - t)

    receiver.sink = True
    try:
        t0 = time.perf_counter()
        await bounded((post for _ in range(count)), PER_ENDPOINT)
        seconds = time.perf_counter() - t0
    finally:
        receiver.sink = False
    return Baseline(count, seconds, latencies)


# -- matching alone, in this process ----------------------------------------------------------


def matching_cost(layouts: dict[str, list[dict[str, Any]]], min_seconds: float) -> dict[str, float]:
    """CPU seconds per update of the matching step alone, as Notifier.entities_changed does
    it (attribute diff, index candidates, match_change on each), for each set of
    subscriptions; the update is the benchmark's (speed of Vehicle 0), one match expected."""
    from broker.ngsild.changes import EntityChange
    from broker.ngsild.context import CORE
    from broker.ngsild.matching import (
        SubscriptionIndex,
        attribute_diff,
        compile_subscription,
        match_change,
    )
    from broker.ngsild.parse import parse_entity
    from broker.ngsild.subscription import parse_subscription

    now = "2026-11-27T09:00:00.000Z"
    later = "2026-11-27T09:00:01.000Z"

    def state(value: int, when: str) -> Any:
        body = {
            "id": vehicle_id(0),
            "type": "Vehicle",
            "speed": {"type": "Property", "value": value},
        }
        return parse_entity(body, CORE, when)

    old, new = state(1, now), state(2, later)
    change = EntityChange(None, vehicle_id(0), old, new)
    costs: dict[str, float] = {}
    for name, bodies in layouts.items():
        index = SubscriptionIndex()
        for body in bodies:
            sub = parse_subscription(body, CORE, now, body["id"])
            index.put(compile_subscription(None, sub, 1, CORE, CORE, None))
        rounds = 0
        matched = 0
        t0 = time.process_time()
        while True:
            diff = attribute_diff(change.old, change.new)
            for compiled in index.candidates(change, diff):
                if match_change(compiled, change, diff, later) is not None:
                    matched += 1
            rounds += 1
            elapsed = time.process_time() - t0
            if elapsed >= min_seconds and rounds >= 10:
                break
        assert matched == rounds, f"{name}: {matched} matches in {rounds} updates"
        costs[name] = elapsed / rounds
    return costs


# -- the whole run ------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value * 1e3:.1f}"


def us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.0f}"


@dataclass
class Memory:
    name: str
    count: int
    seconds: float
    rss_before: float
    rss_after: float

    @property
    def added(self) -> float:
        return self.rss_after - self.rss_before


def print_report(
    outcomes: list[Outcome],
    baseline: Baseline,
    memory: list[Memory],
    matching: dict[str, float],
) -> None:
    header = (
        f"{'scenario':<8} {'subs':>6} {'upd/s':>6} {'notif/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'expected':>8} {'lost':>5} {'dups':>4} {'broker us/upd':>13} {'us/notif':>8} "
        f"{'store us/upd':>12} {'script us/upd':>13} {'idle ms/s':>9} {'vs direct':>9}"
    )
    print("\n" + header)
    print("-" * len(header))
    for o in outcomes:
        per_notification = o.cpu_per_update * o.updates / max(1, o.delivered)
        idle = f"{o.idle_cpu * 1e3:.0f}/{o.store_idle_cpu * 1e3:.0f}"
        print(
            f"{o.name:<8} {o.subscriptions:>6} {o.update_rate:>6.0f} {o.notification_rate:>7.0f} "
            f"{ms(percentile(o.latencies, 0.5)):>8} {ms(percentile(o.latencies, 0.99)):>8} "
            f"{o.expected:>8} {o.lost:>5} {o.duplicates:>4} {us(o.cpu_per_update):>13} "
            f"{us(per_notification):>8} {us(o.store_cpu_per_update):>12} "
            f"{us(o.script_cpu_per_update):>13} {idle:>9} "
            f"{o.notification_rate / baseline.rate:>9.3f}"
        )
    print(
        f"{'direct':<8} {'':>6} {'':>6} {baseline.rate:>7.0f} "
        f"{ms(percentile(baseline.latencies, 0.5)):>8} "
        f"{ms(percentile(baseline.latencies, 0.99)):>8}   this script POSTing a notification of "
        f"a to the same receiver, {PER_ENDPOINT} in flight ({baseline.count} requests)"
    )
    print(
        "upd/s: updates answered / time to answer them; notif/s: distinct notifications "
        "received / time from the first update to the last arrival; latency: the update's "
        "response to the notification's arrival; broker/store us/upd: CPU of that process "
        "(psutil) per update, less its idle CPU (idle ms/s: broker/store) over the same time; "
        "us/notif: broker CPU per notification; script: load generator + receiver"
    )
    for o in outcomes:
        if o.update_failures:
            print(f"{o.name}: {o.update_failures} updates failed (not counted as expected)")
    reference = next((o for o in outcomes if o.name == "a"), None)
    if reference is not None:
        for o in outcomes:
            if o.name.startswith("c"):
                diff = o.cpu_per_update - reference.cpu_per_update
                print(
                    f"{o.name}: broker CPU {us(o.cpu_per_update)} us per update with "
                    f"{o.subscriptions:,} subscriptions vs {us(reference.cpu_per_update)} us "
                    f"with 1 (a): matching ~ {diff * 1e6:+.0f} us per update"
                )
    for m in memory:
        print(
            f"{m.name}: {m.count:,} subscriptions created in {m.seconds:.0f} s "
            f"({m.count / m.seconds:.0f}/s); broker RSS {m.rss_before:.0f} -> "
            f"{m.rss_after:.0f} MiB: +{m.added:.1f} MiB ({m.added * 2**20 / m.count:,.0f} bytes "
            "per subscription)"
        )
    if matching:
        print(
            "matching alone, in this process (attribute diff + index candidates + "
            "match_change, as Notifier.entities_changed; no rendering, no outbox):"
        )
        for name, cost in matching.items():
            print(f"  {name}: {cost * 1e6:,.1f} us per update")


async def bench(args: argparse.Namespace, mongo_uri: str, store_pid: int | None) -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/notify", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    recv_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", recv_port, backlog=1024).start()
    notify_uri = f"http://127.0.0.1:{recv_port}/notify"

    broker_process, base = start_broker(mongo_uri, f"kaidobenchnotify{os.getpid()}")
    try:
        connector = aiohttp.TCPConnector(limit=args.connections)
        async with aiohttp.ClientSession(connector=connector) as http:
            await wait_until_up(http, base)
            store = psutil.Process(store_pid) if store_pid else None
            broker = Broker(http, base, psutil.Process(broker_process.pid), store)
            await Run(args, broker, receiver, notify_uri).run()
    finally:
        broker_process.terminate()
        broker_process.wait(15)
        await runner.cleanup()


class Run:
    """The scenarios in order, on one broker: a, direct, b, c-types, c-ids."""

    def __init__(
        self, args: argparse.Namespace, broker: Broker, receiver: Receiver, uri: str
    ) -> None:
        self.args = args
        self.broker = broker
        self.receiver = receiver
        self.outcomes: list[Outcome] = []
        self.memory: list[Memory] = []
        self.sub_a = subscription(SUB_PREFIX + "a", {"type": "Vehicle"}, uri)
        self.fan = [
            subscription(SUB_PREFIX + f"b-{i}", {"type": "Vehicle"}, uri)
            for i in range(args.fan_out - 1)
        ]
        many = args.many
        #: c-types: 9,999 subscriptions on other types, next to sub_a.
        self.others = [
            subscription(SUB_PREFIX + f"t-{i}", {"type": f"Tram{i}"}, uri)
            for i in range(max(0, many - 1))
        ]
        #: c-ids: one subscription per Vehicle id; update of Vehicle n matches the one on n.
        self.by_id = [
            subscription(SUB_PREFIX + f"id-{i}", {"type": "Vehicle", "id": vehicle_id(i)}, uri)
            for i in range(many)
        ]

    async def scenario(
        self,
        name: str,
        subscriptions: int,
        matching: Callable[[int], list[str]],
        rate: float,
        seconds: float,
        entities: int | None = None,
    ) -> Outcome:
        print(
            f"{name}: {subscriptions:,} subscription{'s' if subscriptions != 1 else ''}, "
            f"{rate:g} updates/s for {seconds:g} s",
            flush=True,
        )
        outcome = await run_scenario(
            name,
            self.broker,
            self.receiver,
            subscriptions=subscriptions,
            matching=matching,
            entities=entities or self.args.entities,
            rate=rate,
            seconds=seconds,
            wait=self.args.wait,
            idle_seconds=self.args.idle_seconds,
        )
        print(
            f"  {outcome.updates} updates at {outcome.update_rate:.0f}/s, "
            f"{outcome.delivered}/{outcome.expected} notifications at "
            f"{outcome.notification_rate:.0f}/s, p99 {ms(percentile(outcome.latencies, 0.99))} "
            f"ms, broker CPU {us(outcome.cpu_per_update)} us/update",
            flush=True,
        )
        self.outcomes.append(outcome)
        return outcome

    async def create(self, name: str, bodies: list[dict[str, Any]]) -> None:
        """Create many subscriptions, noting the broker's RSS before and after."""
        settle = 7.0  # the subscription poll reads the last ~5 s of changes again
        await asyncio.sleep(2)
        rss0 = self.broker.rss_mib()
        t0 = time.perf_counter()
        await bounded((partial(self.broker.post_subscription, b) for b in bodies), 8)
        seconds = time.perf_counter() - t0
        await asyncio.sleep(settle)
        memory = Memory(name, len(bodies), seconds, rss0, self.broker.rss_mib())
        print(
            f"  {memory.count:,} subscriptions created in {seconds:.0f} s; broker RSS "
            f"+{memory.added:.1f} MiB",
            flush=True,
        )
        self.memory.append(memory)

    async def run(self) -> None:
        args, broker = self.args, self.broker
        for n in range(args.entities):
            body = {
                "id": vehicle_id(n),
                "type": "Vehicle",
                "speed": {"type": "Property", "value": 0},
            }
            async with broker.http.post(broker.base + ENTITIES, json=body, headers=JSON) as r:
                assert r.status == 201, await r.text()

        sub_a = self.sub_a["id"]
        await broker.post_subscription(self.sub_a)
        await self.scenario("a", 1, lambda e: [sub_a], args.rate_a, args.seconds_a)
        baseline = await direct_posts(broker.http, self.receiver, self.sub_a_uri, args.direct)
        print(f"direct: {baseline.count} POSTs at {baseline.rate:.0f}/s", flush=True)

        await bounded((partial(broker.post_subscription, b) for b in self.fan), 8)
        subs_b = [sub_a, *(b["id"] for b in self.fan)]
        await self.scenario("b", len(subs_b), lambda e: subs_b, args.rate_b, args.seconds_b)
        await bounded((partial(broker.delete_subscription, b["id"]) for b in self.fan), 8)

        if args.many:
            print(f"c-types: creating {len(self.others):,} subscriptions on other types")
            await self.create("c-types", self.others)
            await self.scenario(
                "c-types", args.many, lambda e: [sub_a], args.rate_a, args.seconds_c
            )
            await broker.delete_subscription(sub_a)
            print(f"c-ids: creating {len(self.by_id):,} subscriptions on distinct Vehicle ids")
            await self.create("c-ids", self.by_id)
            await self.scenario(
                "c-ids",
                args.many,
                lambda e: [SUB_PREFIX + f"id-{e}"],
                args.rate_c_ids,
                args.seconds_c_ids,
                entities=min(args.entities, args.many),
            )

        matching: dict[str, float] = {}
        if args.many:
            matching = matching_cost(
                {
                    "1 subscription (a)": [self.sub_a],
                    f"{args.many:,}, 1 on the type (c-types)": [self.sub_a, *self.others],
                    f"{args.many:,} on distinct ids of the type (c-ids)": [
                        *self.others,
                        *self.by_id,
                    ],
                },
                min_seconds=0.5,
            )
        print(
            f"\nmachine: {psutil.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"{os.uname().machine}; broker, store and this script share them; "
            f"{args.entities} entities updated round-robin"
        )
        print_report(self.outcomes, baseline, self.memory, matching)

    @property
    def sub_a_uri(self) -> str:
        uri: str = self.sub_a["notification"]["endpoint"]["uri"]
        return uri


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=20, help="entities updated in turn")
    parser.add_argument("--rate-a", type=float, default=200, help="updates/s in a and c-types")
    parser.add_argument("--seconds-a", type=float, default=10)
    parser.add_argument("--fan-out", type=int, default=100, help="subscriptions in b")
    parser.add_argument(
        "--rate-b", type=float, default=50, help="updates/s in b (x fan-out notifications/s)"
    )
    parser.add_argument("--seconds-b", type=float, default=2)
    parser.add_argument("--many", type=int, default=10_000, help="subscriptions in c (0: no c)")
    parser.add_argument("--seconds-c", type=float, default=10, help="seconds of c-types")
    parser.add_argument("--rate-c-ids", type=float, default=200, help="updates/s in c-ids")
    parser.add_argument("--seconds-c-ids", type=float, default=2)
    parser.add_argument("--wait", type=float, default=90, help="longest wait for the rest")
    parser.add_argument("--direct", type=int, default=5000, help="POSTs in the baseline")
    parser.add_argument("--connections", type=int, default=256, help="client connections")
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(
        f"machine: {psutil.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"{os.uname().machine}",
        flush=True,
    )
    uri = os.environ.get("MONGO_URI")
    if uri:
        print("store: MongoDB at MONGO_URI", flush=True)
        asyncio.run(bench(args, uri, None))
        return
    devstore = start_subprocess()
    print("store: kaido dev store (in memory) in its own process", flush=True)
    try:
        asyncio.run(bench(args, devstore.uri, devstore.pid))
    finally:
        devstore.stop()


if __name__ == "__main__":
    main()
